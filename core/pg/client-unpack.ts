import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import { PgferryError } from '../errors.js';
import { formatBytes, type NetworkLimits } from '../network-limits.js';
import { CLIENT_TOOLS } from './client-tools.js';

/** Keeps only the client tools and the shared libraries they load (libpq and friends). */
function keepEntry(entryPath: string): boolean {
  const rel = entryPath.split('/').slice(1).join('/');
  if (rel === 'bin/' || rel === 'lib/' || rel === 'bin' || rel === 'lib') return true;
  const tools = new Set(CLIENT_TOOLS.flatMap((t) => [t, `${t}.exe`]));
  const [dir, name, ...rest] = rel.split('/');
  if (!name || rest.length > 0) return false;
  if (dir === 'bin') return tools.has(name) || /\.dll$/i.test(name);
  if (dir === 'lib') return /^lib.*\.(so(\.\d+)*|dylib)$/.test(name) && !/\.a$/.test(name);
  return false;
}

/**
 * Extracts a verified client `.tar.gz` into `dir`, keeping only the client tools. What the archive
 * decompresses to is counted as it streams (entries skipped by the filter too: a bomb need not be
 * kept to cost time and memory), so a decompression bomb fails at the limit instead of filling the
 * disk or running for hours. A checksum only proves the mirror meant to serve these bytes.
 */
export async function unpackClientArchive(
  archive: string,
  dir: string,
  options: { asset: string; limits: NetworkLimits; signal?: AbortSignal },
): Promise<void> {
  const { asset, limits, signal } = options;
  let bytes = 0;
  let entries = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes <= limits.unpackBytes) return done(null, chunk);
      done(
        new PgferryError(
          `${asset} unpacks to more than the ${formatBytes(limits.unpackBytes)} limit; refused as a decompression bomb`,
        ),
      );
    },
  });
  const unpack = new tar.Unpack({
    cwd: dir,
    strip: 1,
    filter: (entryPath) => {
      entries += 1;
      if (entries > limits.unpackEntries) {
        counter.destroy(
          new PgferryError(`${asset} holds more than ${limits.unpackEntries} entries (the limit); refused`),
        );
        return false;
      }
      return keepEntry(entryPath);
    },
  });
  const written = new Promise<void>((resolve, reject) => {
    unpack.once('close', resolve);
    unpack.once('error', reject);
  });
  try {
    await Promise.all([
      pipeline(createReadStream(archive), createGunzip(), counter, unpack, signal ? { signal } : {}),
      written,
    ]);
  } catch (error) {
    if (error instanceof PgferryError) throw error;
    throw new PgferryError(`${asset} could not be extracted: ${(error as Error).message}`);
  }
}
