import type { JobReport } from './jobs/report.js';

/**
 * The outputs of every front end, in one table: action.yml's `outputs` (scripts/action-yml.mjs), the
 * Action's setOutput calls, the CLI's text lines and `--json` fields, and the README's table (a test
 * keeps them equal). `value` reads a job's report; undefined means the job has no such output.
 */
export interface OutputSpec {
  name: string;
  description: string;
  value: (report: JobReport) => string | number | undefined;
}

export const OUTPUTS: readonly OutputSpec[] = [
  {
    name: 'client-version',
    description: 'the PostgreSQL client version used, e.g. `17.5`',
    value: (r) => r.clientVersion,
  },
  {
    name: 'server-version',
    description: 'the server dumped from (dump) or restored into (restore, copy)',
    value: (r) => r.serverVersion,
  },
  {
    name: 'bin-dir',
    description: 'the directory of pg_dump, pg_restore, psql and pg_dumpall (also on `PATH`)',
    value: (r) => r.binDir,
  },
  { name: 'location', description: 'the dump written, or the archive restored', value: (r) => r.location },
  { name: 'bytes', description: 'size of the dump in bytes', value: (r) => r.bytes },
  { name: 'sha256', description: 'SHA-256 of a single-file dump', value: (r) => r.sha256 },
  { name: 'format', description: "the dump's format", value: (r) => r.format },
  {
    name: 'archive-version',
    description: 'archive format version from the header, e.g. `1.16`',
    value: (r) => r.archiveVersion,
  },
  {
    name: 'duration-seconds',
    description: 'how long the command took',
    // Rounded to a tenth of a second; a number in `--json`.
    value: (r) => Number(r.durationSeconds.toFixed(1)),
  },
  {
    name: 'toc-entries',
    description: "entries in the archive's table of contents",
    value: (r) => r.tocEntries,
  },
  {
    name: 'tables',
    description: 'tables in the dump, or in the target after a restore or copy',
    value: (r) => r.tables,
  },
  {
    name: 'swapped',
    description:
      '`true` when a clean restore or copy was built beside the target and swapped in, `false` when it ran in place',
    value: (r) => (r.swapped === undefined ? undefined : String(r.swapped)),
  },
  {
    name: 'databases',
    description: "the copies' database names, one per line (clone)",
    value: (r) => r.databases?.join('\n'),
  },
  {
    name: 'manifest',
    description: "the backup manifest's S3 URI (backup; one per line for several databases)",
    value: (r) => r.manifest,
  },
  {
    name: 'verification',
    description:
      'how a backup was verified, e.g. `list: passed, 12 TOC entries read back, 3 tables, 65536 bytes read back`',
    value: (r) => r.verification,
  },
];

/** A report's outputs that have a value, in table order. */
export function outputValues(report: JobReport): [name: string, value: string | number][] {
  return OUTPUTS.flatMap((o) => {
    const value = o.value(report);
    return value === undefined ? [] : [[o.name, value] as [string, string | number]];
  });
}
