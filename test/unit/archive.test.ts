import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import zlib from 'node:zlib';
import * as tar from 'tar';
import {
  compareArchiveVersions,
  lowestMajorReading,
  majorReads,
  maxArchiveVersionForMajor,
  readArchiveFacts,
  readArchiveFactsFromBuffer,
  readArchiveFactsFromStream,
} from '../../core/pg/archive.js';
import type { ArchiveFacts } from '../../core/pg/archive.js';
import { PgferryError } from '../../core/errors.js';
import { readDataOffsets, readTocEntries } from '../../core/pg/archive-toc.js';
import { dataSizes } from '../../core/pg/archive-data-sizes.js';

// ---- A small writer for synthetic headers, laid out as pg_dump's WriteHead does ----

interface Spec {
  vmaj?: number;
  vmin: number;
  intSize?: number;
  offSize?: number;
  format?: number;
  /** Algorithm byte (archive versions >= 1.15). */
  algorithm?: number;
  /** Level int (archive versions < 1.15). */
  level?: number;
  db?: string | null;
  server?: string | null;
  dump?: string | null;
  toc?: number;
}

function int(n: number, size = 4): Buffer {
  const out = Buffer.alloc(1 + size);
  out[0] = n < 0 ? 1 : 0;
  let magnitude = Math.abs(n);
  for (let i = 0; i < size; i++) {
    out[1 + i] = magnitude % 256;
    magnitude = Math.floor(magnitude / 256);
  }
  return out;
}

function str(s: string | null, size = 4): Buffer {
  if (s === null) return int(-1, size);
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([int(bytes.length, size), bytes]);
}

function header(spec: Spec): Buffer {
  const size = spec.intSize ?? 4;
  const parts: Buffer[] = [
    Buffer.from('PGDMP', 'latin1'),
    Buffer.from([spec.vmaj ?? 1, spec.vmin, 0, size, spec.offSize ?? 8, spec.format ?? 1]),
  ];
  if (spec.vmin >= 15) parts.push(Buffer.from([spec.algorithm ?? 1]));
  else parts.push(int(spec.level ?? -1, size));
  for (const field of [33, 21, 1, 24, 10, 126, 0]) parts.push(int(field, size));
  parts.push(
    str(spec.db === undefined ? 'shop' : spec.db, size),
    str(spec.server === undefined ? '17.5 (Debian 17.5-1.pgdg120+1)' : spec.server, size),
    str(spec.dump === undefined ? '17.5' : spec.dump, size),
    int(spec.toc ?? 8, size),
  );
  return Buffer.concat(parts);
}

/** What follows the TOC count in a real file; the reader must not need it. */
const TOC_BODY = Buffer.from('\x00\x01\x00\x00\x00ENCODING\x00', 'latin1');

