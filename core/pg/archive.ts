/**
 * Archive facts: what kind of PostgreSQL dump a file is and what its header says (archive version,
 * compression, source server and pg_dump versions, database, TOC size), read from the first bytes
 * only, without running pg_restore. Choosing a client major depends on these facts, so every read is
 * bounds-checked and anything that is not a dump ends in a PgferryError, never a crash.
 */
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { PgferryError } from '../errors.js';
import { MAX_MAJOR, MIN_MAJOR, SUPPORTED_MAJORS, parseVersionString } from './version.js';
import type { PgVersion } from './version.js';

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

/** Bytes a first read takes; real headers need well under 1 KiB, plain SQL a few KiB of text. */
const READ_CHUNK = 64 * 1024;
/** Never read more than this looking for a header; three maximal header strings fit well within. */
const MAX_HEAD = 1024 * 1024;
/** Header strings longer than this are garbage (real ones: a database name and two versions). */
const MAX_HEADER_STRING = 64 * 1024;
/** Decompressed SQL text enough for the header comments and a `--create` CREATE DATABASE. */
const PLAIN_TEXT_WANTED = 16 * 1024;
/** Cap on inflating a gzip prefix, so a gzip bomb cannot exhaust memory. */
const MAX_INFLATE = 4 * 1024 * 1024;
/** A stream or file shorter than a tar block is only judged once it has ended. */
const MIN_SNIFF = 512;
const TAR_BLOCK = 512;

const MAGIC = Buffer.from('PGDMP', 'latin1');

/** The format byte in the header. Directory archives write archTar (3) in toc.dat, as pg_dump does. */
const FORMAT_BYTES: Record<number, string> = {
  1: 'custom',
  2: 'files',
  3: 'tar',
  4: 'null',
  5: 'directory',
};
export const ARCH_CUSTOM = 1;
export const ARCH_TAR = 3;

/** The compression algorithm byte of archive versions >= 1.15 (pg_compress_algorithm). */
const ALGORITHMS: readonly ArchiveCompression[] = ['none', 'gzip', 'lz4', 'zstd'];

/** Highest archive version each pg_restore major reads (K_VERS_MAX of that release). */
const MAX_ARCHIVE_VERSION: Record<number, string> = {
  12: '1.14',
  13: '1.14',
  14: '1.14',
  15: '1.14',
  16: '1.15',
  17: '1.16',
  18: '1.16',
};

/** Compressed-file magics we recognise only to say why we cannot read them. */
const OTHER_COMPRESSIONS: ReadonlyArray<{ magic: number[]; name: string; tool: string }> = [
  { magic: [0x28, 0xb5, 0x2f, 0xfd], name: 'zstd', tool: 'zstd -d' },
  { magic: [0x04, 0x22, 0x4d, 0x18], name: 'lz4', tool: 'lz4 -d' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: 'xz', tool: 'xz -d' },
  { magic: [0x42, 0x5a, 0x68], name: 'bzip2', tool: 'bzip2 -d' },
];

/** Internal signal: the bytes ran out. With more to come we read on; at the end it means truncation. */
/** The input ended before what was being read; a caller with more bytes may try again. */
export class OutOfBytes extends Error {}

// ---------------------------------------------------------------------------------------------
// Archive versions
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Reading a buffer
// ---------------------------------------------------------------------------------------------

/** Identifies a dump from its first bytes and reads its header. Pure: the buffer is the whole input. */
export function readArchiveFactsFromBuffer(head: Buffer, hint?: ArchiveHint): ArchiveFacts {
  // With final = true sniff always decides.
  const facts = sniff(head, hint ?? {}, true);
  if (!facts) throw new PgferryError('internal: a final sniff did not decide');
  return facts;
}

/**
 * Decides what `head` is. When `final` is false more bytes may follow, and undefined asks for them
 * instead of calling a short input truncated.
 */
function sniff(head: Buffer, hint: ArchiveHint, final: boolean): ArchiveFacts | undefined {
  const name = hint.name ?? 'the dump';
  if (!final && head.length < MIN_SNIFF) return undefined;
  try {
    return classify(head, hint, name, final);
  } catch (error) {
    if (!(error instanceof OutOfBytes)) throw error;
    if (!final) return undefined;
    throw new PgferryError(
      `${name} ends inside the archive header (${head.length} bytes); the dump is truncated`,
    );
  }
}

