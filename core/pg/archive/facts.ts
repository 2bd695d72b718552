/** What the archive readers report about a dump, and the hint a caller gives about its bytes. */
import { parseVersionString } from '../version.js';
import type { PgVersion } from '../version.js';

export type ArchiveFormat = 'custom' | 'tar' | 'directory' | 'plain';
export type ArchiveCompression = 'none' | 'gzip' | 'lz4' | 'zstd' | 'unknown';

export interface ArchiveFacts {
  format: ArchiveFormat;
  /** `major.minor` of the archive format (`1.16`); undefined for plain SQL. */
  archiveVersion?: string;
  compression: ArchiveCompression;
  /** The level archives before 1.15 record (-1 means zlib's default); later ones record none. */
  compressionLevel?: number;
  serverVersion?: PgVersion;
  /** As the header or comment has it, e.g. `17.5` or `16.4 (Debian 16.4-1.pgdg120+1)`. */
  serverVersionText?: string;
  dumpVersion?: PgVersion;
  dumpVersionText?: string;
  database?: string;
  tocEntries?: number;
  /**
   * Custom format, once its TOC was read (the header readers do not): whether entries with data
   * record their offsets. `unset` (pg_dump wrote to a pipe, as every S3 backup does) means
   * pg_restore cannot seek to a table's data, so such an archive is restored with one job.
   */
  dataOffsets?: 'set' | 'unset' | 'none';
  /** Plain SQL only: the dump carries a `\restrict` line (pg_dump from the 2025-08 minors on). */
  restrictKey?: boolean;
}

/** How to read a buffer: as a directory archive's toc.dat, and what to call it in messages. */
export interface ArchiveHint {
  isDirectory?: boolean;
  name?: string;
}

/** Records the server and pg_dump versions as written, and parsed where they parse. */
export function addVersions(facts: ArchiveFacts, server: string | undefined, dump: string | undefined): void {
  const serverText = server?.trim();
  if (serverText) {
    facts.serverVersionText = serverText;
    const v = parseVersionString(serverText);
    if (v) facts.serverVersion = v;
  }
  const dumpText = dump?.trim();
  if (dumpText) {
    facts.dumpVersionText = dumpText;
    const v = parseVersionString(dumpText);
    if (v) facts.dumpVersion = v;
  }
}
