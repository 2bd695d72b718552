import os from 'node:os';
import path from 'node:path';
import { PgferryError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { probeClientVersion, verifyClientTools, type ClientTools } from './tools.js';
import { downloadClient } from './download.js';
import { DirectoryStore, temporaryStore, type ClientStore } from './store.js';
import { findInstalledClient } from './installed.js';
import { currentPlatform, rustTarget, type PlatformInfo } from './platform.js';
import { listReleaseVersions, releaseSource, type ReleaseSource } from './releases.js';
import { formatVersion, MAX_MAJOR, MIN_MAJOR, parseVersionString, type PgVersion } from '../version.js';

export interface ProvisionOptions {
  log: Logger;
  /** An explicit bin directory: used as is, whatever else is available. */
  binDir?: string;
  /** Base URL of a mirror laid out like the releases (`mirror` input). */
  mirror?: string;
  /** false: download into a temporary directory and keep nothing (`cache` input). */
  cache?: boolean;
  cacheDir?: string;
  /** Replaces the cache directory with another store (the Action: the runner's tool cache). */
  store?: ClientStore;
  /** Replaces the places searched for installed clients (default: packaged locations and PATH). */
  installedDirs?: (major: number) => string[];
  /** Token for the GitHub releases API (rate limits). */
  token?: string;
  platform?: PlatformInfo;
  signal?: AbortSignal;
  /**
   * false: never download (the Lambda runs from its pre-staged layer); `offlineHint` then says how
   * to get a missing major.
   */
  downloads?: boolean;
  offlineHint?: string;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PGFERRY_CACHE_DIR) return env.PGFERRY_CACHE_DIR;
  if (process.platform === 'win32' && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, 'pgferry', 'pg');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches', 'pgferry', 'pg');
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'pgferry', 'pg');
}

/**
 * Finds client tools of a wanted version in the order of DESIGN.md: explicit bin dir → installed
 * clients of that major → cache → download. Answers "which majors can be had" for the version
 * policy, asking the network only when nothing local has the major.
 */
export class ClientCatalog {
  private readonly source: ReleaseSource;
  private releaseList?: Promise<string[]>;
  private explicit?: Promise<ClientTools>;

  constructor(private readonly options: ProvisionOptions) {
    this.source = releaseSource(options.mirror);
  }

  get unavailableHint(): string | undefined {
    if (this.options.downloads !== false) return undefined;
    return `none is staged or cached here and downloads are off${this.options.offlineHint ? `; ${this.options.offlineHint}` : ''}`;
  }

  get cacheDir(): string {
    return this.options.cacheDir ?? defaultCacheDir();
  }

  private target(): string {
    return rustTarget(this.options.platform ?? currentPlatform());
  }

  private explicitTools(): Promise<ClientTools> | undefined {
    const dir = this.options.binDir;
    if (!dir) return undefined;
    this.explicit ??= (async () => {
      const want = await probeClientVersion(dir);
      return verifyClientTools(dir, want, 'explicit');
    })();
    return this.explicit;
  }

  private releases(): Promise<string[]> {
    if (this.options.downloads === false) return Promise.resolve([]);
    this.releaseList ??= listReleaseVersions(this.source, this.options.log, {
      token: this.options.token,
      signal: this.options.signal,
    });
    return this.releaseList;
  }

  private installed(major: number, minor?: number): Promise<ClientTools | undefined> {
    return findInstalledClient(major, minor, this.options.installedDirs?.(major));
  }

  private storeInstance?: Promise<ClientStore>;
  private store(): Promise<ClientStore> {
    this.storeInstance ??=
      this.options.cache === false
        ? temporaryStore()
        : Promise.resolve(this.options.store ?? new DirectoryStore(this.cacheDir));
    return this.storeInstance;
  }

  /** Complete cache entries of this platform, as release versions (`17.5.0`). */
  async cachedVersions(): Promise<string[]> {
    if (this.options.cache === false) return [];
    return (await this.store()).versions(this.target());
  }

  /** Whether some version of `major` can be had, without downloading it. */
  async canProvide(major: number): Promise<boolean> {
    const explicit = this.explicitTools();
    if (explicit) return (await explicit).version.major === major;
    if (await this.installed(major)) return true;
    if ((await this.cachedVersions()).some((v) => parseVersionString(v)?.major === major)) return true;
    return (await this.releases()).some((v) => parseVersionString(v)?.major === major);
  }

  /** The lowest major ≥ `from` that can be had (DESIGN: "lowest newer available"). */
  async lowestAvailableFrom(from: number, upTo: number): Promise<number | undefined> {
    for (let major = from; major <= upTo; major++) if (await this.canProvide(major)) return major;
    return undefined;
  }

  /** The newest major that can be had (install with postgres-version auto and no server). */
  async highestAvailable(): Promise<number | undefined> {
    for (let major = MAX_MAJOR; major >= MIN_MAJOR; major--) if (await this.canProvide(major)) return major;
    return undefined;
  }

  /** The client a version policy chose, its warnings said first. */
  async provideChosen(
    choice: { version: PgVersion; warnings: readonly string[] },
    log: Logger,
  ): Promise<ClientTools> {
    choice.warnings.forEach((w) => log.warn(w));
    return this.provide(choice.version);
  }

  /** Tools of exactly `want` (a major, or major.minor), verified by `--version`. */
  async provide(want: PgVersion): Promise<ClientTools> {
    const explicit = this.explicitTools();
    if (explicit) {
      const tools = await explicit;
      return verifyClientTools(tools.binDir, want, 'explicit');
    }
    const installed = await this.installed(want.major, want.minor);
    if (installed) return installed;

    const matches = (v: string): boolean => {
      const p = parseVersionString(v);
      return p?.major === want.major && (want.minor === undefined || p.minor === want.minor);
    };
    const cached = (await this.cachedVersions()).filter(matches).sort(compareReleaseVersions);
    const hit = cached.at(-1);
    if (hit) {
      const binDir = (await this.store()).binDir(hit, this.target());
      return verifyClientTools(binDir, parseVersionString(hit) ?? want, 'cache');
    }

    const published = (await this.releases()).filter(matches).sort(compareReleaseVersions);
    const version = published.at(-1);
    if (!version && this.options.downloads === false) {
      throw new PgferryError(
        `PostgreSQL client ${formatVersion(want)} can not be had: ${this.unavailableHint ?? ''}`,
      );
    }
    if (!version) {
      throw new PgferryError(
        `PostgreSQL client ${formatVersion(want)} is not installed and ${this.source.isMirror ? `the mirror ${this.source.base}` : 'the releases'} do not publish it`,
      );
    }
    return downloadClient({
      source: this.source,
      version,
      target: this.target(),
      store: await this.store(),
      log: this.options.log,
      signal: this.options.signal,
    });
  }
}

export function compareReleaseVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
