import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { PgferryError } from '../errors.js';
import type { ArchiveFacts } from './archive/facts.js';
import { ARCH_CUSTOM, ARCH_TAR, readHeader } from './archive/header.js';
import { HeaderReader, OutOfBytes } from './archive/header-reader.js';
import { tarTocMember } from './archive/tar.js';

/**
 * An archive's table of contents read from the archive itself, as pg_restore's ReadToc reads it.
 * `pg_restore --list` prints names unquoted and space-separated, so a schema `my schema` and a
 * schema `my` owning a table `schema …` print alike; the TOC holds every name as its own string.
 */
export interface TocEntry {
  dumpId: number;
  /** The object kind: `SCHEMA`, `TABLE`, `TABLE DATA`, `PUBLICATION`, … */
  desc: string;
  /** The object's name as pg_dump tagged it (unquoted). */
  tag: string;
  /** The schema the object lives in; undefined for objects of no schema. */
  namespace?: string;
  owner?: string;
  /** The statement that drops the object, as pg_dump wrote it (identifiers quoted). */
  dropStmt?: string;
  /** Custom format only: whether the TOC records where this entry's data block starts. */
  dataOffset?: DataOffset;
  /** Custom format only, when `dataOffset` is `set`: where the entry's data block starts in the file. */
  dataPosition?: number;
  /** pg_dump's section of the entry (archive 1.11+): its data entries are what a data-only restore runs. */
  section?: TocSection;
  /** The SQL that makes the object; kept only for the database's own entries (database-properties.ts). */
  definition?: string;
  /** Directory format only: the entry's data file as the TOC names it (before any compression suffix). */
  dataFile?: string;
  /** The entry's data is COPY rows (ending in `\.`), not INSERT statements. */
  copyData?: boolean;
  /** That COPY statement, as pg_dump wrote it (masking-rules checks its columns). */
  copyStmt?: string;
}

/** The database's own entries: pg_dump writes them into every archive, pg_restore runs them only with --create. */
function isDatabaseLevel(desc: string, tag: string): boolean {
  if (desc === 'DATABASE' || desc === 'DATABASE PROPERTIES') return true;
  return ['COMMENT', 'ACL', 'SECURITY LABEL'].includes(desc) && tag.startsWith('DATABASE ');
}

/**
 * pg_dump fills data offsets in by rewriting the TOC after the data, which it can only do when its
 * output is seekable: written to a pipe, every entry with data stays `unset`.
 */
type DataOffset = NonNullable<ArchiveFacts['dataOffsets']>;

export type TocSection = 'none' | 'pre-data' | 'data' | 'post-data';

/** pg_backup_archiver.h's teSection: SECTION_NONE … SECTION_POST_DATA. */
const SECTIONS: Record<number, TocSection> = { 1: 'none', 2: 'pre-data', 3: 'data', 4: 'post-data' };

/** pg_backup_archiver.h's K_OFFSET_POS_NOT_SET, K_OFFSET_POS_SET and K_OFFSET_NO_DATA. */
const OFFSET_FLAGS: Record<number, DataOffset> = { 1: 'unset', 2: 'set', 3: 'none' };

/** Definitions of big functions or views can be long; beyond this a TOC is not believable. */
const MAX_TOC_STRING = 256 * 1024 * 1024;
const FIRST_READ = 1024 * 1024;

type TocKind = 'custom' | 'tar' | 'directory';