/** A ustar member built by hand, the way pg_dump's tarCreateHeader lays it out. */
function tarMember(name: string, data: Buffer): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write('0000600 ', 100, 'latin1');
  h.write('0004000 ', 108, 'latin1');
  h.write('0002000 ', 116, 'latin1');
  h.write(`${data.length.toString(8).padStart(11, '0')} `, 124, 'latin1');
  h.write('15301163235 ', 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write('0', 156, 'latin1');
  h.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\x00 `, 148, 'latin1');
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

function tarArchive(...members: Buffer[]): Buffer {
  return Buffer.concat([...members, Buffer.alloc(1024)]);
}

const PLAIN = [
  '--',
  '-- PostgreSQL database dump',
  '--',
  '',
  '\\restrict sJXrIXRv9EEytSWbYvq0vax0dyo3rWSpH2RBJilhNIuQodkFfH6Tl89wpen0Zs5',
  '',
  '-- Dumped from database version 16.4 (Debian 16.4-1.pgdg120+1)',
  '-- Dumped by pg_dump version 17.5',
  '',
  'SET statement_timeout = 0;',
  "SET client_encoding = 'UTF8';",
  '',
  '--',
  '-- Name: My Shop; Type: DATABASE; Schema: -; Owner: postgres',
  '--',
  '',
  `CREATE DATABASE "My Shop" WITH TEMPLATE = template0 ENCODING = 'UTF8';`,
  '',
  `\\connect -reuse-previous=on "dbname='My Shop'"`,
  '',
  'CREATE TABLE public.t (a integer);',
  '',
].join('\n');

/** Deterministic PRNG (mulberry32) so fuzz failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the reader; returns a description of any outcome other than facts or a PgferryError. */
function misbehaviour(input: Buffer, hint?: { isDirectory?: boolean }): string | undefined {
  try {
    const facts = readArchiveFactsFromBuffer(input, hint);
    if (typeof facts.format !== 'string') return `no format for ${input.toString('hex')}`;
    return undefined;
  } catch (error) {
    if (error instanceof PgferryError) return undefined;
    return `${String(error)} for ${input.toString('hex')}`;
  }
}

function errorOf(fn: () => unknown): PgferryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PgferryError) return error;
    throw error;
  }
  throw new Error('expected a PgferryError');
}

/** Awaits a rejection and checks it is a PgferryError with exactly this message. */
async function expectFailure(promise: Promise<unknown>, message: string): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PgferryError);
  expect((error as Error).message).toBe(message);
}

const SERVER_17 = {
  serverVersionText: '17.5 (Debian 17.5-1.pgdg120+1)',
  serverVersion: { major: 17, minor: 5 },
  dumpVersionText: '17.5',
  dumpVersion: { major: 17, minor: 5 },
};

describe('custom-format headers', () => {
  it('reads a 1.16 header', () => {
    const facts = readArchiveFactsFromBuffer(Buffer.concat([header({ vmin: 16 }), TOC_BODY]));
    expect(facts).toEqual<ArchiveFacts>({
      format: 'custom',
      archiveVersion: '1.16',
      compression: 'gzip',
      ...SERVER_17,
      database: 'shop',
      tocEntries: 8,
    });
  });

  it('reads the 1.15 algorithm byte', () => {
    const algorithms = ['none', 'gzip', 'lz4', 'zstd', 'unknown'] as const;
    algorithms.forEach((name, byte) => {
      const facts = readArchiveFactsFromBuffer(header({ vmin: 15, algorithm: byte, toc: 1234 }));
      expect(facts.archiveVersion).toBe('1.15');
      expect(facts.compression).toBe(name);
      expect(facts.compressionLevel).toBeUndefined();
      expect(facts.tocEntries).toBe(1234);
    });
  });

  it('reads the 1.14 compression level', () => {
    expect(readArchiveFactsFromBuffer(header({ vmin: 14, level: -1 }))).toMatchObject({
      archiveVersion: '1.14',
      compression: 'gzip',
      compressionLevel: -1,
    });
    expect(readArchiveFactsFromBuffer(header({ vmin: 14, level: 0 }))).toMatchObject({
      compression: 'none',
      compressionLevel: 0,
    });
    expect(readArchiveFactsFromBuffer(header({ vmin: 14, level: 7 }))).toMatchObject({
      compression: 'gzip',
      compressionLevel: 7,
      ...SERVER_17,
    });
  });

  it('reads other integer sizes and NULL strings', () => {
    const facts = readArchiveFactsFromBuffer(
      header({ vmin: 16, intSize: 8, db: null, server: null, dump: '12.22', toc: 70000 }),
    );
    expect(facts).toEqual<ArchiveFacts>({
      format: 'custom',
      archiveVersion: '1.16',
      compression: 'gzip',
      dumpVersionText: '12.22',
      dumpVersion: { major: 12, minor: 22 },
      tocEntries: 70000,
    });
  });

  it('keeps a version string it cannot parse as text only', () => {
    const facts = readArchiveFactsFromBuffer(header({ vmin: 14, server: '9.6.24' }));
    expect(facts.serverVersionText).toBe('9.6.24');
    expect(facts.serverVersion).toBeUndefined();
  });

  it('tells a loose toc.dat from a custom archive', () => {
    expect(
      errorOf(() => readArchiveFactsFromBuffer(header({ vmin: 16, format: 3 }), { name: 'x.dump' })).message,
    ).toBe(
      'x.dump is the toc.dat of a directory- or tar-format dump, not a custom-format archive; pass the whole directory or tar file',
    );
  });

  it.each<[string, Buffer, RegExp]>([
    ['major version 2', header({ vmin: 16, vmaj: 2 }), /archive version 2\.16 is unknown/],
    ['integer size 0', header({ vmin: 16, intSize: 0 }), /integer size 0/],
    ['integer size 9', header({ vmin: 16, intSize: 9 }), /integer size 9/],
    ['offset size 0', header({ vmin: 16, offSize: 0 }), /offset size 0/],
    ['format byte 7', header({ vmin: 16, format: 7 }), /unknown archive format code 7/],
    ['format byte 5 in a file', header({ vmin: 16, format: 5 }), /format code 5 \(directory\)/],
    ['negative TOC count', header({ vmin: 16, toc: -3 }), /negative TOC entry count/],
  ])('rejects a corrupt header: %s', (_label, input, message) => {
    const error = errorOf(() => readArchiveFactsFromBuffer(input, { name: 'x.dump' }));
    expect(error.message).toMatch(/^x\.dump has a corrupt archive header: /);
    expect(error.message).toMatch(message);
  });

  it('rejects bad string lengths', () => {
    const good = header({ vmin: 16, db: 'ab' });
    const dbAt = good.indexOf(Buffer.from('ab')) - 5;
    const negative = Buffer.concat([good.subarray(0, dbAt), int(-5), good.subarray(dbAt + 5)]);
    expect(errorOf(() => readArchiveFactsFromBuffer(negative)).message).toMatch(/negative length -5/);
    const huge = Buffer.concat([good.subarray(0, dbAt), int(70000), Buffer.alloc(70000)]);
    expect(errorOf(() => readArchiveFactsFromBuffer(huge)).message).toMatch(/70000 bytes long/);
    const wide = Buffer.concat([good.subarray(0, dbAt), Buffer.from([0, 0, 0, 0, 0x80])]);
    expect(errorOf(() => readArchiveFactsFromBuffer(wide)).message).toMatch(/out of range/);
  });

  it('reads headers of old archive versions', () => {
    const facts = readArchiveFactsFromBuffer(header({ vmin: 12, level: 0, server: '9.6.24', dump: '10.23' }));
    expect(facts).toMatchObject({
      archiveVersion: '1.12',
      compression: 'none',
      dumpVersion: { major: 10, minor: 23 },
    });
  });
});

describe('truncated, empty and foreign input', () => {
  it('says an empty input is empty', () => {
    expect(errorOf(() => readArchiveFactsFromBuffer(Buffer.alloc(0), { name: 'a.dump' })).message).toBe(
      'a.dump is empty, not a PostgreSQL dump',
    );
  });

  it('says a short header is truncated', () => {
    const full = header({ vmin: 16 });
    expect(errorOf(() => readArchiveFactsFromBuffer(full.subarray(0, 40), { name: 'a.dump' })).message).toBe(
      'a.dump ends inside the archive header (40 bytes); the dump is truncated',
    );
    expect(errorOf(() => readArchiveFactsFromBuffer(Buffer.from('PGD'))).message).toMatch(/\(3 bytes\)/);
  });

  it('names garbage as garbage', () => {
    expect(
      errorOf(() => readArchiveFactsFromBuffer(Buffer.from('hello world\n'), { name: 'x' })).message,
    ).toBe(
      'x is not a PostgreSQL dump: expected a custom/tar/directory archive (PGDMP header) or plain SQL from pg_dump',
    );
    // Hand-written SQL is not a pg_dump script.
    expect(() => readArchiveFactsFromBuffer(Buffer.from('-- my script\nSELECT 1;\n'))).toThrow(
      /not a PostgreSQL dump/,
    );
  });

  it('explains compressions it does not read', () => {
    const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
    expect(errorOf(() => readArchiveFactsFromBuffer(zstd, { name: 'd.sql.zst' })).message).toMatch(
      /^d\.sql\.zst is zstd-compressed; .*zstd -d/,
    );
    const lz4 = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x64, 0x40]);
    expect(errorOf(() => readArchiveFactsFromBuffer(lz4)).message).toMatch(/lz4-compressed/);
  });

  it('refuses a gzip-wrapped custom archive', () => {
    const wrapped = zlib.gzipSync(header({ vmin: 16 }));
    expect(errorOf(() => readArchiveFactsFromBuffer(wrapped)).message).toMatch(/gunzip it first/);
  });

  it('reports gzip data that does not inflate', () => {
    const broken = Buffer.from([0x1f, 0x8b, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
    expect(errorOf(() => readArchiveFactsFromBuffer(broken)).message).toMatch(/does not decompress/);
  });
});

describe('tar archives', () => {
  it('reads toc.dat from a hand-built tar', () => {
    const archive = tarArchive(
      tarMember('toc.dat', Buffer.concat([header({ vmin: 16, format: 3, algorithm: 0 }), TOC_BODY])),
      tarMember('2567.dat', Buffer.from('1\n2\n\\.\n')),
    );
    expect(readArchiveFactsFromBuffer(archive)).toEqual<ArchiveFacts>({
      format: 'tar',
      archiveVersion: '1.16',
      compression: 'none',
      ...SERVER_17,
      database: 'shop',
      tocEntries: 8,
    });
  });

  it('reads a 1.14 tar', () => {
    const archive = tarArchive(tarMember('toc.dat', header({ vmin: 14, format: 3, level: 0, toc: 3 })));
    expect(readArchiveFactsFromBuffer(archive)).toMatchObject({
      format: 'tar',
      archiveVersion: '1.14',
      compression: 'none',
      compressionLevel: 0,
      tocEntries: 3,
    });
  });

  it('rejects tars that pg_dump did not write', () => {
    const other = tarArchive(tarMember('notes.txt', Buffer.from('hi')));
    expect(errorOf(() => readArchiveFactsFromBuffer(other)).message).toMatch(/first member is "notes.txt"/);
    const custom = tarArchive(tarMember('toc.dat', header({ vmin: 16, format: 1 })));
    expect(errorOf(() => readArchiveFactsFromBuffer(custom)).message).toMatch(/corrupt archive header/);
    const good = tarArchive(tarMember('toc.dat', header({ vmin: 16, format: 3 })));
    const badSum = Buffer.from(good);
    badSum[10] = 0x41;
    expect(errorOf(() => readArchiveFactsFromBuffer(badSum)).message).toMatch(/checksum mismatch/);
  });

  it('notices a toc.dat member shorter than its header', () => {
    const full = header({ vmin: 16, format: 3 });
    const member = tarMember('toc.dat', full);
    member.write(`${(30).toString(8).padStart(11, '0')} `, 124, 'latin1');
    member.write('        ', 148, 'latin1');
    let sum = 0;
    for (const b of member.subarray(0, 512)) sum += b;
    member.write(`${sum.toString(8).padStart(6, '0')}\x00 `, 148, 'latin1');
    expect(errorOf(() => readArchiveFactsFromBuffer(tarArchive(member))).message).toMatch(
      /toc\.dat ends inside the archive header/,
    );
  });

  it('reads a tar made by the tar package', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-archive-'));
    try {
      await mkdir(path.join(dir, 'in'));
      await writeFile(path.join(dir, 'in', 'toc.dat'), header({ vmin: 15, format: 3, algorithm: 0, toc: 5 }));
      await writeFile(path.join(dir, 'in', '3.dat'), 'data');
      const file = path.join(dir, 'out.tar');
      await tar.create({ file, cwd: path.join(dir, 'in'), portable: true }, ['toc.dat', '3.dat']);
      expect(await readArchiveFacts(file)).toMatchObject({
        format: 'tar',
        archiveVersion: '1.15',
        tocEntries: 5,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('plain SQL', () => {
  const expected: ArchiveFacts = {
    format: 'plain',
    compression: 'none',
    serverVersionText: '16.4 (Debian 16.4-1.pgdg120+1)',
    serverVersion: { major: 16, minor: 4 },
    dumpVersionText: '17.5',
    dumpVersion: { major: 17, minor: 5 },
    database: 'My Shop',
    restrictKey: true,
  };

  it('reads the header comments', () => {
    expect(readArchiveFactsFromBuffer(Buffer.from(PLAIN))).toEqual(expected);
  });

  it('reads an older dump without \\restrict or --create', () => {
    const text = PLAIN.replace(/^\\restrict .*$/m, '').replace(/^CREATE DATABASE .*$/m, '');
    const facts = readArchiveFactsFromBuffer(Buffer.from(text.replace(/^\\connect .*$/m, '')));
    expect(facts.restrictKey).toBe(false);
    expect(facts.database).toBeUndefined();
    const viaConnect = readArchiveFactsFromBuffer(
      Buffer.from(text.replace(/^\\connect .*$/m, '\\connect shop')),
    );
    expect(viaConnect.database).toBe('shop');
    expect(readArchiveFactsFromBuffer(Buffer.from(text)).database).toBe('My Shop');
  });

  it('reads CRLF line endings and a BOM', () => {
    const facts = readArchiveFactsFromBuffer(Buffer.from(`\uFEFF${PLAIN.replace(/\n/g, '\r\n')}`));
    expect(facts).toEqual(expected);
  });

  it('reads a pg_dumpall script', () => {
    const text = '--\n-- PostgreSQL database cluster dump\n--\n\nSET default_transaction_read_only = off;\n';
    expect(readArchiveFactsFromBuffer(Buffer.from(text))).toEqual({
      format: 'plain',
      compression: 'none',
      restrictKey: false,
    });
  });

  it('reads gzip-compressed SQL, whole or cut short', () => {
    const gz = zlib.gzipSync(Buffer.from(PLAIN));
    expect(readArchiveFactsFromBuffer(gz)).toEqual({ ...expected, compression: 'gzip' });
    const big = zlib.gzipSync(Buffer.concat([Buffer.from(PLAIN), randomText(300_000, 7)]));
    expect(readArchiveFactsFromBuffer(big.subarray(0, 2000))).toEqual({ ...expected, compression: 'gzip' });
  });

  it('stays bounded on a gzip bomb', () => {
    const bomb = zlib.gzipSync(Buffer.concat([Buffer.from(PLAIN), Buffer.alloc(64 * 1024 * 1024)]));
    expect(readArchiveFactsFromBuffer(bomb).dumpVersionText).toBe('17.5');
  });
});

function randomText(length: number, seed: number): Buffer {
  const next = prng(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = i % 80 === 79 ? 0x0a : 0x21 + Math.floor(next() * 90);
  return out;
}

describe('files and directories', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-archive-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function directoryArchive(name: string, files: Record<string, Buffer | string>): Promise<string> {
    const at = path.join(dir, name);
    await mkdir(at);
    for (const [file, content] of Object.entries(files)) await writeFile(path.join(at, file), content);
    return at;
  }

  it('reads a directory archive and its data file suffixes', async () => {
    const at = await directoryArchive('d16', {
      'toc.dat': Buffer.concat([header({ vmin: 16, format: 3, algorithm: 1 }), TOC_BODY]),
      '1.dat.gz': zlib.gzipSync('1\n'),
      '2.dat.gz': zlib.gzipSync('2\n'),
    });
    expect(await readArchiveFacts(at)).toEqual<ArchiveFacts>({
      format: 'directory',
      archiveVersion: '1.16',
      compression: 'gzip',
      ...SERVER_17,
      database: 'shop',
      tocEntries: 8,
    });
  });

  it('takes compression from data files over the header, and the header when there are none', async () => {
    const zst = await directoryArchive('dz', {
      'toc.dat': header({ vmin: 15, format: 3, algorithm: 1 }),
      '3.dat.zst': 'x',
      'blob_16384.dat.zst': 'x',
      'blobs_3.toc': 'x',
    });
    expect((await readArchiveFacts(zst)).compression).toBe('zstd');
    const mixed = await directoryArchive('dm', {
      'toc.dat': header({ vmin: 14, format: 3, level: -1 }),
      '3.dat': 'x',
      '4.dat.gz': 'x',
    });
    expect(await readArchiveFacts(mixed)).toMatchObject({ compression: 'gzip', compressionLevel: -1 });
    const schemaOnly = await directoryArchive('ds', {
      'toc.dat': header({ vmin: 16, format: 3, algorithm: 2 }),
    });
    expect((await readArchiveFacts(schemaOnly)).compression).toBe('lz4');
  });

  it('reads toc.dat as a buffer with the directory hint', () => {
    const facts = readArchiveFactsFromBuffer(header({ vmin: 16, format: 3 }), { isDirectory: true });
    expect(facts.format).toBe('directory');
    expect(() => readArchiveFactsFromBuffer(header({ vmin: 16, format: 1 }), { isDirectory: true })).toThrow(
      /format code 1 \(custom\) where a directory-format archive has 3/,
    );
    expect(() => readArchiveFactsFromBuffer(Buffer.from(PLAIN), { isDirectory: true })).toThrow(
      /no PGDMP header/,
    );
  });

  it('names missing files and directories without toc.dat', async () => {
    const missing = path.join(dir, 'nope.dump');
    await expectFailure(readArchiveFacts(missing), `${missing} does not exist`);
    const empty = await directoryArchive('empty', { 'notes.txt': 'x' });
    await expectFailure(
      readArchiveFacts(empty),
      `${empty} is a directory without toc.dat, so not a directory-format dump (pg_dump -Fd)`,
    );
    const blank = await directoryArchive('blank', { 'toc.dat': '' });
    await expectFailure(
      readArchiveFacts(blank),
      `${path.join(blank, 'toc.dat')} is empty, not a PostgreSQL dump`,
    );
  });

  it('reads custom, tar, plain and plain.gz files', async () => {
    const files: Record<string, Buffer> = {
      'c.dump': Buffer.concat([header({ vmin: 16 }), randomText(200_000, 1)]),
      't.tar': tarArchive(tarMember('toc.dat', header({ vmin: 14, format: 3, level: 0 }))),
      'p.sql': Buffer.concat([Buffer.from(PLAIN), randomText(200_000, 2)]),
      'p.sql.gz': zlib.gzipSync(Buffer.concat([Buffer.from(PLAIN), randomText(400_000, 3)])),
      'tiny.sql': Buffer.from('--\n-- PostgreSQL database dump\n--\n'),
    };
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
    expect(await readArchiveFacts(path.join(dir, 'c.dump'))).toMatchObject({
      format: 'custom',
      tocEntries: 8,
    });
    expect(await readArchiveFacts(path.join(dir, 't.tar'))).toMatchObject({
      format: 'tar',
      archiveVersion: '1.14',
    });
    expect(await readArchiveFacts(path.join(dir, 'p.sql'))).toMatchObject({
      format: 'plain',
      compression: 'none',
    });
    expect(await readArchiveFacts(path.join(dir, 'p.sql.gz'))).toMatchObject({
      format: 'plain',
      compression: 'gzip',
      database: 'My Shop',
    });
    expect(await readArchiveFacts(path.join(dir, 'tiny.sql'))).toMatchObject({ format: 'plain' });
    const cut = path.join(dir, 'cut.dump');
    await writeFile(cut, header({ vmin: 16 }).subarray(0, 30));
    await expectFailure(
      readArchiveFacts(cut),
      `${cut} ends inside the archive header (30 bytes); the dump is truncated`,
    );
  });
});

describe('streams', () => {
  const archive = Buffer.concat([header({ vmin: 16 }), randomText(300_000, 4)]);

  function chunked(data: Buffer, size: number): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
    return out;
  }

  async function rest(source: AsyncIterable<unknown>): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of source) parts.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(parts);
  }

  it('reads a Node stream and leaves the rest readable', async () => {
    // Node's own buffer as it was before Node 22 raised the default to 64 KiB: the bound below is
    // on what pgferry takes, not on how much the stream holds.
    const stream = new PassThrough({ highWaterMark: 16 * 1024 });
    for (const piece of chunked(archive, 100)) stream.write(piece);
    stream.end();
    const { facts, head } = await readArchiveFactsFromStream(stream, 'c.dump');
    expect(facts).toMatchObject({ format: 'custom', archiveVersion: '1.16', tocEntries: 8 });
    expect(head.length).toBeLessThan(64 * 1024);
    expect(Buffer.concat([head, await rest(stream)]).equals(archive)).toBe(true);
  });

  it('reads Readable.from and a generator, consuming only what it needs', async () => {
    const fromStream = Readable.from(chunked(archive, 1000));
    const a = await readArchiveFactsFromStream(fromStream);
    expect(a.facts.format).toBe('custom');
    expect(Buffer.concat([a.head, await rest(fromStream)]).equals(archive)).toBe(true);

    let pulled = 0;
    async function* gen(): AsyncGenerator<Buffer> {
      for (const piece of chunked(archive, 1000)) {
        pulled++;
        yield piece;
      }
    }
    const iterator = gen();
    const b = await readArchiveFactsFromStream(iterator);
    expect(b.facts.tocEntries).toBe(8);
    expect(pulled).toBe(b.head.length / 1000);
    expect(Buffer.concat([b.head, await rest(iterator)]).equals(archive)).toBe(true);
  });

  it('reads a gzip plain stream and short or empty streams', async () => {
    const gz = zlib.gzipSync(Buffer.concat([Buffer.from(PLAIN), randomText(300_000, 5)]));
    const { facts } = await readArchiveFactsFromStream(Readable.from(chunked(gz, 700)), 'p.sql.gz');
    expect(facts).toMatchObject({ format: 'plain', compression: 'gzip', dumpVersionText: '17.5' });
    const tiny = await readArchiveFactsFromStream(Readable.from([header({ vmin: 14 })]));
    expect(tiny.facts.archiveVersion).toBe('1.14');
    await expectFailure(
      readArchiveFactsFromStream(Readable.from([]), 'in'),
      'in is empty, not a PostgreSQL dump',
    );
    const failing = new Readable({
      read() {
        this.destroy(new Error('boom'));
      },
    });
    await expectFailure(readArchiveFactsFromStream(failing, 'in'), 'cannot read in: boom');
  });
});

describe('fuzzing never crashes', () => {
  const samples: Array<[string, Buffer, { isDirectory?: boolean } | undefined]> = [
    ['custom 1.16', Buffer.concat([header({ vmin: 16 }), TOC_BODY]), undefined],
    ['custom 1.14', header({ vmin: 14, level: 6 }), undefined],
    ['custom intSize 8', header({ vmin: 15, intSize: 8 }), undefined],
    ['tar', tarArchive(tarMember('toc.dat', header({ vmin: 16, format: 3 }))), undefined],
    ['toc.dat', header({ vmin: 16, format: 3 }), { isDirectory: true }],
    ['plain', Buffer.from(PLAIN), undefined],
    ['plain.gz', zlib.gzipSync(Buffer.from(PLAIN)), undefined],
  ];

  it('every truncation of a valid header reads or says truncated', () => {
    const full = header({ vmin: 16 });
    for (let n = 0; n <= full.length; n++) {
      const prefix = full.subarray(0, n);
      if (n === full.length) expect(readArchiveFactsFromBuffer(prefix).tocEntries).toBe(8);
      else if (n === 0) expect(() => readArchiveFactsFromBuffer(prefix)).toThrow(/is empty/);
      else
        expect(() => readArchiveFactsFromBuffer(prefix)).toThrow(
          `ends inside the archive header (${n} bytes)`,
        );
    }
  });

  it.each(samples)('every truncation of %s reads or fails cleanly', (_label, sample, hint) => {
    const problems: string[] = [];
    for (let n = 0; n <= sample.length; n++) {
      const problem = misbehaviour(sample.subarray(0, n), hint);
      if (problem) problems.push(problem);
    }
    expect(problems).toEqual([]);
  });

  it('5,000 random buffers read or fail cleanly', () => {
    const next = prng(20240611);
    const problems: string[] = [];
    const starts = [
      Buffer.from('PGDMP\x01\x10\x00\x04\x08\x01', 'latin1'),
      Buffer.from('PGDMP\x01\x0e\x00\x04\x08\x03', 'latin1'),
      Buffer.from('PGDMP\x01', 'latin1'),
      Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
      Buffer.from('--\n-- PostgreSQL database dump\n--\n'),
      Buffer.from('toc.dat\0'),
    ];
    for (let i = 0; i < 5000; i++) {
      const buf = Buffer.alloc(Math.floor(next() * 601));
      for (let j = 0; j < buf.length; j++) {
        // Mostly small values, so lengths and sizes land in plausible ranges too.
        buf[j] = next() < 0.6 ? Math.floor(next() * 8) : Math.floor(next() * 256);
      }
      const start = starts[i % (starts.length + 2)];
      if (start) start.copy(buf, 0, 0, Math.min(start.length, buf.length));
      if (i % 50 === 0 && buf.length >= 263) buf.write('ustar\0', 257, 'latin1');
      const problem = misbehaviour(buf, i % 7 === 0 ? { isDirectory: true } : undefined);
      if (problem) problems.push(problem);
    }
    expect(problems).toEqual([]);
  });

  it.each(samples)('random byte flips in %s read or fail cleanly', (_label, sample, hint) => {
    const next = prng(sample.length);
    const problems: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const copy = Buffer.from(sample);
      const flips = 1 + Math.floor(next() * 3);
      for (let f = 0; f < flips; f++) {
        // Aim most flips at the header, where the structure is.
        const at = Math.floor(next() * Math.min(copy.length, next() < 0.8 ? 120 : copy.length));
        copy[at] = Math.floor(next() * 256);
      }
      const problem = misbehaviour(copy, hint);
      if (problem) problems.push(problem);
    }
    expect(problems).toEqual([]);
  });
});

describe('archive versions and client majors', () => {
  it('knows the highest version each pg_restore reads', () => {
    expect([12, 13, 14, 15, 16, 17, 18].map(maxArchiveVersionForMajor)).toEqual([
      '1.14',
      '1.14',
      '1.14',
      '1.14',
      '1.15',
      '1.16',
      '1.16',
    ]);
    // 10 and 11 only as restore targets of old servers (10.3 on write and read 1.13).
    expect([10, 11].map(maxArchiveVersionForMajor)).toEqual(['1.13', '1.13']);
    // Outside the table there is no fact to give, and no ceiling: newer majors follow the rules.
    expect(maxArchiveVersionForMajor(9)).toBeUndefined();
    expect(maxArchiveVersionForMajor(19)).toBeUndefined();
  });

  it('compares versions numerically', () => {
    expect(compareArchiveVersions('1.14', '1.15')).toBeLessThan(0);
    expect(compareArchiveVersions('1.16', '1.9')).toBeGreaterThan(0);
    expect(compareArchiveVersions('1.16', '1.16.0')).toBe(0);
    expect(compareArchiveVersions('1.16.1', '1.16')).toBeGreaterThan(0);
    expect(() => compareArchiveVersions('1.x', '1.16')).toThrow(/not an archive version/);
  });

  it('finds the lowest client major that reads an archive', () => {
    expect(lowestMajorReading('1.12')).toBe(12);
    expect(lowestMajorReading('1.14')).toBe(12);
    expect(lowestMajorReading('1.15')).toBe(16);
    expect(lowestMajorReading('1.16')).toBe(17);
    expect(lowestMajorReading('0.9')).toBeUndefined();
  });

  it('reads a format newer than the table with the pg_dump that wrote it, or the first major after', () => {
    const v19 = { major: 19, minor: 0 };
    expect(lowestMajorReading('1.17', v19)).toBe(19);
    expect(lowestMajorReading('1.17', { major: 20 })).toBe(20);
    expect(lowestMajorReading('2.0', { major: 21, minor: 1 })).toBe(21);
    // A 19 that kept 1.16 is read by 17, as the table knows.
    expect(lowestMajorReading('1.16', v19)).toBe(17);
    // Without a pg_dump version (a header before 1.10 has none) the first unknown major is the guess.
    expect(lowestMajorReading('1.17')).toBe(19);
  });

  it('says which majors read an archive: its writer and newer, and the table for older ones', () => {
    const by19 = { archiveVersion: '1.17', dumpVersion: { major: 19, minor: 0 } };
    expect([17, 18, 19, 20].map((m) => majorReads(m, by19))).toEqual([false, false, true, true]);
    const kept = { archiveVersion: '1.16', dumpVersion: { major: 19, minor: 0 } };
    expect([16, 17, 18, 19].map((m) => majorReads(m, kept))).toEqual([false, true, true, true]);
    const by16 = { archiveVersion: '1.15', dumpVersion: { major: 16, minor: 4 } };
    expect([15, 16, 19].map((m) => majorReads(m, by16))).toEqual([false, true, true]);
    expect(majorReads(15, {})).toBe(true);
    expect(majorReads(20, { archiveVersion: '0.9' })).toBe(false);
  });
});

// ---- The data-offset flag after each custom-format TOC entry (pg_backup_custom.c's WriteOffset) ----

describe('data-offset flags in a custom TOC', () => {
  /** One archive-1.16 TOC entry, field by field as WriteToc writes it, then its offset flag. */
  function tocEntry(dumpId: number, desc: string, flag: number, position?: number): Buffer {
    const offset = Buffer.alloc(8, flag === 2 ? 7 : 0);
    if (position !== undefined) offset.writeBigUInt64LE(BigInt(position));
    return Buffer.concat([
      int(dumpId),
      int(flag === 3 ? 0 : 1), // had a data dumper
      str('0'),
      str('0'),
      str(`tag${dumpId}`),
      str(desc),
      int(desc === 'TABLE DATA' ? 3 : 2), // section
      str(''),
      str(''),
      str(''),
      str('public'),
      str(''),
      str(null),
      int(114), // relkind 'r'
      str('postgres'),
      str('false'),
      str(null), // end of dependencies
      Buffer.from([flag]),
      offset,
    ]);
  }

  async function archiveWith(flags: number[]): Promise<string> {
    const entries = flags.map((flag, i) => tocEntry(i + 1, flag === 3 ? 'TABLE' : 'TABLE DATA', flag));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-offsets-'));
    const file = path.join(dir, 'a.dump');
    await writeFile(file, Buffer.concat([header({ vmin: 16, toc: flags.length }), ...entries]));
    return file;
  }

  it.each([
    [[3, 2, 2], 'set'],
    [[3, 1, 1], 'unset'],
    [[3, 2, 1], 'unset'], // one entry without its offset is enough to make seeking impossible
    [[3, 3], 'none'],
    [[], 'none'],
  ] as const)('flags %j read as %s', async (flags, state) => {
    const file = await archiveWith([...flags]);
    const entries = await readTocEntries(file, 'custom');
    expect(entries.map((e) => e.dataOffset)).toEqual(
      flags.map((f) => (f === 1 ? 'unset' : f === 2 ? 'set' : 'none')),
    );
    expect(await readDataOffsets(file)).toBe(state);
  });

  it("reads each entry's section and where its data starts, and sizes the data blocks by them", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-offsets-'));
    const file = path.join(dir, 'a.dump');
    const toc = Buffer.concat([
      header({ vmin: 16, toc: 3 }),
      tocEntry(1, 'TABLE', 3),
      tocEntry(2, 'TABLE DATA', 2, 5000),
      tocEntry(3, 'TABLE DATA', 2, 4000),
    ]);
    await writeFile(file, Buffer.concat([toc, Buffer.alloc(6000 - toc.length)]));
    const entries = await readTocEntries(file, 'custom');
    expect(entries.map((e) => [e.section, e.dataPosition])).toEqual([
      ['pre-data', undefined],
      ['data', 5000],
      ['data', 4000],
    ]);
    // Entry 3's block runs to entry 2's; entry 2's to the end of the file.
    expect(await dataSizes(file, 'custom', entries)).toEqual(
      new Map([
        [3, 1000],
        [2, 1000],
      ]),
    );
  });

  it('refuses a flag pg_dump never writes, naming the entry', async () => {
    for (const flag of [0, 4, 255]) {
      const file = await archiveWith([2, flag]);
      await expect(readDataOffsets(file)).rejects.toThrow(
        `${file} has a corrupt table of contents: entry 2 has data-offset flag ${flag}, where pg_dump writes 1, 2 or 3`,
      );
    }
  });

  it('calls an archive cut inside its TOC truncated', async () => {
    const file = await archiveWith([2, 1]);
    const whole = await import('node:fs/promises').then((fs) => fs.readFile(file));
    // Cut inside the second entry's 8 offset bytes.
    await writeFile(file, whole.subarray(0, whole.length - 3));
    await expect(readDataOffsets(file)).rejects.toThrow(/ends inside its table of contents/);
  });
});