function classify(head: Buffer, hint: ArchiveHint, name: string, final: boolean): ArchiveFacts | undefined {
  if (head.length === 0) throw new PgferryError(`${name} is empty, not a PostgreSQL dump`);
  const pgdmp = startsWithMagic(head);
  if (hint.isDirectory) {
    if (pgdmp === 'no') {
      throw new PgferryError(
        `${name} is not the toc.dat of a directory-format dump (pg_dump -Fd): it has no PGDMP header`,
      );
    }
    return headerFacts(
      'directory',
      readHeader(new HeaderReader(head, 0, Infinity, name), ARCH_TAR, name, 'directory'),
    );
  }
  if (pgdmp !== 'no') {
    return headerFacts(
      'custom',
      readHeader(new HeaderReader(head, 0, Infinity, name), ARCH_CUSTOM, name, 'custom'),
    );
  }
  if (looksLikeTar(head)) return readTar(head, name);
  if (head[0] === 0x1f && head[1] === 0x8b) return readGzipPlain(head, name, final);
  for (const other of OTHER_COMPRESSIONS) {
    if (other.magic.every((byte, i) => head[i] === byte)) {
      throw new PgferryError(
        `${name} is ${other.name}-compressed; pgferry reads compressed plain SQL dumps only when gzip-compressed. Decompress it first (${other.tool})`,
      );
    }
  }
  if (!final && head.length < PLAIN_TEXT_WANTED) return undefined;
  return plainFacts(head.toString('utf8'), 'none', name);
}

/** 'yes' when the buffer starts with PGDMP, 'prefix' when it is a shorter start of it. */
function startsWithMagic(buf: Buffer): 'yes' | 'prefix' | 'no' {
  const n = Math.min(buf.length, MAGIC.length);
  if (n === 0 || !buf.subarray(0, n).equals(MAGIC.subarray(0, n))) return 'no';
  return n === MAGIC.length ? 'yes' : 'prefix';
}

function corrupt(name: string, detail: string): PgferryError {
  return new PgferryError(`${name} has a corrupt archive header: ${detail}`);
}

/**
 * Bounds-checked reads over [start, end) of a buffer. Past `end` (a tar member's size) the header
 * is corrupt; past the buffer the input is short (OutOfBytes).
 */
export class HeaderReader {
  private pos: number;
  intSize = 4;
  /** Width of a data offset (custom-format TOC entries carry one). */
  offSize = 8;
  /** Archive versions after 1.0 write a sign byte before each integer. */
  signed = true;
  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
    private readonly name: string,
  ) {
    this.pos = start;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw corrupt(this.name, 'toc.dat ends inside the archive header');
    if (this.pos + n > this.buf.length) throw new OutOfBytes();
  }

  byte(): number {
    this.need(1);
    const b = this.buf[this.pos] ?? 0;
    this.pos += 1;
    return b;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** pg_dump's WriteInt: a sign byte, then intSize bytes of magnitude, least significant first. */
  int(): number {
    const negative = this.signed ? this.byte() !== 0 : false;
    let value = 0;
    for (let i = 0; i < this.intSize; i++) value += this.byte() * 2 ** (8 * i);
    // pg_dump writes C ints; anything wider is garbage.
    if (value > 0x7fffffff) throw corrupt(this.name, `integer ${value} out of range`);
    return negative ? -value : value;
  }

  /** pg_dump's WriteStr: an int length (-1 for NULL), then that many bytes. */
  str(what: string, maxLength = MAX_HEADER_STRING): string | undefined {
    const length = this.int();
    if (length === -1) return undefined;
    if (length < 0) throw corrupt(this.name, `${what} has negative length ${length}`);
    if (length > maxLength) throw corrupt(this.name, `${what} is ${length} bytes long`);
    return this.bytes(length).toString('utf8');
  }
}

export interface HeaderFields {
  archiveVersion: string;
  compression: ArchiveCompression;
  compressionLevel?: number;
  database?: string;
  serverVersionText?: string;
  dumpVersionText?: string;
  tocEntries: number;
}

/**
 * Reads the header pg_dump's WriteHead writes, then the TOC entry count. Archive-version branches
 * follow ReadHead, so headers from old pg_dump releases read too.
 */
