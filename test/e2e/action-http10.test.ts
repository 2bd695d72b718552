import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureMirrorFixtures, FIXTURE_TARGET } from '../harness/fixtures.js';
import { startHttp10Server, type Http10Server } from '../harness/http10-server.js';
import { ACTION_BUNDLE, failure, runAction, runnerDirs } from '../harness/action-runner.js';

/**
 * The committed Action bundle once crashed (`assert(!this.paused)` in a bundled undici that had
 * made itself fetch's global dispatcher) in 2 of 4 downloads from an HTTP/1.0 server that closes
 * the connection behind the last byte. Each run here is a fresh process on an empty tool cache.
 */
const RUNS = 20;
let server: Http10Server;

beforeAll(async () => {
  server = await startHttp10Server(ensureMirrorFixtures());
});
afterAll(async () => server?.close());

describe('action: downloads from an HTTP/1.0, connection-close server', () => {
  it('carries one HTTP stack: no undici, so nothing replaces the global fetch dispatcher', () => {
    const bundle = readFileSync(ACTION_BUNDLE, 'utf8');
    expect(bundle).not.toContain('undici.globalDispatcher');
    expect(bundle).not.toContain('node_modules/undici/');
  });

  it(`downloads client 17 ${RUNS} times in a row, each on an empty tool cache, without a crash`, async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const dirs = runnerDirs();
      try {
        const run = await runAction(
          { command: 'install', 'postgres-version': '17', mirror: server.url },
          dirs,
        );
        const binDir = path.join(dirs.toolCache, 'pgferry-postgresql', '17.5.0', FIXTURE_TARGET, 'bin');
        const ok =
          run.code === 0 &&
          run.outputs['bin-dir'] === binDir &&
          run.log.includes(`(download: ${binDir})`) &&
          !/AssertionError|ERR_ASSERTION/.test(run.log);
        outcomes.push(ok ? 'ok' : `run ${i + 1}: exit ${run.code}: ${failure(run)}\n${run.log.slice(-1500)}`);
      } finally {
        rmSync(path.dirname(dirs.temp), { recursive: true, force: true });
      }
    }
    expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
    // versions.json, the .sha256 and the archive, every time: no run was served from a cache.
    expect(server.requests()).toBe(RUNS * 3);
  });
});
