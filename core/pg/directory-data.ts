import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { TocEntry } from './archive-toc.js';

/**
 * A directory archive's data files, checked to be whole before anything is restored from them.
 * pg_restore (18.0 seen) reads an lz4 or zstd data file that was cut short as if its table were
 * empty, and an uncompressed one as the rows before the cut (the last one cut too), and exits 0.
 * So each table's file is walked here: compressed ones frame by frame and block by block from their
 * headers (nothing is decompressed), uncompressed COPY data by its `\.` end line. gzip files are left
 * to pg_restore, which reports a truncated one itself.
 */

type Completeness = 'whole' | 'cut' | 'unknown';

const ZSTD_MAGIC = 0xfd2fb528;
const LZ4_MAGIC = 0x184d2204;
/** Skippable frames (zstd and lz4 alike): 0x184D2A50 to 0x184D2A5F, then a 4-byte length. */
const isSkippable = (magic: number) => (magic & 0xfffffff0) >>> 0 === 0x184d2a50;

class Reader {
  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}
  async at(pos: number, length: number): Promise<Buffer | undefined> {
    if (pos + length > this.size) return undefined;
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.handle.read(buf, 0, length, pos);
    return bytesRead === length ? buf : undefined;
  }
}

/** Walks frames from offset 0: `frame` returns the end of the frame starting at pos, or undefined when cut. */
async function walkFrames(
  r: Reader,
  magicWanted: number,
  frame: (pos: number) => Promise<number | undefined>,
): Promise<Completeness> {
  let pos = 0;
  if (r.size === 0) return 'cut';
  while (pos < r.size) {
    const head = await r.at(pos, 4);
    if (!head) return 'cut';
    const magic = head.readUInt32LE(0);
    if (isSkippable(magic)) {
      const len = await r.at(pos + 4, 4);
      if (!len) return 'cut';
      pos += 8 + len.readUInt32LE(0);
    } else if (magic === magicWanted) {
      const end = await frame(pos);
      if (end === undefined) return 'cut';
      pos = end;
    } else return pos === 0 ? 'unknown' : 'cut';
    if (pos > r.size) return 'cut';
  }
  return 'whole';
}

/** RFC 8878: frame header, then blocks of a 3-byte header each, the last one flagged; a checksum if set. */
async function zstdFrameEnd(r: Reader, start: number): Promise<number | undefined> {
  const descriptor = (await r.at(start + 4, 1))?.[0];
  if (descriptor === undefined) return undefined;
  const single = (descriptor >> 5) & 1;
  const contentSize = [single ? 1 : 0, 2, 4, 8][descriptor >> 6] ?? 0;
  const dictionary = [0, 1, 2, 4][descriptor & 3] ?? 0;
  let pos = start + 5 + (single ? 0 : 1) + dictionary + contentSize;
  for (;;) {
    const block = await r.at(pos, 3);
    if (!block) return undefined;
    const header = block.readUIntLE(0, 3);
    const type = (header >> 1) & 3;
    if (type === 3) return undefined;
    pos += 3 + (type === 1 ? 1 : header >>> 3);
    if (pos > r.size) return undefined;
    if (header & 1) break;
  }
  return pos + ((descriptor >> 2) & 1 ? 4 : 0);
}

/** The LZ4 frame format: FLG and BD bytes, options, then size-prefixed blocks up to a zero end mark. */
async function lz4FrameEnd(r: Reader, start: number): Promise<number | undefined> {
  const flg = (await r.at(start + 4, 1))?.[0];
  if (flg === undefined) return undefined;
  const blockChecksum = (flg >> 4) & 1 ? 4 : 0;
  let pos = start + 4 + 2 + ((flg >> 3) & 1 ? 8 : 0) + (flg & 1 ? 4 : 0) + 1;
  for (;;) {
    const word = await r.at(pos, 4);
    if (!word) return undefined;
    const size = word.readUInt32LE(0) & 0x7fffffff;
    pos += 4;
    if (word.readUInt32LE(0) === 0) break;
    pos += size + blockChecksum;
    if (pos > r.size) return undefined;
  }
  return pos + ((flg >> 2) & 1 ? 4 : 0);
}

/** pg_dump ends every table's COPY data with a `\.` line, then empty lines. */
async function copyDataEnds(r: Reader): Promise<Completeness> {
  const length = Math.min(r.size, 16);
  const tail = (await r.at(r.size - length, length))?.toString('latin1') ?? '';
  const lastLine = tail.replace(/\n+$/, '');
  const whole = lastLine.endsWith('\n\\.') || (lastLine === '\\.' && length < 16);
  return whole ? 'whole' : 'cut';
}

/** pg_restore finds a data file under its TOC name or with the suffix of its compression. */
export async function located(
  dir: string,
  name: string,
): Promise<{ file: string; suffix: string } | undefined> {
  for (const suffix of ['', '.gz', '.lz4', '.zst']) {
    const file = path.join(dir, name + suffix);
    const found = await stat(file).catch(() => undefined);
    if (found?.isFile()) return { file, suffix };
  }
  return undefined;
}

async function completeness(file: string, suffix: string, copyData: boolean): Promise<Completeness> {
  const handle = await open(file, 'r');
  try {
    const r = new Reader(handle, (await handle.stat()).size);
    if (suffix === '.zst') return await walkFrames(r, ZSTD_MAGIC, (pos) => zstdFrameEnd(r, pos));
    if (suffix === '.lz4') return await walkFrames(r, LZ4_MAGIC, (pos) => lz4FrameEnd(r, pos));
    if (suffix === '' && copyData) return await copyDataEnds(r);
    return 'unknown';
  } finally {
    await handle.close();
  }
}

/**
 * Refuses a directory archive whose table data file is missing or cut short, naming the file and
 * its table; called before the restore creates or changes anything.
 */
export async function checkDirectoryData(
  dir: string,
  entries: readonly TocEntry[],
  input = 'from',
): Promise<void> {
  for (const e of entries) {
    if (e.desc !== 'TABLE DATA' || e.dataFile === undefined) continue;
    const table = e.namespace === undefined ? e.tag : `${e.namespace}.${e.tag}`;
    const found = await located(dir, e.dataFile);
    if (!found)
      throw new InputError(
        input,
        `${dir} is incomplete: the data file ${e.dataFile} of table ${table} is missing; nothing was restored`,
      );
    if ((await completeness(found.file, found.suffix, e.copyData === true)) === 'cut')
      throw new InputError(
        input,
        `${dir} is incomplete: the data file ${path.basename(found.file)} of table ${table} ends before its data does (the archive was cut short or damaged); nothing was restored`,
      );
  }
}
