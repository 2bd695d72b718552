/**
 * The header pg_dump's WriteHead puts at the start of a custom-format archive and of the toc.dat of
 * directory- and tar-format dumps: magic, archive version, format, compression, versions, TOC size.
 */
import { PgferryError } from '../../errors.js';
import { addVersions } from './facts.js';
import type { ArchiveCompression, ArchiveFacts, ArchiveFormat } from './facts.js';
import { corruptHeader, type HeaderReader } from './header-reader.js';

const MAGIC = Buffer.from('PGDMP', 'latin1');
export const MAGIC_LENGTH = MAGIC.length;

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

/** 'yes' when the buffer starts with PGDMP, 'prefix' when it is a shorter start of it. */
export function startsWithMagic(buf: Buffer): 'yes' | 'prefix' | 'no' {
  const n = Math.min(buf.length, MAGIC.length);
  if (n === 0 || !buf.subarray(0, n).equals(MAGIC.subarray(0, n))) return 'no';
  return n === MAGIC.length ? 'yes' : 'prefix';
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
  if (vmaj !== 1)
    throw corruptHeader(name, `archive version ${vmaj}.${vmin} is unknown (pg_dump writes 1.x)`);
  if (vmin > 0) r.byte(); // revision, unused
  r.signed = vmin > 0;
  const intSize = r.byte();
  if (intSize < 1 || intSize > 8) throw corruptHeader(name, `integer size ${intSize} (expected 1 to 8)`);
  r.intSize = intSize;
  if (vmin >= 7) {
    const offSize = r.byte();
    if (offSize < 1 || offSize > 8) throw corruptHeader(name, `offset size ${offSize} (expected 1 to 8)`);
    r.offSize = offSize;
  }
  const format = r.byte();
  const formatName = FORMAT_BYTES[format];
  if (formatName === undefined) throw corruptHeader(name, `unknown archive format code ${format}`);
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
  if (tocEntries < 0) throw corruptHeader(name, `negative TOC entry count ${tocEntries}`);

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
  return corruptHeader(
    name,
    `format code ${format} (${formatName}) where a ${kind}-format archive has ${expected}`,
  );
}

/** The facts a header gives, for an archive of `format`. */
export function headerFacts(format: ArchiveFormat, h: HeaderFields): ArchiveFacts {
  const facts: ArchiveFacts = { format, archiveVersion: h.archiveVersion, compression: h.compression };
  if (h.compressionLevel !== undefined) facts.compressionLevel = h.compressionLevel;
  addVersions(facts, h.serverVersionText, h.dumpVersionText);
  if (h.database !== undefined) facts.database = h.database;
  facts.tocEntries = h.tocEntries;
  return facts;
}
