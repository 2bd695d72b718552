import path from 'node:path';
import { mirrorHits } from '../harness/mirror.js';
import { assetName } from '../harness/fixtures.js';
import { connUrl, mirrorUrl, testbed } from '../harness/testbed.js';
import { failure, runAction, runnerDirs } from '../harness/action-runner.js';
import { SYSTEM_CLIENT_DIR } from '../harness/paths.js';

describe('action: install', () => {
  it.each([
    ['17', '17.5.0'],
    ['18', '18.0.0'],
  ])(
    'installs client %s from the mirror into the tool cache; the second run hits the cache',
    async (major, release) => {
      const dirs = runnerDirs();
      const archive = `/${release}/${assetName(release)}`;
      const before = (await mirrorHits(mirrorUrl()))[archive] ?? 0;

      const first = await runAction(
        { command: 'install', 'postgres-version': major, mirror: mirrorUrl() },
        dirs,
      );
      expect(failure(first)).toBe('(no ::error:: line)');
      expect(first.code).toBe(0);
      const binDir = path.join(
        dirs.toolCache,
        'pgferry-postgresql',
        release,
        'x86_64-unknown-linux-gnu',
        'bin',
      );
      expect(first.outputs).toMatchObject({
        'client-version': `${major}.${release.split('.')[1]}`,
        'bin-dir': binDir,
      });
      expect(first.path).toEqual([binDir]);
      expect(first.summary).toContain('pgferry install');
      expect((await mirrorHits(mirrorUrl()))[archive]).toBe(before + 1);

      const second = await runAction(
        { command: 'install', 'postgres-version': major, mirror: mirrorUrl() },
        dirs,
      );
      expect(second.code).toBe(0);
      expect(second.outputs['bin-dir']).toBe(binDir);
      expect(second.log).toContain(`(cache: ${binDir})`);
      expect(first.log).toContain(`(download: ${binDir})`);
      expect((await mirrorHits(mirrorUrl()))[archive]).toBe(before + 1);
    },
  );

  it('installs the client matching a server given as from, without downloading an installed one', async () => {
    const run = await runAction({ command: 'install', from: connUrl(15), mirror: mirrorUrl() });
    expect(run.code).toBe(0);
    expect(run.outputs['bin-dir']).toBe(SYSTEM_CLIENT_DIR);
    expect(run.outputs['server-version']).toMatch(/^15\./);
    expect(run.masked).toContain(testbed().password);
    expect(run.everything).not.toContain(testbed().password);
  });

  it('installs the lowest newer client for a server whose major cannot be had, with a warning annotation', async () => {
    const run = await runAction({ command: 'install', from: connUrl(16), mirror: mirrorUrl() });
    expect(run.code).toBe(0);
    expect(run.outputs['client-version']).toBe('17.5');
    expect(run.log).toMatch(/^::warning::no PostgreSQL 16 client could be had; using 17/m);
  });
});
