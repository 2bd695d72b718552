import os from 'node:os';
import path from 'node:path';
import { errorCode, InputError, PgferryError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { probeClientVersion, verifyClientTools, type ClientTools } from './tools.js';
import { downloadClient } from './download.js';
import { displayUrl } from './http-get.js';
import { DirectoryStore, temporaryStore, type ClientStore } from './store.js';
import { findInstalledClient } from './installed.js';
import { currentPlatform, rustTarget, type PlatformInfo } from './platform.js';
import { listReleaseVersions, type ReleaseSource } from './releases.js';
import type { ClientSourceName } from './client-source.js';
import { PgdgSource } from './pgdg.js';
import { downloadSources } from './download-sources.js';
import { formatVersion, MIN_MAJOR, parseVersionString, type PgVersion } from '../version.js';
import { KNOWN_MAJORS } from '../known-majors.js';
import {
  belowFloorMessage,
  INPUT as MIN_CLIENT_VERSION,
  isSafeClient,
  refusesUnsafe,
  requiredMinor,
  type MinClientVersion,
} from '../client-floor.js';

export interface ProvisionOptions {
  log: Logger;
  /** An explicit bin directory: used as is, whatever else is available. */
  binDir?: string;
  /** The `mirror` input: what it names per client source is in download-sources.ts. */
  mirror?: string;
  /** Which source alone to use (`client-source`); auto: installed → cache → releases → pgdg. */
  clientSource?: ClientSourceName;
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
  /** What to do with clients below the security floor (`min-client-version`; default any). */
  minClientVersion?: MinClientVersion;
  /**
   * Test only: the armored OpenPGP public key the PGDG repository's InRelease must be signed with,
   * instead of the pinned PGDG archive key (tests sign a loopback repository with a throwaway key).
   */
  pgdgKey?: string;
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
  private readonly source?: ReleaseSource;
  private readonly pgdg?: PgdgSource;
  private releaseList?: Promise<string[]>;
  private pgdgList?: Promise<string[]>;
  private explicit?: Promise<ClientTools>;

  constructor(private readonly options: ProvisionOptions) {
    const sources = downloadSources(
      options.clientSource ?? 'auto',
      options.mirror,
      options.platform ?? currentPlatform(),
    );
    this.source = sources.releases;
    if (sources.pgdg) this.pgdg = new PgdgSource(sources.pgdg, options.signal, options.pgdgKey);
  }

  private get sourceName(): ClientSourceName {
    return this.options.clientSource ?? 'auto';
  }

  /** Installed clients count under auto and installed only; a pinned download source skips them. */
  private get usesInstalled(): boolean {
    return this.sourceName === 'auto' || this.sourceName === 'installed';
  }

  /** The cache holds what the download sources put there, so it counts for them too. */
  private get usesCache(): boolean {
    return this.sourceName !== 'installed';
  }

  /** Whether `from` is one of the sources this run downloads from. */
  private downloadsFrom(from: 'releases' | 'pgdg'): boolean {
    if (this.options.downloads === false) return false;
    if (from === 'releases' && !this.source) return false;
    if (from === 'pgdg' && !this.pgdg) return false;
    return this.sourceName === 'auto' || this.sourceName === from;
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
    if (!this.source || !this.downloadsFrom('releases')) return Promise.resolve([]);
    this.releaseList ??= listReleaseVersions(this.source, this.options.log, {
      token: this.options.token,
      signal: this.options.signal,
    });
    return this.releaseList;
  }

  /**
   * Versions the PGDG index holds. Under auto it is the fallback: an unreachable repository is no
   * version there (said at debug); a bad signature or index still stops the run.
   */
  private pgdgVersions(): Promise<string[]> {
    const pgdg = this.pgdg;
    if (!pgdg || !this.downloadsFrom('pgdg')) return Promise.resolve([]);
    this.pgdgList ??= pgdg.versions().catch((error: unknown) => {
      if (this.sourceName !== 'auto' || errorCode(error) !== 'http' || this.options.signal?.aborted)
        throw error;
      this.options.log.debug(`PGDG apt repository unavailable (${(error as Error).message})`);
      return [];
    });
    return this.pgdgList;
  }

  /** Downloadable versions matching `matches`, newest first per source, fastest source first. */
  private async *offers(matches: (v: string) => boolean): AsyncGenerator<DownloadOffer> {
    const fromReleases = (await this.releases()).filter(matches).sort(compareReleaseVersions).at(-1);
    if (fromReleases) yield { version: fromReleases, via: 'releases' };
    // Asked only when the releases lack the version or could not deliver it.
    const fromPgdg = (await this.pgdgVersions()).filter(matches).sort(compareReleaseVersions).at(-1);
    if (fromPgdg) yield { version: fromPgdg, via: 'pgdg' };
  }

  private installed(
    major: number,
    minor?: number,
    prefer?: (version: PgVersion) => boolean,
  ): Promise<ClientTools | undefined> {
    if (!this.usesInstalled) return Promise.resolve(undefined);
    return findInstalledClient(major, minor, this.options.installedDirs?.(major), prefer);
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
    if (this.options.cache === false || !this.usesCache) return [];
    return (await this.store()).versions(this.target());
  }

  /** Whether some version of `major` can be had, without downloading it. */
  async canProvide(major: number): Promise<boolean> {
    const explicit = this.explicitTools();
    if (explicit) return (await explicit).version.major === major;
    if (await this.installed(major)) return true;
    const ofMajor = (v: string): boolean => parseVersionString(v)?.major === major;
    if ((await this.cachedVersions()).some(ofMajor)) return true;
    if ((await this.releases()).some(ofMajor)) return true;
    return (await this.pgdgVersions()).some(ofMajor);
  }

  /**
   * The newest major the cache or the release list holds, beyond the known ones too; `pgdg`: the
   * PGDG index too (a newer server than the releases build for).
   */
  private async newestListed(pgdg = false): Promise<number> {
    const listed = [...(await this.cachedVersions()), ...(await this.releases())];
    if (pgdg) listed.push(...(await this.pgdgVersions()));
    return Math.max(0, ...listed.map((v) => parseVersionString(v)?.major ?? 0));
  }

  /**
   * The lowest major ≥ `from` that can be had (DESIGN: "lowest newer available"), with no ceiling:
   * past the known majors it looks as far as the cache and the release list reach.
   */
  async lowestAvailableFrom(from: number): Promise<number | undefined> {
    const known = Math.max(from, KNOWN_MAJORS.newest);
    for (let major = from; major <= known; major++) if (await this.canProvide(major)) return major;
    const listed = await this.newestListed(true);
    for (let major = known + 1; major <= listed; major++) if (await this.canProvide(major)) return major;
    return undefined;
  }

  /** The newest major that can be had (install with postgres-version auto and no server). */
  async highestAvailable(): Promise<number | undefined> {
    const top = Math.max(KNOWN_MAJORS.newest, await this.newestListed());
    for (let major = top; major >= MIN_MAJOR; major--) if (await this.canProvide(major)) return major;
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

  private get floorSetting(): MinClientVersion {
    return this.options.minClientVersion ?? { kind: 'any' };
  }

  private isSafe(version: PgVersion): boolean {
    return isSafeClient(version, this.floorSetting);
  }

  private readonly warnedBelowFloor = new Set<string>();

  /**
   * A client below the floor that must be used, because no safe one of its major can be had or it
   * was asked for by name: refused under `min-client-version: secure`, else said once per client.
   */
  private acceptBelowFloor(version: PgVersion, what: string, why: string): void {
    if (this.isSafe(version)) return;
    const message = belowFloorMessage(version, this.floorSetting, what, why);
    if (refusesUnsafe(this.floorSetting)) {
      const setting = this.floorSetting.kind === 'secure' ? 'secure' : 'an exact minimum';
      throw new InputError(
        MIN_CLIENT_VERSION,
        `${setting} refuses it: ${message}; or set ${MIN_CLIENT_VERSION} to any to run it with a warning`,
      );
    }
    const key = `${formatVersion(version)} ${what}`;
    if (this.warnedBelowFloor.has(key)) return;
    this.warnedBelowFloor.add(key);
    this.options.log.warn(`${message}; ${MIN_CLIENT_VERSION}: secure refuses such a client`);
  }

  /** Why an unsafe client of `major` is the one: nothing safe of that major can be had here. */
  private noSafeClient(major: number): string {
    const required = requiredMinor(major, this.floorSetting);
    if (required === undefined) return `it is the PostgreSQL ${major} client there is`;
    const where = this.options.downloads === false ? 'staged or cached' : 'installed, cached or published';
    return `no ${formatVersion({ major, minor: required })} or newer is ${where} here`;
  }

  /** Tools of exactly `want` (a major, or major.minor), verified by `--version`. */
  async provide(want: PgVersion): Promise<ClientTools> {
    const explicit = this.explicitTools();
    if (explicit) {
      const tools = await verifyClientTools((await explicit).binDir, want, 'explicit');
      this.acceptBelowFloor(tools.version, `in ${tools.binDir}`, 'that bin directory was given');
      return tools;
    }
    const pinned = want.minor !== undefined;
    let why = pinned ? 'postgres-version pins it' : this.noSafeClient(want.major);
    // A safe installed client wins; an unsafe one is kept in case nothing safe can be had.
    const installed = await this.installed(want.major, want.minor, (v) => this.isSafe(v));
    if (installed && (pinned || this.isSafe(installed.version))) {
      this.acceptBelowFloor(installed.version, `installed in ${installed.binDir}`, why);
      return installed;
    }

    const matches = (v: string): boolean => {
      const p = parseVersionString(v);
      return p?.major === want.major && (want.minor === undefined || p.minor === want.minor);
    };
    const safeRelease = (v: string): boolean => {
      const p = parseVersionString(v);
      return p !== undefined && this.isSafe(p);
    };
    const cached = (await this.cachedVersions()).filter(matches).sort(compareReleaseVersions);
    const hit = cached.at(-1);
    const fromCache = async (version: string): Promise<ClientTools> => {
      const binDir = (await this.store()).binDir(version, this.target());
      const tools = await verifyClientTools(binDir, parseVersionString(version) ?? want, 'cache');
      this.acceptBelowFloor(tools.version, 'cached', why);
      return tools;
    };
    if (hit && (pinned || safeRelease(hit))) return fromCache(hit);

    const offers = this.offers(matches);
    const first = (await offers.next()).value;
    if (first && (pinned || safeRelease(first.version) || (!installed && !hit))) {
      try {
        return await this.downloadOffers(first, offers, why);
      } catch (error) {
        // Unreachable (offline runner or synth, a mirror without it): keep the unsafe client here, said.
        // Anything else, a checksum or a --version that lies, stops the run.
        if (pinned || (!installed && !hit) || errorCode(error) !== 'http' || this.options.signal?.aborted)
          throw error;
        why = `the safe ${first.version} could not be downloaded (${(error as Error).message})`;
      }
    }
    // Nothing safe of this major can be had: the unsafe one found locally, said or refused.
    if (installed) {
      this.acceptBelowFloor(installed.version, `installed in ${installed.binDir}`, why);
      return installed;
    }
    if (hit) return fromCache(hit);
    if (this.options.downloads === false) {
      throw new PgferryError(
        `PostgreSQL client ${formatVersion(want)} can not be had: ${this.unavailableHint ?? ''}`,
      );
    }
    if (this.sourceName !== 'auto') {
      throw new PgferryError(
        `PostgreSQL client ${formatVersion(want)} can not be had from client-source ${this.sourceName}${this.pgdg ? ` (${this.pgdg.indexUrl})` : ''}`,
      );
    }
    throw new PgferryError(
      `PostgreSQL client ${formatVersion(want)} is not installed and ${this.unpublishedBy()}`,
    );
  }

  /** The download sources that lack a version, for messages: "… is not installed and <this>". */
  private unpublishedBy(): string {
    const releases = this.source?.isMirror ? `the mirror ${this.source.base}` : 'the releases';
    const pgdg = this.pgdg && `the PGDG apt repository (${displayUrl(this.pgdg.indexUrl)})`;
    if (this.source && pgdg) return `neither ${releases} nor ${pgdg} publishes it`;
    const verb = this.source?.isMirror ? 'does' : 'do';
    return this.source ? `${releases} ${verb} not publish it` : `${pgdg ?? 'no source'} does not publish it`;
  }

  /**
   * Downloads the first offer; when a source cannot be reached or lacks the file (an `http`
   * failure), the next source's offer. Each is judged against the floor before it is fetched: a
   * refused client is never fetched nor cached.
   */
  private async downloadOffers(
    first: DownloadOffer,
    rest: AsyncGenerator<DownloadOffer>,
    why: string,
  ): Promise<ClientTools> {
    for (let offer = first; ;) {
      const version = parseVersionString(offer.version);
      if (version) this.acceptBelowFloor(version, 'to be downloaded', why);
      try {
        return await this.download(offer);
      } catch (error) {
        if (errorCode(error) !== 'http' || this.options.signal?.aborted) throw error;
        const next = (await rest.next()).value;
        if (!next) throw error;
        this.options.log.info(
          `${offer.version} could not be downloaded from the releases (${(error as Error).message}); trying ${next.version} from the PGDG apt repository`,
        );
        offer = next;
      }
    }
  }

  private async download(offer: DownloadOffer): Promise<ClientTools> {
    const { version } = offer;
    if (offer.via === 'pgdg' && this.pgdg)
      return this.pgdg.install(version, this.target(), await this.store(), this.options.log);
    if (!this.source) throw new PgferryError(`no releases source to download ${version} from`);
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

/** A version one download source offers. */
interface DownloadOffer {
  version: string;
  via: 'releases' | 'pgdg';
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
