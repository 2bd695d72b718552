import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError, PgferryError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { networkLimits, type NetworkLimits } from '../../network-limits.js';
import { formatSize } from '../../sizes.js';
import { STAGED_MARKER } from '../run.js';
import { parseVersionString, type PgVersion } from '../version.js';
import { readArMembers } from './ar-archive.js';
import { extractDebData } from './deb-data.js';
import { dependencyConditions, formatCondition, satisfies } from './deb-version.js';
import { checkIndexAgainstRelease, parseRelease, verifyInRelease } from './apt-release.js';
import { PGDG_ARCHIVE_KEY } from './pgdg-archive-key.js';
import { newestPackage, parseAptPackages, upstreamNumbers, type AptPackage } from './apt-packages.js';
import { INPUT as CLIENT_SOURCE } from './client-source.js';
import { displayUrl, httpGet, HttpGetError, type HttpGetResponse } from './http-get.js';
import { DirectoryStore, ENTRY_MARKER, type ClientStore } from './store.js';
import { CLIENT_TOOLS, verifyClientTools, type ClientTools } from './tools.js';

export const DEFAULT_PGDG_BASE = 'https://apt.postgresql.org/pub/repos/apt';

/** Debian architecture and multiarch library directory per Node arch. */
const ARCHES: Readonly<Record<string, { deb: string; multiarch: string }>> = {
  x64: { deb: 'amd64', multiarch: 'x86_64-linux-gnu' },
  arm64: { deb: 'arm64', multiarch: 'aarch64-linux-gnu' },
};

export interface PgdgRepository {
  base: string;
  suite: string;
  arch: { deb: string; multiarch: string };
}

/** This distribution's codename, for the default suite `<codename>-pgdg`. */
function osCodename(): string | undefined {
  try {
    return /^VERSION_CODENAME=["']?([a-z0-9-]+)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The repository `mirror` names for `client-source: pgdg`, written like a sources.list line:
 * `<base URL> [suite]`; without a suite, `<codename>-pgdg` of this system.
 */
export function pgdgRepository(mirror: string | undefined, nodeArch: string = process.arch): PgdgRepository {
  if (process.platform !== 'linux') {
    throw new InputError(CLIENT_SOURCE, `pgdg has Linux packages only; this is ${process.platform}`);
  }
  const arch = ARCHES[nodeArch];
  if (!arch) throw new InputError(CLIENT_SOURCE, `pgdg: no Debian packages for ${nodeArch} here`);
  const [rawBase, suiteWord, ...extra] = (mirror ?? '').trim().split(/\s+/);
  const base = (rawBase || DEFAULT_PGDG_BASE).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base) || extra.length > 0) {
    throw new InputError(
      'mirror',
      `"${mirror ?? ''}" is not an apt repository; expected "<http(s) base URL> [suite]" such as ${DEFAULT_PGDG_BASE} bookworm-pgdg`,
    );
  }
  const codename = osCodename();
  const suite = suiteWord ?? (codename ? `${codename}-pgdg` : undefined);
  if (!suite || !/^[A-Za-z0-9._-]+$/.test(suite)) {
    throw new InputError(
      'mirror',
      suite
        ? `"${suite}" is not a suite name`
        : 'no suite given and /etc/os-release names no VERSION_CODENAME; add it after the URL, e.g. bookworm-pgdg',
    );
  }
  return { base, suite, arch };
}

async function fetchBody(
  url: string,
  what: string,
  maxBytes: number,
  limits: NetworkLimits,
  signal?: AbortSignal,
): Promise<Buffer> {
  let res: HttpGetResponse;
  try {
    res = await httpGet(url, { what, limits, maxBytes, signal });
  } catch (error) {
    // `http`: the repository could not be reached; auto then does without it.
    throw new PgferryError(
      `${CLIENT_SOURCE} pgdg: ${what} could not be fetched: ${(error as Error).message}`,
      { code: 'http' },
    );
  }
  if (res.status < 200 || res.status >= 300) {
    res.body.resume();
    throw new PgferryError(`${CLIENT_SOURCE} pgdg: ${what} from ${res.url} failed: HTTP ${res.status}`, {
      code: 'http',
    });
  }
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
  } catch (error) {
    const reason = error instanceof HttpGetError ? error.reason : (error as Error).message;
    throw new PgferryError(`${CLIENT_SOURCE} pgdg: download of ${what} from ${res.url} failed: ${reason}`, {
      code: 'http',
    });
  }
  return Buffer.concat(chunks);
}

