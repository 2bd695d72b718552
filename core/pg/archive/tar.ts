/** Tar-format dumps (pg_dump -Ft): toc.dat is the first member and holds the same header as custom. */
import { PgferryError } from '../../errors.js';
import type { ArchiveFacts } from './facts.js';
import { ARCH_TAR, MAGIC_LENGTH, headerFacts, readHeader, startsWithMagic } from './header.js';
import { HeaderReader, OutOfBytes } from './header-reader.js';

const TAR_BLOCK = 512;

/** A ustar header block, or the start of one (then the input is short, not garbage). */
export function looksLikeTar(buf: Buffer): boolean {
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

/** The facts of a tar-format dump, from the header in its toc.dat member. */
export function readTar(buf: Buffer, name: string): ArchiveFacts {
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
    if (size > 0 && startsWithMagic(buf.subarray(dataStart, dataStart + MAGIC_LENGTH)) === 'no') {
      throw notDump('toc.dat does not start with a PGDMP header');
    }
    return { start: dataStart, size };
  }
  throw notDump('too many extension headers before toc.dat');
}
