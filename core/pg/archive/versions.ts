/** Archive format versions (`1.14`, `1.16`) and which pg_restore majors read them. */
import { PgferryError } from '../../errors.js';
import { MAX_MAJOR, MIN_MAJOR, SUPPORTED_MAJORS } from '../version.js';

/** Highest archive version each pg_restore major reads (K_VERS_MAX of that release). */
const MAX_ARCHIVE_VERSION: Record<number, string> = {
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

/** The highest archive version each pg_restore major reads: 12–15 → 1.14, 16 → 1.15, 17 & 18 → 1.16 */
export function maxArchiveVersionForMajor(major: number): string {
  const version = MAX_ARCHIVE_VERSION[major];
  if (version === undefined) {
    throw new PgferryError(
      `no known archive version for PostgreSQL ${major}; pgferry supports majors ${MIN_MAJOR} to ${MAX_MAJOR}`,
    );
  }
  return version;
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

/** Lowest client major (>= 12) able to read this archive version; undefined when none known can. */
export function lowestMajorReading(archiveVersion: string): number | undefined {
  // pg_restore refuses anything below 1.0, so 0.x archives have no reader.
  if (parseArchiveVersion(archiveVersion)[0] < 1) return undefined;
  return SUPPORTED_MAJORS.find(
    (major) => compareArchiveVersions(archiveVersion, maxArchiveVersionForMajor(major)) <= 0,
  );
}
