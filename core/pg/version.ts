import { InputError } from '../errors.js';
import { KNOWN_MAJORS } from './known-majors.js';

/** The oldest client major pgferry provisions; newer majors have no upper bound. */
export const MIN_MAJOR = KNOWN_MAJORS.oldest;

/** A PostgreSQL version: `major` always, `minor` when known (17.5 → {17, 5}). */
export interface PgVersion {
  major: number;
  minor?: number;
}

/** What the caller asked for with `postgres-version`. */
export type VersionRequest =
  { kind: 'auto' } | { kind: 'major'; major: number } | { kind: 'exact'; major: number; minor: number };

export function formatVersion(v: PgVersion): string {
  return v.minor === undefined ? String(v.major) : `${v.major}.${v.minor}`;
}

/** `server_version_num` (170005) → 17.5; pre-10 numbering is not supported. */
export function versionFromNum(num: number): PgVersion {
  if (!Number.isInteger(num) || num < 100000) throw new Error(`unsupported server_version_num ${num}`);
  return { major: Math.floor(num / 10000), minor: num % 10000 };
}

/**
 * Parses a version string as tools print it: `17.5`, `18.0`, `16.4 (Debian 16.4-1.pgdg120+1)`,
 * `18beta1`, `17.5.0` (release asset numbering). Returns undefined when there is no version in it.
 */
export function parseVersionString(text: string): PgVersion | undefined {
  const m = /(\d+)(?:\.(\d+))?(?:\.\d+)?/.exec(text.trim());
  if (!m?.[1]) return undefined;
  const major = Number(m[1]);
  if (major < 10) return undefined;
  return m[2] === undefined ? { major } : { major, minor: Number(m[2]) };
}

/** Parses `postgres-version`: `auto`, a major (`17`) or an exact version (`17.5`, `17.5.0`). */
export function parseVersionRequest(raw: string | undefined, input = 'postgres-version'): VersionRequest {
  const text = (raw ?? '').trim();
  if (text === '' || text === 'auto') return { kind: 'auto' };
  const m = /^(\d+)(?:\.(\d+)(?:\.0)?)?$/.exec(text);
  if (!m?.[1]) {
    throw new InputError(
      input,
      `"${text}" is not a version; expected auto, a major such as 17, or an exact version such as 17.5`,
    );
  }
  const major = Number(m[1]);
  if (major < MIN_MAJOR) {
    throw new InputError(input, `major ${major} is not supported; expected ${MIN_MAJOR} or newer`);
  }
  return m[2] === undefined ? { kind: 'major', major } : { kind: 'exact', major, minor: Number(m[2]) };
}
