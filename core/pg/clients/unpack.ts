import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import { PgferryError } from '../../errors.js';
import type { NetworkLimits } from '../../network-limits.js';
import { CLIENT_TOOLS } from './tools.js';
import { formatSize } from '../../sizes.js';

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
  const extraction = new BoundedExtraction(createReadStream(archive), dir, asset, limits);
  const onAbort = (): void => extraction.refuse(new PgferryError(`extraction of ${asset} was cancelled`));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await extraction.run();
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (extraction.refused) throw extraction.refused;
  if (extraction.broken) {
    throw new PgferryError(`${asset} could not be extracted: ${extraction.broken.message}`);
  }
}

/** source → gunzip → tar, counting entries and unpacked bytes; the first refusal or break stops the feed. */
class BoundedExtraction {
  /** Why pgferry stopped the extraction (a limit, a cancellation). */
  refused: PgferryError | undefined;
  /** A stream's own error (a corrupt archive, a full disk). */
  broken: Error | undefined;
  private bytes = 0;
  private entries = 0;
  private ended = false;
  private readonly gunzip = createGunzip();
  private readonly unpack: tar.Unpack;
  private readonly closed: Promise<void>;

  constructor(
    private readonly source: Readable,
    dir: string,
    private readonly asset: string,
    private readonly limits: NetworkLimits,
  ) {
    this.unpack = new tar.Unpack({ cwd: dir, strip: 1, filter: (entryPath) => this.admit(entryPath) });
    // Tar finishes the writes it has started before it closes: the caller can then remove the work
    // directory without racing them.
    this.closed = new Promise<void>((resolve) => this.unpack.once('close', resolve));
    for (const stream of [this.unpack, source, this.gunzip]) {
      stream.on('error', (error: Error) => {
        this.broken ??= error;
        this.stopFeeding();
      });
    }
    this.gunzip.on('data', (chunk: Buffer) => this.feed(chunk));
    this.gunzip.on('end', () => this.endUnpack());
  }

  /** Settles when tar has closed, whether the archive was unpacked, refused or broken. */
  run(): Promise<void> {
    this.source.pipe(this.gunzip);
    return this.closed;
  }

  refuse(error: PgferryError): void {
    this.refused ??= error;
    this.stopFeeding();
  }

  private admit(entryPath: string): boolean {
    if (this.refused) return false;
    this.entries += 1;
    if (this.entries > this.limits.unpackEntries) {
      this.refuse(
        new PgferryError(
          `${this.asset} holds more than ${this.limits.unpackEntries} entries (the limit); refused`,
        ),
      );
      return false;
    }
    return keepEntry(entryPath);
  }

  private feed(chunk: Buffer): void {
    if (this.refused || this.ended) return;
    this.bytes += chunk.length;
    if (this.bytes > this.limits.unpackBytes) {
      this.refuse(
        new PgferryError(
          `${this.asset} unpacks to more than the ${formatSize(this.limits.unpackBytes)} limit; refused as a decompression bomb`,
        ),
      );
      return;
    }
    if (!this.unpack.write(chunk)) {
      this.gunzip.pause();
      this.unpack.once('drain', () => this.gunzip.resume());
    }
  }

  private endUnpack(): void {
    if (this.ended) return;
    this.ended = true;
    this.unpack.end();
  }

  private stopFeeding(): void {
    this.source.unpipe(this.gunzip);
    this.source.destroy();
    this.gunzip.destroy();
    this.endUnpack();
  }
}
