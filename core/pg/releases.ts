import { PgferryError } from '../errors.js';
import type { Logger } from '../log.js';

export const DEFAULT_RELEASES_BASE = 'https://github.com/theseus-rs/postgresql-binaries/releases/download';
const GITHUB_RELEASES_API =
  'https://api.github.com/repos/theseus-rs/postgresql-binaries/releases?per_page=100';

/**
 * Used when the releases API cannot be asked (offline, rate-limited): every minor from .0 up to the
 * one named here was published for each major.
 */
const KNOWN_RELEASES: Readonly<Record<number, number>> = { 13: 21, 14: 18, 15: 13, 16: 9, 17: 5, 18: 0 };

export function knownReleaseVersions(): string[] {
  return Object.entries(KNOWN_RELEASES).flatMap(([major, top]) =>
    Array.from({ length: top + 1 }, (_, minor) => `${major}.${minor}.0`),
  );
}

export interface ReleaseSource {
  /** Base URL: `<base>/<version>/<asset>`. */
  base: string;
  /** True for a user-given mirror, which lists its versions in `<base>/versions.json`. */
  isMirror: boolean;
}

export function releaseSource(mirror: string | undefined): ReleaseSource {
  const base = (mirror ?? '').trim().replace(/\/+$/, '');
  if (!base) return { base: DEFAULT_RELEASES_BASE, isMirror: false };
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
  if (source.isMirror) {
    const url = `${source.base}/versions.json`;
    let body: unknown;
    try {
      const res = await fetch(url, { signal: options.signal ?? AbortSignal.timeout(30_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = await res.json();
    } catch (error) {
      throw new PgferryError(`mirror: cannot read ${url}: ${(error as Error).message}`);
    }
    if (!Array.isArray(body) || !body.every((v) => typeof v === 'string' && RELEASE_VERSION.test(v))) {
      throw new PgferryError(`mirror: ${url} is not a JSON array of versions such as ["17.5.0", "18.0.0"]`);
    }
    return body as string[];
  }
  try {
    const headers: Record<string, string> = { accept: 'application/vnd.github+json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await fetch(GITHUB_RELEASES_API, {
      headers,
      signal: options.signal ?? AbortSignal.timeout(15_000),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const releases = (await res.json()) as { tag_name?: string; draft?: boolean; prerelease?: boolean }[];
    const found = releases
      .filter(
        (r) =>
          !r.draft && !r.prerelease && typeof r.tag_name === 'string' && RELEASE_VERSION.test(r.tag_name),
      )
      .map((r) => r.tag_name as string);
    return [...new Set([...found, ...knownReleaseVersions()])];
  } catch (error) {
    log.debug(
      `release list unavailable (${(error as Error).message}); using the versions pgferry ships with`,
    );
    return knownReleaseVersions();
  }
}