export function readHeader(
  r: HeaderReader,
  expectedFormat: number,
  name: string,
  kind: string,
): HeaderFields {
  if (!r.bytes(MAGIC.length).equals(MAGIC)) throw new PgferryError(`${name} has no PGDMP header`);
  const vmaj = r.byte();
  const vmin = r.byte();
  if (vmaj !== 1) throw corrupt(name, `archive version ${vmaj}.${vmin} is unknown (pg_dump writes 1.x)`);
  if (vmin > 0) r.byte(); // revision, unused
  r.signed = vmin > 0;
  const intSize = r.byte();
  if (intSize < 1 || intSize > 8) throw corrupt(name, `integer size ${intSize} (expected 1 to 8)`);
  r.intSize = intSize;
  if (vmin >= 7) {
    const offSize = r.byte();
    if (offSize < 1 || offSize > 8) throw corrupt(name, `offset size ${offSize} (expected 1 to 8)`);
    r.offSize = offSize;
  }
  const format = r.byte();
  const formatName = FORMAT_BYTES[format];
  if (formatName === undefined) throw corrupt(name, `unknown archive format code ${format}`);
  if (format !== expectedFormat) throw formatMismatch(name, kind, format, formatName, expectedFormat);

  let compression: ArchiveCompression;
  let compressionLevel: number | undefined;
  if (vmin >= 15) {
    compression = ALGORITHMS[r.byte()] ?? 'unknown';
  } else {
    // Before 1.15 only zlib existed and the header records its level: 0 means none.
    if (vmin >= 4) compressionLevel = r.int();
    else if (vmin >= 2) compressionLevel = r.byte();
    compression = compressionLevel === 0 ? 'none' : 'gzip';
  }

  let database: string | undefined;
  if (vmin >= 4) {
    for (let i = 0; i < 7; i++) r.int(); // creation time as struct tm fields, local to the dumping host
    database = r.str('the database name');
  }
  let serverVersionText: string | undefined;
  let dumpVersionText: string | undefined;
  if (vmin >= 10) {
    serverVersionText = r.str('the server version');
    dumpVersionText = r.str('the pg_dump version');
  }
  const tocEntries = r.int();
  if (tocEntries < 0) throw corrupt(name, `negative TOC entry count ${tocEntries}`);

  const fields: HeaderFields = { archiveVersion: `${vmaj}.${vmin}`, compression, tocEntries };
  if (compressionLevel !== undefined) fields.compressionLevel = compressionLevel;
  if (database !== undefined) fields.database = database;
  if (serverVersionText !== undefined) fields.serverVersionText = serverVersionText;
  if (dumpVersionText !== undefined) fields.dumpVersionText = dumpVersionText;
  return fields;
}

function formatMismatch(
  name: string,
  kind: string,
  format: number,
  formatName: string,
  expected: number,
): PgferryError {
  if (kind === 'custom' && format === ARCH_TAR) {
    return new PgferryError(
      `${name} is the toc.dat of a directory- or tar-format dump, not a custom-format archive; pass the whole directory or tar file`,
    );
  }
  return corrupt(
    name,
    `format code ${format} (${formatName}) where a ${kind}-format archive has ${expected}`,
  );
}

function headerFacts(format: ArchiveFormat, h: HeaderFields): ArchiveFacts {
  const facts: ArchiveFacts = { format, archiveVersion: h.archiveVersion, compression: h.compression };
  if (h.compressionLevel !== undefined) facts.compressionLevel = h.compressionLevel;
  addVersions(facts, h.serverVersionText, h.dumpVersionText);
  if (h.database !== undefined) facts.database = h.database;
  facts.tocEntries = h.tocEntries;
  return facts;
}

