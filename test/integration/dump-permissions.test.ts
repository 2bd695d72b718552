import { statSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { dumpToPath } from '../../core/jobs/dump.js';
import { runJob } from '../../core/jobs/run-job.js';
import { parseJobOptions } from '../../core/options.js';
import type { DumpFormat } from '../../core/pg/args.js';
import { parseConnection } from '../../core/pg/connection.js';
import { catalog, scratchDir, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { connUrl, createDatabase, mirrorUrl, sql } from '../harness/testbed.js';

/**
 * Dumps hold the whole database: whatever the umask pgferry runs under, a dump file is 0600 and a
 * directory archive is 0700 with 0600 files, also when an older, readable file was there before.
 */
const scratch = scratchDir();
let db: string;

beforeAll(async () => {
  db = await createDatabase(17, 'modes');
  await sql(
    17,
    db,
    'CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a SELECT i, md5(i::text) FROM generate_series(1, 2000) i; CREATE TABLE b AS SELECT * FROM a',
  );
});
afterAll(() => scratch.cleanup());

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8).padStart(3, '0');

/** Runs `work` under `umask`, then puts the test process's umask back. */
async function underUmask<T>(umask: number, work: () => Promise<T>): Promise<T> {
  const saved = process.umask(umask);
  try {
    return await work();
  } finally {
    process.umask(saved);
  }
}

describe.each([0o000, 0o022])('under umask %o', (umask) => {
  it.each(['custom', 'tar', 'plain'] as DumpFormat[])(
    'a %s dump file is 0600, also over a 0666 file',
    async (format) => {
      const to = path.join(scratch.dir, `u${umask.toString(8)}-${format}.dump`);
      writeFileSync(to, 'an older, world-readable file', { mode: 0o666 });
      await underUmask(umask, () =>
        dumpToPath({
          from: parseConnection(connUrl(17, db), 'from', {}),
          to,
          format,
          compress: 'auto',
          jobs: 1,
          postgresVersion: { kind: 'auto' },
          catalog: catalog(),
          log: new RecordingLogger(),
        }),
      );
      expect(statSync(to).size).toBeGreaterThan(1000);
      expect(mode(to)).toBe('600');
    },
  );

  it('a directory archive is 0700 and every file in it 0600', async () => {
    const to = path.join(scratch.dir, `u${umask.toString(8)}-dir`);
    await underUmask(umask, () =>
      dumpToPath({
        from: parseConnection(connUrl(17, db), 'from', {}),
        to,
        format: 'directory',
        compress: 'auto',
        jobs: 2,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(),
        log: new RecordingLogger(),
      }),
    );
    const files = await readdir(to);
    // toc.dat and one data file per table.
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(mode(to)).toBe('700');
    expect(Object.fromEntries(files.map((f) => [f, mode(path.join(to, f))]))).toEqual(
      Object.fromEntries(files.map((f) => [f, '600'])),
    );
  });
});

it('dump with globals: the roles file is 0600 too, also over an older readable one', async () => {
  const to = path.join(scratch.dir, 'with-globals.dump');
  writeFileSync(`${to}.globals.sql`, 'older', { mode: 0o644 });
  const inputs: Record<string, string> = {
    command: 'dump',
    from: connUrl(17, db),
    to,
    globals: 'true',
    'postgres-version': '17',
    mirror: mirrorUrl(),
  };
  await underUmask(0, () =>
    runJob(
      parseJobOptions((name) => inputs[name], {}),
      { log: new RecordingLogger(), cacheDir: SHARED_CLIENT_CACHE },
    ),
  );
  expect([mode(to), mode(`${to}.globals.sql`)]).toEqual(['600', '600']);
  expect(statSync(`${to}.globals.sql`).size).toBeGreaterThan(10);
});
