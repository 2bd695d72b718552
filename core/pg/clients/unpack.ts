import { createReadStream } from 'node:fs';
import type { Duplex, Readable } from 'node:stream';
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
  await extractTar(createReadStream(archive), createGunzip(), dir, {
    ...options,
    strip: 1,
    admit: (entryPath) => keepEntry(entryPath),
  });
}

/** What to do with one tar entry: keep it, skip it, or refuse the whole archive. */
export type AdmitEntry = (entryPath: string, entry: tar.ReadEntry) => boolean | PgferryError;

export interface TarExtraction {
  /** Names the archive in errors. */
  asset: string;
  limits: NetworkLimits;
  signal?: AbortSignal;
  /** Leading path components dropped. */
  strip: number;
  admit: AdmitEntry;
}

/**
 * source → decompress → tar into `dir`, within the unpack limits, each entry judged by `admit`
 * before anything of it is written. A refusal stops the feed; what was written before it stays in
 * `dir` for the caller to remove.
 */
export async function extractTar(
  source: Readable,
  decompress: Duplex,
  dir: string,
  options: TarExtraction,
): Promise<void> {
  const { asset, signal } = options;
  const extraction = new BoundedExtraction(source, decompress, dir, options);
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

/** source → decompress → tar, counting entries and unpacked bytes; the first refusal or break stops the feed. */
class BoundedExtraction {
  /** Why pgferry stopped the extraction (a limit, a cancellation). */
  refused: PgferryError | undefined;
  /** A stream's own error (a corrupt archive, a full disk). */
  broken: Error | undefined;
  private bytes = 0;
  private entries = 0;
  private ended = false;
  private readonly unpack: tar.Unpack;
  private readonly closed: Promise<void>;
  private readonly asset: string;
  private readonly limits: NetworkLimits;

  constructor(
    private readonly source: Readable,
    private readonly decompress: Duplex,
    dir: string,
    private readonly options: TarExtraction,
  ) {
    this.asset = options.asset;
    this.limits = options.limits;
    this.unpack = new tar.Unpack({
      cwd: dir,
      strip: options.strip,
      filter: (entryPath, entry) => this.admit(entryPath, entry as tar.ReadEntry),
    });
    // Tar finishes the writes it has started before it closes: the caller can then remove the work
    // directory without racing them.
    this.closed = new Promise<void>((resolve) => this.unpack.once('close', resolve));
    for (const stream of [this.unpack, source, this.decompress]) {
      stream.on('error', (error: Error) => {
        this.broken ??= error;
        this.stopFeeding();
      });
    }
    this.decompress.on('data', (chunk: Buffer) => this.feed(chunk));
    this.decompress.on('end', () => this.endUnpack());
  }

  /** Settles when tar has closed, whether the archive was unpacked, refused or broken. */
  run(): Promise<void> {
    this.source.pipe(this.decompress);
    return this.closed;
  }

  refuse(error: PgferryError): void {
    this.refused ??= error;
    this.stopFeeding();
  }

  private admit(entryPath: string, entry: tar.ReadEntry): boolean {
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
    const verdict = this.options.admit(entryPath, entry);
    if (typeof verdict === 'boolean') return verdict;
    this.refuse(verdict);
    return false;
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
      this.decompress.pause();
      this.unpack.once('drain', () => this.decompress.resume());
    }
  }

  private endUnpack(): void {
    if (this.ended) return;
    this.ended = true;
    this.unpack.end();
  }

  private stopFeeding(): void {
    this.source.unpipe(this.decompress);
    this.source.destroy();
    this.decompress.destroy();
    this.endUnpack();
  }
}
