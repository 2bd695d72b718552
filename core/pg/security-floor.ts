/**
 * The security floor: for each client major, the lowest minor without known holes a hostile server
 * can use against pg_dump, pg_restore or psql, and the CVE that set it. One table, read by the
 * client catalog (which passes unsafe clients over) and by min-client-version.
 */
import type { PgVersion } from './version.js';
import { formatVersion } from './version.js';

export interface ClientFix {
  cve: string;
  /** When the fixed minors came out. */
  released: string;
  /** What a client without the fix lets a hostile server do, in words for a warning. */
  risk: string;
  /**
   * The first fixed minor of each major that got the fix. A major newer than every key was
   * released after the fix and has it from .0; one older than every key never got it.
   */
  fixedIn: Readonly<Record<number, number>>;
}

export const CLIENT_FIXES: readonly ClientFix[] = [
  {
    cve: 'CVE-2026-6477',
    released: 'May 2026',
    risk: "a hostile server can overwrite the client's stack through the large-object functions pg_dump uses",
    fixedIn: { 14: 23, 15: 18, 16: 14, 17: 10, 18: 4 },
  },
  {
    cve: 'CVE-2025-8714',
    released: 'August 2025',
    risk: 'a hostile source server can make a plain dump run shell commands in the psql that restores it (fixed by pg_dump writing \\restrict)',
    fixedIn: { 13: 22, 14: 19, 15: 14, 16: 10, 17: 6 },
  },
];

/** The first fixed minor of `major`: 0 when released after the fix, undefined when never fixed. */
function firstFixedMinor(fix: ClientFix, major: number): number | undefined {
  const listed = fix.fixedIn[major];
  if (listed !== undefined) return listed;
  const majors = Object.keys(fix.fixedIn).map(Number);
  return major > Math.max(...majors) ? 0 : undefined;
}

/** The fixes a client of this version lacks (an unknown minor counts as .0). */
export function missingFixes(version: PgVersion): ClientFix[] {
  return CLIENT_FIXES.filter((fix) => {
    const first = firstFixedMinor(fix, version.major);
    return first === undefined || (version.minor ?? 0) < first;
  });
}

/** The lowest safe minor of a major; undefined when no release of it has every fix. */
export function floorMinor(major: number): number | undefined {
  let floor = 0;
  for (const fix of CLIENT_FIXES) {
    const first = firstFixedMinor(fix, major);
    if (first === undefined) return undefined;
    floor = Math.max(floor, first);
  }
  return floor;
}

/** "17.10 fixed CVE-2026-6477 (May 2026: …)" for each fix the version lacks, joined. */
export function describeMissingFixes(version: PgVersion): string {
  return missingFixes(version)
    .map((fix) => {
      const first = firstFixedMinor(fix, version.major);
      const where =
        first === undefined
          ? `no PostgreSQL ${version.major} release fixes ${fix.cve}`
          : `${formatVersion({ major: version.major, minor: first })} fixed ${fix.cve}`;
      return `${where} (${fix.released}: ${fix.risk})`;
    })
    .join('; ');
}
