import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dumpToPath } from '../../core/jobs/dump.js';
import { RecordingLogger } from '../../core/log.js';
import type { CompressionSpec } from '../../core/pg/compression.js';
import { parseConnection } from '../../core/pg/connection.js';
import { ClientCatalog } from '../../core/pg/clients/catalog.js';
import { CACHE_DIR } from './paths.js';
import type { ServerMajor } from './paths.js';
import { connUrl, mirrorUrl } from './testbed.js';

/** Client cache shared by the integration tests of one run, so each client is downloaded once. */
export const SHARED_CLIENT_CACHE = path.join(CACHE_DIR, 'clients');

export function catalog(log = new RecordingLogger()): ClientCatalog {
  return new ClientCatalog({ log, mirror: mirrorUrl(), cacheDir: SHARED_CLIENT_CACHE });
}

/** A scratch directory removed after the test file. */
export function scratchDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgferry-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A dump of a test database to `file` with pgferry's defaults (one job, the chosen client). */
export async function dumpFile(
  major: ServerMajor,
  db: string,
  file: string,
  format: 'custom' | 'directory' | 'plain' = 'custom',
  compress: CompressionSpec | 'auto' = 'auto',
): Promise<string> {
  const log = new RecordingLogger();
  await dumpToPath({
    from: parseConnection(connUrl(major, db), 'from', {}),
    to: file,
    format,
    compress,
    jobs: 1,
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
  });
  return file;
}