function addVersions(facts: ArchiveFacts, server: string | undefined, dump: string | undefined): void {
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

// ---------------------------------------------------------------------------------------------
// Tar archives (pg_dump -Ft): toc.dat is the first member and holds the same header
// ---------------------------------------------------------------------------------------------

/** A ustar header block, or the start of one (then the input is short, not garbage). */
function looksLikeTar(buf: Buffer): boolean {
  if (buf.length >= 262) return buf.toString('latin1', 257, 262) === 'ustar';
  return buf.toString('latin1', 0, 8) === 'toc.dat\0';
}

function tarString(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.toString('utf8', 0, nul === -1 ? field.length : nul);
}

function tarNumber(buf: Buffer, start: number, length: number): number | undefined {
  const first = buf[start] ?? 0;
  if (first & 0x80) {
    // GNU base-256 for sizes octal cannot hold.
    let value = first & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + (buf[start + i] ?? 0);
    return Number.isSafeInteger(value) ? value : undefined;
  }
  const text = buf
    .toString('latin1', start, start + length)
    .replace(/[\0 ]+$/, '')
    .trim();
  if (!/^[0-7]{1,12}$/.test(text)) return text === '' ? 0 : undefined;
  return parseInt(text, 8);
}

function readTar(buf: Buffer, name: string): ArchiveFacts {
  const { start, size } = tarTocMember(buf, name);
  return headerFacts(
    'tar',
    readHeader(new HeaderReader(buf, start, start + size, name), ARCH_TAR, name, 'tar'),
  );
}

/** Where a tar-format dump's first member, toc.dat, lies in `buf`. */
export function tarTocMember(buf: Buffer, name: string): { start: number; size: number } {
  const notDump = (why: string): PgferryError =>
    new PgferryError(`${name} is a tar file but not a tar-format dump from pg_dump -Ft: ${why}`);
  let offset = 0;
  // Skip pax and GNU long-name headers that a repacking tool may have added before toc.dat.
  for (let members = 0; members < 8; members++) {
    if (offset + TAR_BLOCK > buf.length) throw new OutOfBytes();
    const block = buf.subarray(offset, offset + TAR_BLOCK);
    if (block.toString('latin1', 257, 262) !== 'ustar')
      throw notDump('a member header is not a ustar header');
    const stored = tarNumber(block, 148, 8);
    let sum = 0;
    for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    if (stored !== sum) throw new PgferryError(`${name} has a corrupt tar header: checksum mismatch`);
    const size = tarNumber(block, 124, 12);
    if (size === undefined) throw new PgferryError(`${name} has a corrupt tar header: bad member size`);
    const type = String.fromCharCode(block[156] ?? 0);
    const dataStart = offset + TAR_BLOCK;
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      offset = dataStart + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
      continue;
    }
    const prefix = tarString(block, 345, 155);
    const member = (prefix ? `${prefix}/` : '') + tarString(block, 0, 100);
    if (member.replace(/^\.\//, '') !== 'toc.dat' || (type !== '0' && type !== '\0')) {
      throw notDump(`its first member is "${member}", where pg_dump writes toc.dat`);
    }
    if (size > 0 && startsWithMagic(buf.subarray(dataStart, dataStart + MAGIC.length)) === 'no') {
      throw notDump('toc.dat does not start with a PGDMP header');
    }
    return { start: dataStart, size };
  }
  throw notDump('too many extension headers before toc.dat');
}

// ---------------------------------------------------------------------------------------------
// Plain SQL (pg_dump -Fp), possibly gzip-compressed
// ---------------------------------------------------------------------------------------------

/**
 * Inflates just enough of a gzip prefix. zlib's sync API has no streaming, so we inflate growing
 * prefixes with a sync flush (which tolerates a cut-off end) until there is text enough.
 */
function gunzipPrefix(buf: Buffer, name: string): Buffer {
  let take = Math.min(buf.length, 1024);
  let out = Buffer.alloc(0);
  for (;;) {
    try {
      out = zlib.gunzipSync(buf.subarray(0, take), {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_INFLATE,
      });
    } catch (error) {
      // Keep what an earlier prefix gave: the header sits at the very start.
      if (out.length > 0) break;
      const detail = error instanceof Error ? error.message : String(error);
      throw new PgferryError(`${name} looks gzip-compressed but does not decompress: ${detail}`, {
        cause: error,
      });
    }
    if (out.length >= PLAIN_TEXT_WANTED || take >= buf.length) break;
    take = Math.min(buf.length, take * 4);
  }
  return out;
}

function readGzipPlain(head: Buffer, name: string, final: boolean): ArchiveFacts | undefined {
  const inner = gunzipPrefix(head, name);
  if (!final && inner.length < PLAIN_TEXT_WANTED) return undefined;
  if (inner.length === 0) throw new PgferryError(`${name} is gzip-compressed but holds no data`);
  if (startsWithMagic(inner) !== 'no' || looksLikeTar(inner)) {
    throw new PgferryError(
      `${name} is a gzip-compressed custom- or tar-format archive, which pg_restore cannot read; gunzip it first`,
    );
  }
  return plainFacts(inner.toString('utf8'), 'gzip', name);
}

/** pg_dump, pg_dumpall and pg_restore -f all open SQL output with this banner, even with --no-comments. */
const PLAIN_BANNER = /^-- PostgreSQL database (?:cluster )?dump\r?$|^-- Dumped (?:from database|by pg_dump)/m;

function plainFacts(raw: string, compression: ArchiveCompression, name: string): ArchiveFacts {
  const text = raw.replace(/^\uFEFF/, '');
  const top = text.slice(0, 4096);
  if (!/^\s*--/.test(top) || !PLAIN_BANNER.test(top)) {
    throw new PgferryError(
      `${name} is not a PostgreSQL dump: expected a custom/tar/directory archive (PGDMP header) or plain SQL from pg_dump`,
    );
  }
  const facts: ArchiveFacts = { format: 'plain', compression };
  const server = /^-- Dumped from database version ([^\r\n]+)/m.exec(text)?.[1];
  const dump = /^-- Dumped by pg_dump(?:all)? version ([^\r\n]+)/m.exec(text)?.[1];
  addVersions(facts, server, dump);
  const database = plainDatabase(text);
  if (database !== undefined) facts.database = database;
  facts.restrictKey = /^\\restrict[ \t]+\S/m.test(text);
  return facts;
}

/** The database a `--create` dump creates: CREATE DATABASE, else the \connect that follows it. */
function plainDatabase(text: string): string | undefined {
  const created = /^CREATE DATABASE ("(?:[^"]|"")+"|[^\s";]+)/m.exec(text)?.[1];
  if (created !== undefined)
    return created.startsWith('"') ? created.slice(1, -1).replace(/""/g, '"') : created;
  const connect = /^\\connect (?:-reuse-previous=on )?("dbname='(?:[^'\\]|\\.)*'"|[^\s"]+)\r?$/m.exec(
    text,
  )?.[1];
  if (connect === undefined) return undefined;
  return connect.startsWith('"') ? connect.slice(9, -2).replace(/\\(.)/g, '$1') : connect;
}

