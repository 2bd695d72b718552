/** Bounds-checked reads of the integers and strings pg_dump writes into an archive header and TOC. */
import { PgferryError } from '../../errors.js';

/** Header strings longer than this are garbage (real ones: a database name and two versions). */
const MAX_HEADER_STRING = 64 * 1024;

/**
 * The input ended before what was being read. With more to come a caller reads on and tries again;
 * at the end of the input it means truncation.
 */
export class OutOfBytes extends Error {}

export function corruptHeader(name: string, detail: string): PgferryError {
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
    if (this.pos + n > this.end) throw corruptHeader(this.name, 'toc.dat ends inside the archive header');
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
    if (value > 0x7fffffff) throw corruptHeader(this.name, `integer ${value} out of range`);
    return negative ? -value : value;
  }

  /** pg_dump's WriteStr: an int length (-1 for NULL), then that many bytes. */
  str(what: string, maxLength = MAX_HEADER_STRING): string | undefined {
    const length = this.int();
    if (length === -1) return undefined;
    if (length < 0) throw corruptHeader(this.name, `${what} has negative length ${length}`);
    if (length > maxLength) throw corruptHeader(this.name, `${what} is ${length} bytes long`);
    return this.bytes(length).toString('utf8');
  }
}
