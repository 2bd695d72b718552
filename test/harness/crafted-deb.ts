import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';

/**
 * `.deb` files built byte by byte (ar + tar written here), so that a test can put into a package
 * what no honest packaging tool writes: `..` paths, absolute paths, links out, device files.
 */

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarEntrySpec {
  path: string;
  type?: TarEntryType;
  /** File contents. */
  body?: string;
  /** The target of a symlink or hard link. */
  link?: string;
}

const TYPE_FLAGS: Readonly<Record<TarEntryType, string>> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

const octal = (n: number, width: number): string => `${n.toString(8).padStart(width - 1, '0')}\0`;

/** A ustar header; names and link targets must fit their 100 bytes (the tests' do). */
function tarHeader(spec: TarEntrySpec, size: number): Buffer {
  const type = spec.type ?? 'file';
  if (Buffer.byteLength(spec.path) > 100 || Buffer.byteLength(spec.link ?? '') > 100)
    throw new Error(`crafted tar entry too long for ustar: ${spec.path}`);
  const header = Buffer.alloc(512);
  header.write(spec.path, 0, 100, 'utf8');
  header.write(octal(type === 'dir' ? 0o755 : 0o644, 8), 100);
  header.write(octal(0, 8), 108);
  header.write(octal(0, 8), 116);
  header.write(octal(size, 12), 124);
  header.write(octal(1_700_000_000, 12), 136);
  header.write(' '.repeat(8), 148);
  header.write(TYPE_FLAGS[type], 156);
  header.write(spec.link ?? '', 157, 100, 'utf8');
  header.write('ustar\0', 257);
  header.write('00', 263);
  header.write('root', 265);
  header.write('root', 297);
  // /dev/null's numbers, for the device entries.
  header.write(octal(1, 8), 329);
  header.write(octal(3, 8), 337);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return header;
}

/** An uncompressed tar of the entries, in order, with the two zero blocks that end it. */
export function tarArchive(entries: readonly TarEntrySpec[]): Buffer {
  const parts: Buffer[] = [];
  for (const spec of entries) {
    const body = Buffer.from(spec.type === undefined || spec.type === 'file' ? (spec.body ?? '') : '');
    parts.push(tarHeader(spec, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A common-format ar archive, as dpkg-deb writes a `.deb`. */
export function arArchive(members: readonly { name: string; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n', 'latin1')];
  for (const { name, data } of members) {
    const header =
      `${name}/`.padEnd(16) +
      '1700000000'.padEnd(12) +
      '0'.padEnd(6) +
      '0'.padEnd(6) +
      '100644'.padEnd(8) +
      String(data.length).padEnd(10) +
      '`\n';
    parts.push(Buffer.from(header, 'latin1'), data);
    if (data.length % 2 === 1) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

export type DataCompression = 'xz' | 'zst' | 'gz' | 'none';

/** The data.tar member, compressed as asked (xz as Debian does, zstd as Ubuntu does, gzip, or plain). */
export function dataMember(tar: Buffer, compression: DataCompression): { name: string; data: Buffer } {
  if (compression === 'none') return { name: 'data.tar', data: tar };
  if (compression === 'gz') return { name: 'data.tar.gz', data: gzipSync(tar) };
  if (compression === 'zst')
    return { name: 'data.tar.zst', data: execFileSync('zstd', ['-c', '-q'], { input: tar }) };
  return { name: 'data.tar.xz', data: execFileSync('xz', ['-c'], { input: tar }) };
}

/** A `.deb` whose data.tar holds exactly `entries`; `data` replaces the member outright. */
export function craftedDeb(
  entries: readonly TarEntrySpec[],
  options: { compression?: DataCompression; data?: { name: string; data: Buffer } } = {},
): Buffer {
  const control = gzipSync(
    tarArchive([{ path: './control', body: 'Package: crafted\nVersion: 1\nArchitecture: amd64\n' }]),
  );
  return arArchive([
    { name: 'debian-binary', data: Buffer.from('2.0\n') },
    { name: 'control.tar.gz', data: control },
    options.data ?? dataMember(tarArchive(entries), options.compression ?? 'xz'),
  ]);
}
