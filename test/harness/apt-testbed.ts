// The scratch of an apt test file: temporary directories and loopback servers, all removed after
// the file, and the throwaway signing keys closed.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serveDirectory, type StaticServer } from './apt-repository.js';
import { closeSigningKeys } from './apt-signing.js';

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