// ---------------------------------------------------------------------------------------------
// Files, directories and streams
// ---------------------------------------------------------------------------------------------

/** Feeds growing prefixes to sniff until it decides; returns the facts and the bytes consumed. */
async function sniffChunks(
  next: () => Promise<Buffer | null>,
  hint: ArchiveHint,
): Promise<{ facts: ArchiveFacts; head: Buffer }> {
  const chunks: Buffer[] = [];
  let total = 0;
  let ended = false;
  for (;;) {
    const head = Buffer.concat(chunks, total);
    const facts = sniff(head, hint, ended || total >= MAX_HEAD);
    if (facts) return { facts, head };
    const chunk = await next();
    if (chunk === null) ended = true;
    else if (chunk.length > 0) {
      chunks.push(chunk);
      total += chunk.length;
    }
  }
}

function fsError(file: string, error: unknown): PgferryError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new PgferryError(`${file} does not exist`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') {
    return new PgferryError(`cannot read ${file}: permission denied`, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new PgferryError(`cannot read ${file}: ${detail}`, { cause: error });
}

async function readFileFacts(file: string, hint: ArchiveHint): Promise<ArchiveFacts> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw fsError(file, error);
  }
  try {
    const fh = handle;
    const next = async (): Promise<Buffer | null> => {
      const buf = Buffer.alloc(READ_CHUNK);
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, 0, READ_CHUNK, null));
      } catch (error) {
        throw fsError(file, error);
      }
      return bytesRead === 0 ? null : buf.subarray(0, bytesRead);
    };
    return (await sniffChunks(next, hint)).facts;
  } finally {
    await handle.close();
  }
}

