import { rmSync, writeFileSync } from 'node:fs';
import { ensureMirrorFixtures } from './fixtures.js';
import { startMirrorProcess, type MirrorServer } from './mirror.js';
import { TESTBED_STATE_ENV } from './paths.js';
import { cleanLeftovers, startServers, stopServers, type TestbedState } from './servers.js';

interface JestGlobalConfig {
  selectProjects?: string[];
}

declare global {
  var __pgferryTestbed: { state: TestbedState; mirror: MirrorServer } | undefined;
}

/** Starts servers 14–18 and the loopback mirror once per run, unless only unit tests were selected. */
export async function globalSetup(globalConfig: JestGlobalConfig): Promise<void> {
  const selected = globalConfig.selectProjects;
  if (selected && !selected.includes('integration') && !selected.includes('e2e')) return;
  await cleanLeftovers();
  const mirrorRoot = ensureMirrorFixtures();
  const state = await startServers();
  const mirror = await startMirrorProcess(mirrorRoot);
  state.mirrorUrl = mirror.url;
  writeFileSync(state.stateFile, JSON.stringify(state, null, 2));
  process.env[TESTBED_STATE_ENV] = state.stateFile;
  globalThis.__pgferryTestbed = { state, mirror };
}

export async function globalTeardown(): Promise<void> {
  const bed = globalThis.__pgferryTestbed;
  if (!bed) return;
  await bed.mirror.close();
  await stopServers(bed.state);
  rmSync(bed.state.stateFile, { force: true });
  globalThis.__pgferryTestbed = undefined;
}
