/**
 * Archive format versions (`1.14`, `1.16`) and which pg_restore majors read them. The rule needs no
 * table: a pg_restore reads what its own major and every older one writes, and the header names
 * the pg_dump that wrote it. The table below only tells how far back an *older* reader reaches.
 */
import { PgferryError } from '../../errors.js';
import { KNOWN_MAJORS, knownMajors } from '../known-majors.js';
import type { PgVersion } from '../version.js';

/** Highest archive version each known pg_restore major reads (K_VERS_MAX of that release). */
const MAX_ARCHIVE_VERSION: Readonly<Record<number, string>> = {
  // 10 and 11 as restore targets only (no client of theirs is provisioned); 1.13 since 10.3.
  10: '1.13',
  11: '1.13',
  12: '1.14',
  13: '1.14',
  14: '1.14',
  15: '1.14',
  16: '1.15',
  17: '1.16',
  18: '1.16',
};

/**
 * The highest archive version a known pg_restore major reads (12–15 → 1.14, 16 → 1.15, 17 & 18 →
 * 1.16); undefined for a major the table does not hold.
 */
export function maxArchiveVersionForMajor(major: number): string | undefined {
  return MAX_ARCHIVE_VERSION[major];
}

/** The newest archive version pgferry's table knows (what the newest known major writes). */
function newestKnownArchiveVersion(): string {
  return MAX_ARCHIVE_VERSION[KNOWN_MAJORS.newest] ?? '1.16';
}

function parseArchiveVersion(text: string): [number, number, number] {
  const m = /^(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!m) throw new PgferryError(`"${text}" is not an archive version; expected one such as 1.16`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** Orders archive versions (`1.14` < `1.15` < `1.16`; `1.16` equals `1.16.0`). */
export function compareArchiveVersions(a: string, b: string): number {
  const x = parseArchiveVersion(a);
  const y = parseArchiveVersion(b);
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** What of an archive decides its readers: its format version and the pg_dump that wrote it. */
export interface ArchiveReadFacts {
  archiveVersion?: string;
  dumpVersion?: PgVersion;
}

/** Whether the pg_restore of `major` reads this archive. */
export function majorReads(major: number, archive: ArchiveReadFacts): boolean {
  const version = archive.archiveVersion;
  if (version === undefined) return true;
  if (parseArchiveVersion(version)[0] < 1) return false;
  const writer = archive.dumpVersion?.major;
  if (writer !== undefined && major >= writer) return true;
  const max = maxArchiveVersionForMajor(major);
  if (max !== undefined) return compareArchiveVersions(version, max) <= 0;
  // A major newer than the table reads all the table knows; a newer format only if it is not older
  // than the pg_dump that wrote it (checked above) or, when the header names none, by assumption.
  if (major > KNOWN_MAJORS.newest) {
    return compareArchiveVersions(version, newestKnownArchiveVersion()) <= 0 || writer === undefined;
  }
  return false;
}

/**
 * The lowest client major that reads this archive version, given the pg_dump that wrote it when the
 * header says: a known version → the oldest known reader; a newer one → the major that wrote it, or
 * the first major after the table when the header names no pg_dump. Undefined below 1.0 (no reader).
 */
export function lowestMajorReading(archiveVersion: string, dumpVersion?: PgVersion): number | undefined {
  if (parseArchiveVersion(archiveVersion)[0] < 1) return undefined;
  const facts: ArchiveReadFacts = { archiveVersion, dumpVersion };
  const known = knownMajors().find((major) => majorReads(major, facts));
  if (known !== undefined) return known;
  return Math.max(KNOWN_MAJORS.newest + 1, dumpVersion?.major ?? 0);
}
