import { createGzip } from 'node:zlib';
import { FIXTURE_TARGET } from './fixtures.js';

/**
 * Hostile client archives, laid out like a real one (`postgresql-<version>-<target>/…`) so that
 * only the unpack limits stand between them and the disk.
 */

/** A ustar header for a regular file (or a directory when `size` is undefined). */
function tarHeader(name: string, size?: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write(size === undefined ? '0000755\0' : '0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${(size ?? 0).toString(8).padStart(11, '0')}\0`, 124);
  header.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
  );
  header.write(' '.repeat(8), 148);
  header.write(size === undefined ? '5' : '0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return header;
}

async function gzipParts(parts: () => Iterable<Buffer>): Promise<Buffer> {
  const gzip = createGzip({ level: 1 });
  const out: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    gzip.once('end', resolve);
    gzip.once('error', reject);
  });
  for (const part of parts()) {
    if (!gzip.write(part)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
  return Buffer.concat(out);
}

/**
 * One entry holding `bytes` of zeros: a few MB on the wire, far more once unpacked. By default the
 * entry is one pgferry never keeps (`share/…`): skipped entries must count too, or a bomb costs
 * time without costing disk; `bin/pg_dump` is one it keeps, so the bomb reaches the disk.
 */
export function zeroBomb(version: string, bytes: number, entry = 'share/padding'): Promise<Buffer> {
  const top = `postgresql-${version}-${FIXTURE_TARGET}/`;
  const chunk = Buffer.alloc(1024 * 1024);
  return gzipParts(function* () {
    yield tarHeader(top);
    if (entry.includes('/')) yield tarHeader(`${top}${entry.slice(0, entry.lastIndexOf('/') + 1)}`);
    yield tarHeader(`${top}${entry}`, bytes);
    for (let left = bytes; left > 0; left -= chunk.length)
      yield chunk.subarray(0, Math.min(left, chunk.length));
    yield Buffer.alloc(1024);
  });
}

/** `entries` empty files: tiny once compressed, and a directory-inode bomb once unpacked. */
export function entryBomb(version: string, entries: number): Promise<Buffer> {
  const top = `postgresql-${version}-${FIXTURE_TARGET}/`;
  return gzipParts(function* () {
    yield tarHeader(top);
    yield tarHeader(`${top}lib/`);
    for (let i = 0; i < entries; i++) yield tarHeader(`${top}lib/libbomb${i}.so`, 0);
    yield Buffer.alloc(1024);
  });
}
