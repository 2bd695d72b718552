import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PgferryError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { networkLimits, type NetworkLimits } from '../../network-limits.js';
import { unpackClientArchive } from './unpack.js';
import { displayUrl, httpGet, HttpGetError, readText, type HttpGetResponse } from './http-get.js';
import { CLIENT_TOOLS, hasClientTools, verifyClientTools, type ClientTools } from './tools.js';
import { assetUrl, type ReleaseSource } from './releases.js';
import { DirectoryStore, ENTRY_MARKER, type ClientStore } from './store.js';
import { parseVersionString } from '../version.js';
import { formatSize } from '../../sizes.js';

export interface DownloadRequest {
  source: ReleaseSource;
  /** Release version, `17.5.0`. */
  version: string;
  target: string;
  store: ClientStore;
  log: Logger;
  signal?: AbortSignal;
}

/** The first 64-hex run of a `.sha256` file (`<hex>  <name>` or the bare hex). */
export function parseSha256File(text: string): string | undefined {
  return /\b[0-9a-f]{64}\b/i.exec(text)?.[0]?.toLowerCase();
}

async function fetchOk(
  url: string,
  what: string,
  maxBytes: number,
  limits: NetworkLimits,
  signal: AbortSignal | undefined,
): Promise<HttpGetResponse> {
  const res = await httpGet(url, { what, limits, maxBytes, signal });
  if (res.status >= 200 && res.status < 300) return res;
  res.body.resume();
  if (res.status === 404)
    throw new PgferryError(`${what} is not published at ${res.url} (HTTP 404)`, { code: 'http' });
  throw new PgferryError(`download of ${what} from ${res.url} failed: HTTP ${res.status}`, { code: 'http' });
}

/**
 * Download → verify SHA-256 → extract → `--version` check, all in a private work directory; only
 * then does the store make the entry visible, so a half-written entry is never used.
 */
export async function downloadClient(req: DownloadRequest): Promise<ClientTools> {
  const { source, version, target, store, log, signal } = req;
  const url = assetUrl(source, version, target);
  const asset = path.basename(url);
  const shown = displayUrl(url);
  const limits = networkLimits();
  const work = await store.workDir(version, target);
  try {
    const shaText = await readText(
      await fetchOk(`${url}.sha256`, `${asset}.sha256`, limits.metadataBytes, limits, signal),
    );
    const expected = parseSha256File(shaText);
    if (!expected) throw new PgferryError(`${shown}.sha256 holds no SHA-256 checksum`);

    const res = await fetchOk(url, asset, limits.downloadBytes, limits, signal);
    const declared = res.contentLength ?? NaN;
    const archive = path.join(work, asset);
    const hash = createHash('sha256');
    let received = 0;
    const started = Date.now();
    log.info(`downloading ${asset}${Number.isFinite(declared) ? ` (${formatSize(declared)})` : ''}`);
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        received += chunk.length;
        done(null, chunk);
      },
    });
    try {
      // The archive holds a whole client build: private to this user until it is verified.
      await pipeline(res.body, meter, createWriteStream(archive, { mode: 0o600 }));
    } catch (error) {
      const reason = error instanceof HttpGetError ? error.reason : (error as Error).message;
      throw new PgferryError(`download of ${asset} from ${shown} failed after ${received} bytes: ${reason}`);
    }
    if (Number.isFinite(declared) && received !== declared) {
      throw new PgferryError(
        `download of ${asset} from ${shown} was cut short: ${received} of ${declared} bytes`,
      );
    }
    const actual = hash.digest('hex');
    if (actual !== expected) {
      throw new PgferryError(
        `${asset} failed its checksum: SHA-256 is ${actual}, ${shown}.sha256 says ${expected}; the download was deleted`,
      );
    }
    log.debug(`downloaded ${asset} in ${((Date.now() - started) / 1000).toFixed(1)} s, SHA-256 verified`);

    const extracted = path.join(work, 'entry');
    await mkdir(extracted);
    await unpackClientArchive(archive, extracted, { asset, limits, signal });
    const binDir = path.join(extracted, 'bin');
    if (!hasClientTools(binDir)) {
      throw new PgferryError(`${asset} does not contain ${CLIENT_TOOLS.join(', ')} under bin/`);
    }
    const want = parseVersionString(version);
    if (!want) throw new PgferryError(`"${version}" is not a release version`);
    await verifyClientTools(binDir, want, 'download');
    await writeFile(
      path.join(extracted, ENTRY_MARKER),
      JSON.stringify({ version, target, sha256: actual, url: shown }),
    );
    const finalBin = await store.commit(extracted, version, target, log);
    return await verifyClientTools(finalBin, want, 'download');
  } finally {
    await rm(work, { recursive: true, force: true });
    if (store instanceof DirectoryStore) await store.tidy(version);
  }
}
