import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { PgferryError } from '../errors.js';
import type { Logger } from '../log.js';
import { CLIENT_TOOLS, hasClientTools, verifyClientTools, type ClientTools } from './client-tools.js';
import { assetUrl, type ReleaseSource } from './releases.js';
import { DirectoryStore, ENTRY_MARKER, type ClientStore } from './client-store.js';
import { parseVersionString } from './version.js';

export interface DownloadRequest {
  source: ReleaseSource;
  /** Release version, `17.5.0`. */
  version: string;
  target: string;
  store: ClientStore;
  log: Logger;
  signal?: AbortSignal;
}

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

/** The first 64-hex run of a `.sha256` file (`<hex>  <name>` or the bare hex). */
export function parseSha256File(text: string): string | undefined {
  return /\b[0-9a-f]{64}\b/i.exec(text)?.[0]?.toLowerCase();
}

async function fetchOk(url: string, signal: AbortSignal | undefined, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { signal: signal ?? AbortSignal.timeout(10 * 60_000), redirect: 'follow' });
  } catch (error) {
    throw new PgferryError(`download of ${what} from ${url} failed: ${(error as Error).message}`);
  }
  if (res.status === 404) throw new PgferryError(`${what} is not published at ${url} (HTTP 404)`);
  if (!res.ok || !res.body)
    throw new PgferryError(`download of ${what} from ${url} failed: HTTP ${res.status}`);
  return res;
}

/**
 * Download → verify SHA-256 → extract → `--version` check, all in a private work directory; only
 * then does the store make the entry visible, so a half-written entry is never used.
 */
export async function downloadClient(req: DownloadRequest): Promise<ClientTools> {
  const { source, version, target, store, log, signal } = req;
  const url = assetUrl(source, version, target);
  const asset = path.basename(url);
  const work = await store.workDir(version, target);
  try {
    const shaText = await (await fetchOk(`${url}.sha256`, signal, `${asset}.sha256`)).text();
    const expected = parseSha256File(shaText);
    if (!expected) throw new PgferryError(`${url}.sha256 holds no SHA-256 checksum`);

    const res = await fetchOk(url, signal, asset);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    const archive = path.join(work, asset);
    const hash = createHash('sha256');
    let received = 0;
    const started = Date.now();
    log.info(
      `downloading ${asset}${Number.isFinite(declared) ? ` (${(declared / 1048576).toFixed(1)} MiB)` : ''}`,
    );
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        received += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
        meter,
        createWriteStream(archive),
        {
          signal,
        },
      );
    } catch (error) {
      throw new PgferryError(
        `download of ${asset} from ${url} failed after ${received} bytes: ${(error as Error).message}`,
      );
    }
    if (Number.isFinite(declared) && received !== declared) {
      throw new PgferryError(
        `download of ${asset} from ${url} was cut short: ${received} of ${declared} bytes`,
      );
    }
    const actual = hash.digest('hex');
    if (actual !== expected) {
      throw new PgferryError(
        `${asset} failed its checksum: SHA-256 is ${actual}, ${url}.sha256 says ${expected}; the download was deleted`,
      );
    }
    log.debug(`downloaded ${asset} in ${((Date.now() - started) / 1000).toFixed(1)} s, SHA-256 verified`);

    const extracted = path.join(work, 'entry');
    await mkdir(extracted);
    try {
      await tar.x({ file: archive, cwd: extracted, strip: 1, filter: (p) => keepEntry(p) });
    } catch (error) {
      throw new PgferryError(`${asset} could not be extracted: ${(error as Error).message}`);
    }
    const binDir = path.join(extracted, 'bin');
    if (!hasClientTools(binDir)) {
      throw new PgferryError(`${asset} does not contain ${CLIENT_TOOLS.join(', ')} under bin/`);
    }
    const want = parseVersionString(version);
    if (!want) throw new PgferryError(`"${version}" is not a release version`);
    await verifyClientTools(binDir, want, 'download');
    await writeFile(
      path.join(extracted, ENTRY_MARKER),
      JSON.stringify({ version, target, sha256: actual, url }),
    );
    const finalBin = await store.commit(extracted, version, target, log);
    return await verifyClientTools(finalBin, want, 'download');
  } finally {
    await rm(work, { recursive: true, force: true });
    if (store instanceof DirectoryStore) await store.tidy(version);
  }
}