/** Parses a TOC from a buffer holding at least the whole TOC (else OutOfBytes). */
export function parseToc(buf: Buffer, kind: TocKind, name: string): TocEntry[] {
  let start = 0;
  let end = Infinity;
  if (kind === 'tar') {
    const member = tarTocMember(buf, name);
    start = member.start;
    end = member.start + member.size;
  }
  const r = new HeaderReader(buf, start, end, name);
  const header = readHeader(r, kind === 'custom' ? ARCH_CUSTOM : ARCH_TAR, name, kind);
  const minor = Number(header.archiveVersion.split('.')[1]);
  if (minor < 7) {
    throw new PgferryError(
      `${name} is archive version ${header.archiveVersion}; pgferry reads the table of contents of 1.7 (PostgreSQL 7.3) and newer`,
    );
  }
  const str = (what: string): string | undefined => r.str(what, MAX_TOC_STRING);
  const entries: TocEntry[] = [];
  for (let i = 0; i < header.tocEntries; i++) {
    const dumpId = r.int();
    r.int(); // whether the entry has data
    if (minor >= 8) {
      str('a table oid');
      str('an oid');
    }
    const tag = str('a tag') ?? '';
    const desc = str('an object kind') ?? '';
    const section = minor >= 11 ? SECTIONS[r.int()] : undefined;
    const definition = str('a definition');
    const dropStmt = str('a drop statement');
    const copyStmt = minor >= 3 ? str('a COPY statement') : undefined;
    const namespace = minor >= 6 ? str('a schema name') : undefined;
    if (minor >= 10) str('a tablespace');
    if (minor >= 14) str('a table access method');
    if (minor >= 16) r.int(); // relkind
    const owner = str('an owner');
    if (minor >= 9) str('the WITH OIDS flag');
    if (minor >= 5) while (str('a dependency') !== undefined);
    let dataOffset: DataOffset | undefined;
    let dataPosition: number | undefined;
    if (kind === 'custom') {
      const flag = r.byte();
      dataOffset = OFFSET_FLAGS[flag];
      if (dataOffset === undefined) {
        throw new PgferryError(
          `${name} has a corrupt table of contents: entry ${dumpId} has data-offset flag ${flag}, where pg_dump writes 1, 2 or 3`,
        );
      }
      // WriteOffset: offSize bytes, least significant first.
      const position = r.bytes(r.offSize).reduce((sum, b, i) => sum + b * 2 ** (8 * i), 0);
      if (dataOffset === 'set') dataPosition = position;
    }
    const dataFile = kind === 'custom' ? undefined : str('a data file name');
    const entry: TocEntry = { dumpId, desc, tag };
    if (kind === 'directory' && dataFile !== undefined && dataFile !== '') entry.dataFile = dataFile;
    if (copyStmt !== undefined && copyStmt !== '') {
      entry.copyData = true;
      entry.copyStmt = copyStmt;
    }
    if (dataOffset !== undefined) entry.dataOffset = dataOffset;
    if (dataPosition !== undefined) entry.dataPosition = dataPosition;
    if (section !== undefined) entry.section = section;
    if (namespace !== undefined && namespace !== '') entry.namespace = namespace;
    if (owner !== undefined && owner !== '') entry.owner = owner;
    if (dropStmt !== undefined && dropStmt !== '') entry.dropStmt = dropStmt;
    if (definition !== undefined && definition !== '' && isDatabaseLevel(desc, tag))
      entry.definition = definition;
    entries.push(entry);
  }
  return entries;
}

/** Reads growing prefixes of `file` until the TOC parses; the TOC sits before any data. */
async function parseFile(file: string, kind: TocKind): Promise<TocEntry[]> {
  const handle = await open(file, 'r');
  try {
    let buf = Buffer.alloc(0);
    let want = FIRST_READ;
    for (;;) {
      const chunk = Buffer.alloc(want - buf.length);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, buf.length);
      buf = Buffer.concat([buf, chunk.subarray(0, bytesRead)]);
      const final = bytesRead < chunk.length;
      try {
        return parseToc(buf, kind, file);
      } catch (error) {
        if (!(error instanceof OutOfBytes)) throw error;
        if (final) throw new PgferryError(`${file} ends inside its table of contents; the dump is truncated`);
        want *= 2;
      }
    }
  } finally {
    await handle.close();
  }
}

/** The TOC of a custom, tar or directory archive (`format` as readArchiveFacts found it). */
export async function readTocEntries(
  file: string,
  format: 'custom' | 'tar' | 'directory',
): Promise<TocEntry[]> {
  if (format === 'directory' || (await stat(file)).isDirectory())
    return parseFile(path.join(file, 'toc.dat'), 'directory');
  return parseFile(file, format === 'tar' ? 'tar' : 'custom');
}

/**
 * Whether a custom archive's data can be found by seeking: `set` when every entry with data records
 * its offset, `unset` when any does not (pg_dump wrote to a pipe), `none` when no entry has data.
 */
export function summariseDataOffsets(entries: readonly TocEntry[]): DataOffset {
  const states = new Set(entries.map((e) => e.dataOffset ?? 'none'));
  if (states.has('unset')) return 'unset';
  return states.has('set') ? 'set' : 'none';
}

/** The data-offset state of a custom-format archive file, read from its TOC. */
export async function readDataOffsets(file: string): Promise<DataOffset> {
  return summariseDataOffsets(await parseFile(file, 'custom'));
}
