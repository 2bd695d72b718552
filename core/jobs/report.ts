import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { readTocEntries } from '../pg/archive-toc.js';
import { withClient } from '../pg/server.js';
import type { ConnectionSpec } from '../pg/connection.js';

/**
 * What a job reports: the Action's outputs, the CLI's fields (`--json`), the scheduled job's summary.
 * Names follow DESIGN.md's outputs, in camelCase.
 */
export interface JobReport {
  command: string;
  clientVersion: string;
  /** Where the client came from: explicit, installed, cache or download. */
  clientSource: string;
  serverVersion?: string;
  binDir: string;
  location?: string;
  bytes?: number;
  sha256?: string;
  format?: string;
  archiveVersion?: string;
  durationSeconds: number;
  tocEntries?: number;
  tables?: number;
  manifest?: string;
  /** A backup's verification as a reader sees it, e.g. "list: passed" (one per line, per database). */
  verification?: string;
  /** clone: the copies' database names. */
  databases?: string[];
  /** A clean restore or copy: replaced by swap (true) or in place (false). */
  swapped?: boolean;
  /** Why this client was chosen, in words. */
  reason: string;
  warnings: string[];
  /** Session settings dropped on the script path. */
  filtered: string[];
  /** masking-rules: rows masked per table and the leak check per column, one line each. */
  masking?: string[];
}

/** SHA-256 of a file (not of a directory archive). */
export async function sha256File(file: string): Promise<string | undefined> {
  if (!(await stat(file)).isFile()) return undefined;
  // One reused 4 MiB buffer read in a loop: a read stream into a Hash stream took 0.65 s for a
  // 190 MB dump in a fresh process (a new buffer per chunk, and the collector after them), this 0.16 s.
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  const handle = await open(file);
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return hash.digest('hex');
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

/** TABLE entries in an archive's table of contents, read from the archive (no name is split). */
export async function countArchiveTables(
  archive: string,
  format: 'custom' | 'tar' | 'directory',
): Promise<number> {
  return (await readTocEntries(archive, format)).filter((e) => e.desc === 'TABLE').length;
}

/** User tables (and partitioned tables) in a database, after a restore or copy. */
export async function countDatabaseTables(spec: ConnectionSpec): Promise<number> {
  return withClient(spec, 'to', async (c) => {
    const { rows } = await c.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
    );
    return Number(rows[0]?.n ?? 0);
  });
}
