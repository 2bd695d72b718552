import { rmSync } from 'node:fs';
import { EXTRA_TESTBED_STATE_ENV, OLD_SERVER_MAJORS } from './paths.js';
import { startServers, stopServers, type TestbedState } from './servers.js';
import { testbed } from './testbed.js';

/**
 * Starts servers 10–13 for the calling test file only (its beforeAll/afterAll): the global setup
 * starts 14–18, and the few files that need end-of-life majors pay for them. They take the global
 * servers' password, so `connUrl` and `sql` reach them like any other. A worker that dies leaves a
 * state file owned by its pid, which the next run's global setup cleans up.
 */
export function useOldServers(): void {
  let state: TestbedState | undefined;
  beforeAll(async () => {
    state = await startServers(OLD_SERVER_MAJORS, { password: testbed().password, label: 'old' });
    process.env[EXTRA_TESTBED_STATE_ENV] = state.stateFile;
  }, 180_000);
  afterAll(async () => {
    delete process.env[EXTRA_TESTBED_STATE_ENV];
    if (!state) return;
    await stopServers(state);
    rmSync(state.stateFile, { force: true });
  });
}