/**
 * The PostgreSQL project's apt repository as a client source: `postgresql-client-<major>` and the
 * libpq5 it depends on, each checked against the Size and SHA-256 of the `Packages` index before
 * it is opened, extracted without root and laid out as a cache entry (bin/ and lib/).
 */
export class PgdgSource {
  private index?: Promise<AptPackage[]>;

  constructor(
    readonly repository: PgdgRepository,
    private readonly signal?: AbortSignal,
    /** The armored key InRelease must be signed with: the PGDG archive key unless a test says. */
    private readonly trustedKey: string = PGDG_ARCHIVE_KEY,
  ) {}

  /** The index path as the Release lists it. */
  private get indexPath(): string {
    return `main/binary-${this.repository.arch.deb}/Packages`;
  }

  get indexUrl(): string {
    const { base, suite } = this.repository;
    return `${base}/dists/${suite}/${this.indexPath}`;
  }

  /** InRelease (signature checked) → Packages (checked against it) → the packages it lists. */
  private packages(): Promise<AptPackage[]> {
    this.index ??= (async () => {
      const limits = networkLimits();
      const { base, suite } = this.repository;
      const releaseUrl = `${base}/dists/${suite}/InRelease`;
      const signed = await fetchBody(
        releaseUrl,
        'the signed InRelease',
        limits.metadataBytes,
        limits,
        this.signal,
      );
      const releaseName = `${CLIENT_SOURCE} pgdg: ${displayUrl(releaseUrl)}`;
      const release = parseRelease(await verifyInRelease(signed, this.trustedKey, releaseName), releaseName);
      const shown = displayUrl(this.indexUrl);
      const body = await fetchBody(
        this.indexUrl,
        'the Packages index',
        limits.metadataBytes,
        limits,
        this.signal,
      );
      checkIndexAgainstRelease(release, { path: this.indexPath, body, suite }, releaseName);
      return parseAptPackages(body.toString('utf8'), `${CLIENT_SOURCE} pgdg: ${shown}`);
    })();
    return this.index;
  }

  /** Client versions the index holds, as release versions (`15.18.0`), as the cache names them. */
  async versions(): Promise<string[]> {
    const found = new Set<string>();
    for (const p of await this.packages()) {
      const major = /^postgresql-client-(\d+)$/.exec(p.name)?.[1];
      const [m, minor] = upstreamNumbers(p.version);
      if (major && m === Number(major) && minor !== undefined) found.add(`${m}.${minor}.0`);
    }
    return [...found];
  }

  /**
   * The client package of that major.minor (its newest revision) and the newest libpq5 meeting
   * every condition the client's Depends puts on it (`libpq5 (>= 15.18)`): apt's choice.
   */
  private async choosePackages(
    want: PgVersion,
    version: string,
  ): Promise<{ client: AptPackage; libpq: AptPackage }> {
    const packages = await this.packages();
    const client = newestPackage(
      packages.filter((p) => upstreamNumbers(p.version)[1] === want.minor),
      `postgresql-client-${want.major}`,
    );
    const index = displayUrl(this.indexUrl);
    if (!client)
      throw new PgferryError(
        `${CLIENT_SOURCE} pgdg: ${index} lists no postgresql-client-${want.major} ${version}`,
      );
    const what = `${CLIENT_SOURCE} pgdg: ${client.name} ${client.version}`;
    const conditions = dependencyConditions(client.depends, 'libpq5');
    if (!conditions)
      throw new PgferryError(`${what} does not depend on libpq5; not a PostgreSQL client package`);
    const libpq = newestPackage(
      packages.filter((p) => conditions.every((c) => satisfies(p.version, c))),
      'libpq5',
    );
    if (!libpq) {
      const listed = packages.filter((p) => p.name === 'libpq5').map((p) => p.version);
      throw new PgferryError(
        `${what} needs ${formatCondition('libpq5', conditions)}; ${index} lists ${listed.length === 0 ? 'no libpq5' : `only libpq5 ${listed.join(', ')}`}, so it cannot be installed`,
      );
    }
    return { client, libpq };
  }

