import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { runJob } from '../../core/jobs/run-job.js';
import { parseJobOptions } from '../../core/options.js';
import { scratchDir, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { connUrl, createDatabase, mirrorUrl, sql } from '../harness/testbed.js';

/**
 * No second pass over a plain or tar dump: pgferry hashes what pg_dump sends it as it writes the
 * file. The reported SHA-256 must be the file's, whatever the format, and a failed dump leaves nothing.
 */
const scratch = scratchDir();
let db: string;

beforeAll(async () => {
  db = await createDatabase(17, 'hash');
  await sql(
    17,
    db,
    `CREATE TABLE "sp ace ""q"" ü" (id int PRIMARY KEY, v text);
     INSERT INTO "sp ace ""q"" ü" SELECT i, md5(i::text) FROM generate_series(1, 50000) i;
     CREATE TABLE "select" AS SELECT * FROM "sp ace ""q"" ü"`,
  );
});
afterAll(() => scratch.cleanup());

async function dump(format: string, to: string, extra: Record<string, string> = {}) {
  const inputs: Record<string, string> = {
    command: 'dump',
    from: connUrl(17, db),
    to,
    format,
    'postgres-version': '17',
    mirror: mirrorUrl(),
    ...extra,
  };
  return runJob(
    parseJobOptions((name) => inputs[name], {}),
    {
      log: new RecordingLogger(),
      cacheDir: SHARED_CLIENT_CACHE,
    },
  );
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

it.each(['plain', 'tar', 'custom'])('a %s dump reports the SHA-256 of the file it wrote', async (format) => {
  const to = path.join(scratch.dir, `db.${format}`);
  const report = await dump(format, to);
  expect(report.sha256).toBe(sha256(to));
  expect(report.bytes).toBe(readFileSync(to).length);
  expect(report.bytes).toBeGreaterThan(1_000_000);
  // The table count comes from the archive's own TOC (a plain script has none).
  expect(report.tables).toBe(format === 'plain' ? undefined : 2);
});

it('a plain dump that fails leaves no file and no temporary one', async () => {
  const dir = path.join(scratch.dir, 'failed');
  const to = path.join(dir, 'never.sql');
  await expect(dump('plain', to, { tables: 'public.no_such_table' })).rejects.toThrow(
    /no_such_table|no matching/,
  );
  expect(readdirSync(dir)).toEqual([]);
});