/** Directory data files carry their compression in the suffix, which is what pg_restore goes by. */
function compressionFromDataFiles(entries: readonly string[]): ArchiveCompression | undefined {
  const kinds = new Set<ArchiveCompression>();
  for (const entry of entries) {
    const m = /^(?:\d+|blob_\d+)\.dat(\.gz|\.lz4|\.zst)?$/.exec(entry);
    if (!m) continue;
    kinds.add(m[1] === '.gz' ? 'gzip' : m[1] === '.lz4' ? 'lz4' : m[1] === '.zst' ? 'zstd' : 'none');
  }
  if (kinds.size === 0) return undefined;
  if (kinds.size === 1) return [...kinds][0];
  // Some files left uncompressed (e.g. gunzipped by hand) still need the other algorithm.
  kinds.delete('none');
  return kinds.size === 1 ? [...kinds][0] : 'unknown';
}

/** Reads the facts of a dump file or directory-format dump, taking only the first bytes needed. */
export async function readArchiveFacts(file: string): Promise<ArchiveFacts> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    throw fsError(file, error);
  }
  if (!info.isDirectory()) return readFileFacts(file, { name: file });

  const toc = path.join(file, 'toc.dat');
  let tocInfo;
  try {
    tocInfo = await stat(toc);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fsError(toc, error);
  }
  if (!tocInfo?.isFile()) {
    throw new PgferryError(
      `${file} is a directory without toc.dat, so not a directory-format dump (pg_dump -Fd)`,
    );
  }
  const facts = await readFileFacts(toc, { isDirectory: true, name: toc });
  let entries: string[];
  try {
    entries = await readdir(file);
  } catch (error) {
    throw fsError(file, error);
  }
  const fromFiles = compressionFromDataFiles(entries);
  if (fromFiles !== undefined) facts.compression = fromFiles;
  return facts;
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new PgferryError(`the dump stream yielded ${typeof chunk} chunks; expected bytes`);
}

function isNodeStream(s: unknown): s is NodeJS.ReadableStream {
  const x = s as Partial<NodeJS.ReadableStream> | null;
  return (
    typeof x?.read === 'function' && typeof x.on === 'function' && typeof x.removeListener === 'function'
  );
}

/**
 * Pulls chunks from a Node stream in paused mode. Unlike its async iterator, this leaves the stream
 * open and listener-free afterwards, so the caller can pipe the rest.
 */
function nodeStreamPuller(stream: NodeJS.ReadableStream, name: string): () => Promise<Buffer | null> {
  const state = stream as { readableEnded?: boolean; readableLength?: number };
  const isEnded = (): boolean => state.readableEnded === true;
  // read() alone hands over everything buffered; a bounded size leaves the rest in the stream.
  const take = (): unknown => {
    const buffered = state.readableLength ?? 0;
    return buffered > 0 ? stream.read(Math.min(buffered, READ_CHUNK)) : stream.read();
  };
  return async () => {
    // Take what is buffered first: a 'readable' event already emitted will not come again.
    const buffered = take();
    if (buffered !== null) return toBuffer(buffered);
    if (isEnded()) return null;
    return new Promise<Buffer | null>((resolve, reject) => {
      const cleanup = (): void => {
        stream.removeListener('readable', onReadable);
        stream.removeListener('end', onEnd);
        stream.removeListener('error', onError);
      };
      const onReadable = (): void => {
        const chunk = take();
        if (chunk === null) return; // 'end' follows
        cleanup();
        try {
          resolve(toBuffer(chunk));
        } catch (error) {
          reject(error);
        }
      };
      const onEnd = (): void => {
        cleanup();
        resolve(null);
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(new PgferryError(`cannot read ${name}: ${error.message}`, { cause: error }));
      };
      stream.on('readable', onReadable);
      stream.on('end', onEnd);
      stream.on('error', onError);
    });
  };
}

/**
 * Reads the facts from the start of a stream. Consumes only the chunks needed and returns them as
 * `head`, so the caller can put them back in front of the rest.
 */
export async function readArchiveFactsFromStream(
  stream: NodeJS.ReadableStream | AsyncIterable<Buffer>,
  name?: string,
): Promise<{ facts: ArchiveFacts; head: Buffer }> {
  const label = name ?? 'the dump stream';
  let next: () => Promise<Buffer | null>;
  if (isNodeStream(stream)) {
    next = nodeStreamPuller(stream, label);
  } else {
    // No return() on the iterator: a generator stays resumable for the rest of the data.
    const iterator = stream[Symbol.asyncIterator]();
    next = async () => {
      const step = await iterator.next();
      return step.done ? null : toBuffer(step.value);
    };
  }
  return sniffChunks(next, { name: label });
}
