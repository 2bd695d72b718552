import os from 'node:os';
import { InputError } from '../errors.js';
import type { ArchiveFacts, ArchiveFormat } from '../pg/archive.js';
import type { DumpFormat } from '../pg/formats.js';
import type { RestorePath } from '../pg/policy.js';

/**
 * `jobs`, in one place: parsed, defaulted (`auto`: one job per CPU) and resolved for what a dump's
 * format or a restore's archive allows. One rule for an explicit count the format cannot honour: it
 * is refused, naming `jobs` and the format, before anything is provisioned. What the archive or the
 * path (not the format) rules out becomes one job with a reason, said as a warning when the count
 * was given.
 */

/** Parses `jobs`: `auto` (also when empty) or a whole number of at least 1. */
export function parseJobs(raw: string | undefined, input = 'jobs'): number | 'auto' {
  const text = (raw ?? '').trim();
  if (text === '' || text.toLowerCase() === 'auto') return 'auto';
  const jobs = /^\d{1,6}$/.test(text) ? Number(text) : 0;
  if (jobs < 1)
    throw new InputError(input, `"${text}" is not a job count; expected auto or a whole number ≥ 1`);
  return jobs;
}

/** `jobs: auto`: one job per CPU. */
export function defaultJobs(): number {
  return Math.max(1, os.availableParallelism());
}

/** A dump's job count: pg_dump runs jobs only into a directory archive. */
export function dumpJobs(format: DumpFormat, jobs: number | 'auto'): number {
  if (format === 'directory') return jobs === 'auto' ? defaultJobs() : jobs;
  if (typeof jobs === 'number' && jobs > 1)
    throw new InputError(
      'jobs',
      `${jobs} parallel jobs need the directory format; the ${format} format dumps with one job (use jobs 1 or format directory)`,
    );
  return 1;
}

/** A restore of a tar archive or a plain dump cannot run jobs; an explicit count is refused. */
export function refuseRestoreJobs(format: ArchiveFormat, jobs: number | 'auto'): void {
  if (typeof jobs !== 'number' || jobs <= 1 || format === 'custom' || format === 'directory') return;
  const how =
    format === 'plain' ? 'a plain dump is one psql script' : 'pg_restore reads a tar archive in order';
  throw new InputError(
    'jobs',
    `${jobs} parallel jobs need a custom or directory archive; ${how}, so it restores with one job (use jobs 1 or auto)`,
  );
}

export interface JobsChoice {
  jobs: number;
  /** Set when the archive or the path, not the format, kept the restore to one job: why, in words. */
  reason?: string;
}

/**
 * Parallel restore needs a seekable custom file or a directory archive, on the direct path. A
 * custom archive must also record its data offsets: without them (pg_dump wrote to a pipe, as
 * every S3 backup does) each pg_restore worker reads the file in order looking for its table,
 * and pg_restore 18 then applied a partitioned parent's NOT VALID NOT NULL constraint before a
 * partition's rows were in. Such an archive gets one job; so does one whose TOC was not read.
 */
export function restoreJobs(
  archive: ArchiveFacts,
  path: RestorePath,
  jobs: number | 'auto',
  seekable: boolean,
  /** The target database was there before the restore: jobs: auto takes one transaction there. */
  intoExisting = false,
): JobsChoice {
  refuseRestoreJobs(archive.format, jobs);
  const asked = jobs === 'auto' ? `${defaultJobs()} (jobs: auto)` : `jobs: ${jobs}`;
  if (!seekable || (archive.format !== 'custom' && archive.format !== 'directory')) return { jobs: 1 };
  if (path !== 'pg_restore')
    return typeof jobs === 'number' && jobs > 1
      ? {
          jobs: 1,
          reason: `one job instead of ${asked}: this restore runs as one script through psql, in one transaction`,
        }
      : { jobs: 1 };
  const wanted = jobs === 'auto' ? defaultJobs() : jobs;
  if (
    wanted > 1 &&
    archive.format === 'custom' &&
    archive.dataOffsets !== 'set' &&
    archive.dataOffsets !== 'none'
  ) {
    const why =
      archive.dataOffsets === 'unset'
        ? 'its table of contents records no data offsets (pg_dump wrote it to a pipe, as S3 backups are written), so pg_restore -j cannot seek to the data'
        : 'its table of contents was not read for data offsets';
    return { jobs: 1, reason: `one job instead of ${asked}: ${why}` };
  }
  // Given by number, parallel jobs into an existing database are undone on failure
  // (undo-new-objects.ts); auto keeps the one transaction, which also hides the restore until it commits.
  if (wanted > 1 && intoExisting && jobs === 'auto') {
    const why =
      'the target database existed before this restore, and a one-job restore runs in one transaction there (nothing is seen until it commits; a failure leaves it as it was)';
    return {
      jobs: 1,
      reason: `one job instead of ${asked}: ${why}; give jobs to restore in parallel (a failure then drops every object it made)`,
    };
  }
  return { jobs: wanted };
}
