// The scratch of an apt test file: temporary directories and loopback servers, all removed after
// the file, and the throwaway signing keys closed.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { ClientCatalog } from '../../core/pg/clients/catalog.js';
import { APT_SUITE, serveDirectory, type StaticServer } from './apt-repository.js';
import { closeSigningKeys, type SigningKey } from './apt-signing.js';

export interface AptTestBed {
  tempDir(prefix: string): string;
  serve(root: string): Promise<StaticServer>;
}

/** Call at a test file's top level: it registers the afterAll that cleans up. */
export function aptTestBed(): AptTestBed {
  const made: string[] = [];
  const servers: StaticServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    made.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
    closeSigningKeys();
  });
  return {
    tempDir(prefix) {
      const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    async serve(root) {
      const server = await serveDirectory(root);
      servers.push(server);
      return server;
    },
  };
}

/** A catalog that may only install from the loopback apt repository `repo`, trusting `key`. */
export function pgdgCatalog(
  repo: StaticServer,
  cacheDir: string,
  key: SigningKey,
  log = new RecordingLogger(),
): ClientCatalog {
  return new ClientCatalog({
    log,
    clientSource: 'pgdg',
    mirror: `${repo.url} ${APT_SUITE}`,
    cacheDir,
    installedDirs: () => [],
    pgdgKey: key.publicKey,
  });
}
