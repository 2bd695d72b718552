import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { ClientCatalog } from '../../core/pg/provision.js';
import { CACHE_DIR } from './paths.js';
import { mirrorUrl } from './testbed.js';

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
