import { createReadStream } from 'node:fs';
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
  let refused: PgferryError | undefined;
  let broken: Error | undefined;
  const source = createReadStream(archive);
  const gunzip = createGunzip();
  const unpack = new tar.Unpack({
    cwd: dir,
    strip: 1,
    filter: (entryPath) => {
      if (refused) return false;
      entries += 1;
      if (entries > limits.unpackEntries) {
        refuse(
          new PgferryError(`${asset} holds more than ${limits.unpackEntries} entries (the limit); refused`),
        );
        return false;
      }
      return keepEntry(entryPath);
    },
  });
  // Tar finishes the writes it has started before it closes: the caller can then remove the work
  // directory without racing them.
  const closed = new Promise<void>((resolve) => unpack.once('close', resolve));
  let ended = false;
  const endUnpack = (): void => {
    if (ended) return;
    ended = true;
    unpack.end();
  };
  const stopFeeding = (): void => {
    source.unpipe(gunzip);
    source.destroy();
    gunzip.destroy();
    endUnpack();
  };
  function refuse(error: PgferryError): void {
    refused ??= error;
    stopFeeding();
  }
  const onAbort = (): void => refuse(new PgferryError(`extraction of ${asset} was cancelled`));
  signal?.addEventListener('abort', onAbort, { once: true });
  unpack.on('error', (error: Error) => {
    broken ??= error;
    stopFeeding();
  });
  for (const stream of [source, gunzip]) {
    stream.on('error', (error: Error) => {
      broken ??= error;
      stopFeeding();
    });
  }
  gunzip.on('data', (chunk: Buffer) => {
    if (refused || ended) return;
    bytes += chunk.length;
    if (bytes > limits.unpackBytes) {
      refuse(
        new PgferryError(
          `${asset} unpacks to more than the ${formatBytes(limits.unpackBytes)} limit; refused as a decompression bomb`,
        ),
      );
      return;
    }
    if (!unpack.write(chunk)) {
      gunzip.pause();
      unpack.once('drain', () => gunzip.resume());
    }
  });
  gunzip.on('end', endUnpack);
  source.pipe(gunzip);
  try {
    await closed;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (refused) throw refused;
  if (broken) throw new PgferryError(`${asset} could not be extracted: ${broken.message}`);
}