  async install(version: string, target: string, store: ClientStore, log: Logger): Promise<ClientTools> {
    const want = parseVersionString(version);
    if (!want) throw new PgferryError(`"${version}" is not a release version`);
    const { client, libpq } = await this.choosePackages(want, version);

    const limits = networkLimits();
    const work = await store.workDir(version, target);
    try {
      const root = path.join(work, 'root');
      await mkdir(root);
      for (const pkg of [client, libpq]) await this.unpackDeb(pkg, root, limits, log);

      const entry = path.join(work, 'entry');
      const { multiarch } = this.repository.arch;
      await mkdir(path.join(entry, 'bin'), { recursive: true });
      for (const tool of CLIENT_TOOLS) {
        const from = path.join(root, 'usr', 'lib', 'postgresql', String(want.major), 'bin', tool);
        await cp(from, path.join(entry, 'bin', tool)).catch(() => {
          throw new PgferryError(`${CLIENT_SOURCE} pgdg: ${client.name} ${client.version} holds no ${tool}`);
        });
      }
      // libpq.so.5 is a relative symlink to libpq.so.5.<n>: both come along as they are.
      await cp(path.join(root, 'usr', 'lib', multiarch), path.join(entry, 'lib'), {
        recursive: true,
        verbatimSymlinks: true,
        filter: (src) => !src.includes(`${path.sep}pkgconfig`),
      }).catch(() => {
        throw new PgferryError(
          `${CLIENT_SOURCE} pgdg: libpq5 ${libpq.version} holds no ${multiarch} libraries`,
        );
      });
      // Debian's tools carry no RUNPATH: the marker makes them run with LD_LIBRARY_PATH=lib/.
      await writeFile(path.join(entry, 'lib', STAGED_MARKER), '');
      await verifyClientTools(path.join(entry, 'bin'), want, 'download');
      await writeFile(
        path.join(entry, ENTRY_MARKER),
        JSON.stringify({
          version,
          target,
          source: 'pgdg',
          packages: [client, libpq].map((p) => ({ name: p.name, version: p.version, sha256: p.sha256 })),
          index: displayUrl(this.indexUrl),
        }),
      );
      const finalBin = await store.commit(entry, version, target, log);
      return await verifyClientTools(finalBin, want, 'download');
    } finally {
      await rm(work, { recursive: true, force: true });
      if (store instanceof DirectoryStore) await store.tidy(version);
    }
  }

  /** Download → Size and SHA-256 against the index → ar → data.tar.* extracted entry by entry, judged. */
  private async unpackDeb(pkg: AptPackage, root: string, limits: NetworkLimits, log: Logger): Promise<void> {
    const what = `${pkg.name} ${pkg.version}`;
    const url = `${this.repository.base}/${pkg.filename}`;
    log.info(`downloading ${path.basename(pkg.filename)} (${formatSize(pkg.size)}) from the PGDG repository`);
    const deb = await fetchBody(url, what, Math.min(pkg.size, limits.downloadBytes), limits, this.signal);
    if (deb.length !== pkg.size) {
      throw new PgferryError(
        `${CLIENT_SOURCE} pgdg: ${what} is ${deb.length} bytes, the Packages index says ${pkg.size}; nothing was kept`,
      );
    }
    const actual = createHash('sha256').update(deb).digest('hex');
    if (actual !== pkg.sha256) {
      throw new PgferryError(
        `${CLIENT_SOURCE} pgdg: ${what} failed its checksum: SHA-256 is ${actual}, the Packages index says ${pkg.sha256}; nothing was kept`,
      );
    }
    const members = readArMembers(deb, `${CLIENT_SOURCE} pgdg: ${what}`);
    if (members[0]?.name !== 'debian-binary')
      throw new PgferryError(`${CLIENT_SOURCE} pgdg: ${what} is not a .deb (no debian-binary first)`);
    const data = members.find((m) => /^data\.tar(\.(xz|zst|gz))?$/.test(m.name));
    if (!data) throw new PgferryError(`${CLIENT_SOURCE} pgdg: ${what} holds no data.tar`);
    await extractDebData(data, root, what, limits, this.signal);
  }
}
