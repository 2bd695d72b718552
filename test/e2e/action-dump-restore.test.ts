import path from 'node:path';
import { SERVER_MAJORS, type ServerMajor } from '../harness/paths.js';
import { loadDataset } from '../harness/dataset.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { connUrl, createDatabase, mirrorUrl, testbed, uniqueName } from '../harness/testbed.js';
import { failure, runAction, runnerDirs } from '../harness/action-runner.js';
import { scratchDir } from '../harness/engine.js';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());
const dirs = runnerDirs();
const FORMATS = ['custom', 'directory', 'tar', 'plain'] as const;

function clientOf(binDir: string) {
  return { binDir, version: { major: 0 }, source: 'explicit' as const };
}

describe.each(SERVER_MAJORS)('action: dump and restore on server %i', (major: ServerMajor) => {
  let source: string;
  beforeAll(async () => {
    source = await createDatabase(major, 'e2e_src');
    await loadDataset(major, source, 400);
  });

  it.each(FORMATS)(
    '%s: dump, then restore into a fresh database with identical schema and rows',
    async (format) => {
      const to = path.join(scratch.dir, `${source}.${format}`);
      const dump = await runAction(
        { command: 'dump', from: connUrl(major, source), to, format, mirror: mirrorUrl() },
        dirs,
      );
      expect(failure(dump)).toBe('(no ::error:: line)');
      expect(dump.outputs).toMatchObject({
        format,
        location: to,
        'server-version': expect.stringMatching(new RegExp(`^${major}\\.`)),
      });
      expect(Number(dump.outputs.bytes)).toBeGreaterThan(1000);
      if (format === 'directory') expect(dump.outputs.sha256).toBeUndefined();
      else expect(dump.outputs.sha256).toMatch(/^[0-9a-f]{64}$/);
      if (format !== 'plain') {
        expect(dump.outputs['archive-version']).toMatch(/^1\.1[46]$/);
        expect(Number(dump.outputs['toc-entries'])).toBeGreaterThan(20);
        expect(dump.outputs.tables).toBe('8');
      }

      const target = uniqueName('e2e_dst');
      const restore = await runAction(
        { command: 'restore', from: to, to: connUrl(major, target), mirror: mirrorUrl() },
        dirs,
      );
      expect(failure(restore)).toBe('(no ::error:: line)');
      expect(restore.outputs.tables).toBe('8');
      const pgDump = clientOf(dump.outputs['bin-dir'] ?? '');
      expect(await schemaOf(pgDump, major, target)).toBe(await schemaOf(pgDump, major, source));
      expect(await rowHashes(major, target)).toEqual(await rowHashes(major, source));

      for (const run of [dump, restore]) {
        expect(run.masked).toContain(testbed().password);
        expect(run.everything).not.toContain(testbed().password);
        expect(run.summary).toContain(`postgres@127.0.0.1:`);
      }
    },
  );
});
