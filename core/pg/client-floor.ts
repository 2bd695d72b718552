/**
 * `min-client-version`: what to do with a client below the security floor when no safe one of its
 * major can be had. `any` (the default) runs it with a warning, so an offline runner or a mirror
 * that holds only older minors keeps working; `secure` refuses; `17.10` also raises major 17's floor.
 */
import { InputError } from '../errors.js';
import { floorMinor, describeMissingFixes, missingFixes } from './security-floor.js';
import { formatVersion, MIN_MAJOR, type PgVersion } from './version.js';

export type MinClientVersion =
  { kind: 'any' } | { kind: 'secure' } | { kind: 'at-least'; major: number; minor: number };

export const INPUT = 'min-client-version';

export function parseMinClientVersion(raw: string | undefined, input: string = INPUT): MinClientVersion {
  const text = (raw ?? '').trim();
  if (text === '' || text === 'any') return { kind: 'any' };
  if (text === 'secure') return { kind: 'secure' };
  const m = /^(\d+)\.(\d+)$/.exec(text);
  if (!m) {
    throw new InputError(
      input,
      `"${text}" is not a minimum; expected any, secure, or an exact version such as 17.10`,
    );
  }
  const major = Number(m[1]);
  if (major < MIN_MAJOR) {
    throw new InputError(input, `major ${major} is not supported; expected ${MIN_MAJOR} or newer`);
  }
  return { kind: 'at-least', major, minor: Number(m[2]) };
}

/** The lowest acceptable minor of `major` under this setting; undefined when none is. */
export function requiredMinor(major: number, setting: MinClientVersion): number | undefined {
  const floor = floorMinor(major);
  if (setting.kind !== 'at-least' || setting.major !== major || floor === undefined) return floor;
  return Math.max(floor, setting.minor);
}

/** Whether a client of this version is at or above the floor (and the setting's own minimum). */
export function isSafeClient(version: PgVersion, setting: MinClientVersion): boolean {
  const required = requiredMinor(version.major, setting);
  return required !== undefined && (version.minor ?? 0) >= required;
}

/**
 * Why a client is below the floor and what to do: "PostgreSQL client 17.5 (<what>) is below the
 * security floor: 17.10 fixed CVE-… (…); <why it is the one>; install 17.10 or newer …".
 */
export function belowFloorMessage(
  version: PgVersion,
  setting: MinClientVersion,
  what: string,
  why: string,
): string {
  const required = requiredMinor(version.major, setting);
  const parts: string[] = [];
  if (missingFixes(version).length > 0) parts.push(describeMissingFixes(version));
  if (setting.kind === 'at-least' && setting.major === version.major && required !== undefined) {
    parts.push(`${INPUT} asks for ${setting.major}.${setting.minor} or newer`);
  }
  const fix =
    required === undefined
      ? `no PostgreSQL ${version.major} release is safe: use a newer major (postgres-version)`
      : `install PostgreSQL ${formatVersion({ major: version.major, minor: required })} or newer (or put it on the mirror)`;
  return `PostgreSQL client ${formatVersion(version)} (${what}) is below the security floor: ${parts.join('; ')}; ${why}; ${fix}`;
}

/** Whether the setting refuses what it does not accept (`any` only warns). */
export function refusesUnsafe(setting: MinClientVersion): boolean {
  return setting.kind !== 'any';
}
