import { PgferryError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { networkLimits } from '../../network-limits.js';
import { displayUrl, httpGet, readText } from './http-get.js';
import { KNOWN_RELEASES } from './known-releases.js';

export const DEFAULT_RELEASES_BASE = 'https://github.com/theseus-rs/postgresql-binaries/releases/download';
export const GITHUB_RELEASES_API =
  'https://api.github.com/repos/theseus-rs/postgresql-binaries/releases?per_page=100';

/** The versions pgferry ships with (known-releases.ts), as `17.5.0` strings. */
export function knownReleaseVersions(): string[] {
  return Object.entries(KNOWN_RELEASES).flatMap(([major, minors]) =>
    minors.map((minor) => `${major}.${minor}.0`),
  );
}

export interface ReleaseSource {
  /** Base URL: `<base>/<version>/<asset>`. */
  base: string;
  /** True for a user-given mirror, which lists its versions in `<base>/versions.json`. */
  isMirror: boolean;
  /**
   * Not a mirror: the GitHub API list of releases, the one request that carries the token (a
   * mirror never sees it, nor does an asset download).
   */
  releasesApi?: string;
}

export function releaseSource(mirror: string | undefined): ReleaseSource {
  const base = (mirror ?? '').trim().replace(/\/+$/, '');
  if (!base) return { base: DEFAULT_RELEASES_BASE, isMirror: false, releasesApi: GITHUB_RELEASES_API };
  if (!/^https?:\/\//.test(base)) {
    throw new PgferryError(
      `mirror: "${base}" is not an http(s) URL; expected a base URL such as https://mirror.example/pg`,
    );
  }
  return { base, isMirror: true };
}

export function assetUrl(source: ReleaseSource, version: string, target: string): string {
  return `${source.base}/${version}/postgresql-${version}-${target}.tar.gz`;
}

const RELEASE_VERSION = /^\d+\.\d+\.\d+$/;

/** Versions the source holds, as `17.5.0` strings. */
export async function listReleaseVersions(
  source: ReleaseSource,
  log: Logger,
  options: { token?: string; signal?: AbortSignal } = {},
): Promise<string[]> {
  const limits = networkLimits();
  const get = async (url: string, what: string, headers?: Record<string, string>): Promise<unknown> => {
    const res = await httpGet(url, {
      what,
      limits,
      maxBytes: limits.metadataBytes,
      signal: options.signal,
      ...(headers ? { headers } : {}),
    });
    if (res.status < 200 || res.status >= 300) {
      res.body.resume();
      throw new PgferryError(`download of ${what} from ${res.url} failed: HTTP ${res.status}`);
    }
    const text = await readText(res);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new PgferryError(`download of ${what} from ${res.url} failed: the answer is not JSON`);
    }
  };
  if (source.isMirror) {
    const url = `${source.base}/versions.json`;
    let body: unknown;
    try {
      body = await get(url, 'versions.json');
    } catch (error) {
      throw new PgferryError(`mirror: ${(error as Error).message}`);
    }
    if (!Array.isArray(body) || !body.every((v) => typeof v === 'string' && RELEASE_VERSION.test(v))) {
      throw new PgferryError(
        `mirror: ${displayUrl(url)} is not a JSON array of versions such as ["17.5.0", "18.0.0"]`,
      );
    }
    return body as string[];
  }
  try {
    const headers: Record<string, string> = { accept: 'application/vnd.github+json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    headers['user-agent'] = 'pgferry';
    const body = await get(source.releasesApi ?? GITHUB_RELEASES_API, 'GitHub releases list', headers);
    if (!Array.isArray(body)) throw new Error('the answer is not a list of releases');
    const releases = body as { tag_name?: string; draft?: boolean; prerelease?: boolean }[];
    const found = releases
      .filter(
        (r) =>
          !r.draft && !r.prerelease && typeof r.tag_name === 'string' && RELEASE_VERSION.test(r.tag_name),
      )
      .map((r) => r.tag_name as string);
    return [...new Set([...found, ...knownReleaseVersions()])];
  } catch (error) {
    // A cancelled run stops here; only an unreachable or odd API falls back to the shipped table.
    if (options.signal?.aborted) throw error;
    log.debug(
      `release list unavailable (${(error as Error).message}); using the versions pgferry ships with`,
    );
    return knownReleaseVersions();
  }
}
