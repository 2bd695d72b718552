/** Archive facts of a dump file or a directory-format dump on disk, from the first bytes only. */
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PgferryError } from '../../errors.js';
import type { ArchiveCompression, ArchiveFacts, ArchiveHint } from './facts.js';
import { READ_CHUNK, sniffChunks } from './identify.js';

function fsError(file: string, error: unknown): PgferryError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new PgferryError(`${file} does not exist`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') {
    return new PgferryError(`cannot read ${file}: permission denied`, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new PgferryError(`cannot read ${file}: ${detail}`, { cause: error });
}

async function readFileFacts(file: string, hint: ArchiveHint): Promise<ArchiveFacts> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw fsError(file, error);
  }
  try {
    const fh = handle;
    const next = async (): Promise<Buffer | null> => {
      const buf = Buffer.alloc(READ_CHUNK);
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, 0, READ_CHUNK, null));
      } catch (error) {
        throw fsError(file, error);
      }
      return bytesRead === 0 ? null : buf.subarray(0, bytesRead);
    };
    return (await sniffChunks(next, hint)).facts;
  } finally {
    await handle.close();
  }
}

/** Directory data files carry their compression in the suffix, which is what pg_restore goes by. */
function compressionFromDataFiles(entries: readonly string[]): ArchiveCompression | undefined {
  const kinds = new Set<ArchiveCompression>();
  for (const entry of entries) {
    const m = /^(?:\d+|blob_\d+)\.dat(\.gz|\.lz4|\.zst)?$/.exec(entry);
    if (!m) continue;
    kinds.add(m[1] === '.gz' ? 'gzip' : m[1] === '.lz4' ? 'lz4' : m[1] === '.zst' ? 'zstd' : 'none');
  }
  if (kinds.size === 0) return undefined;
  if (kinds.size === 1) return [...kinds][0];
  // Some files left uncompressed (e.g. gunzipped by hand) still need the other algorithm.
  kinds.delete('none');
  return kinds.size === 1 ? [...kinds][0] : 'unknown';
}

/** Reads the facts of a dump file or directory-format dump, taking only the first bytes needed. */
export async function readArchiveFacts(file: string): Promise<ArchiveFacts> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    throw fsError(file, error);
  }
  if (!info.isDirectory()) return readFileFacts(file, { name: file });

  const toc = path.join(file, 'toc.dat');
  let tocInfo;
  try {
    tocInfo = await stat(toc);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fsError(toc, error);
  }
  if (!tocInfo?.isFile()) {
    throw new PgferryError(
      `${file} is a directory without toc.dat, so not a directory-format dump (pg_dump -Fd)`,
    );
  }
  const facts = await readFileFacts(toc, { isDirectory: true, name: toc });
  let entries: string[];
  try {
    entries = await readdir(file);
  } catch (error) {
    throw fsError(file, error);
  }
  const fromFiles = compressionFromDataFiles(entries);
  if (fromFiles !== undefined) facts.compression = fromFiles;
  return facts;
}
