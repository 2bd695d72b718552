import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { backupDatabase } from '../../core/jobs/backup.js';
import { copyDatabase } from '../../core/jobs/copy.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { seedDatabase } from '../../core/jobs/seed.js';
import type { ClientTools } from '../../core/pg/clients/tools.js';
import { parseConnection } from '../../core/pg/connection.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { catalog, dumpFile, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { backupOptionsFor, s3Bucket, s3Env } from '../harness/s3-engine.js';
import { connUrl, createDatabase, sql } from '../harness/testbed.js';

/**
 * Staging seeded the way the README recommends: the SQL that anonymises runs in the restore's own
 * transaction, so when it fails nothing of the restore is committed — the raw rows never appear under
 * the staging name — and the error names the user's file and line, not a line of psql's input.
 */

const BUCKET = 'pgferry-sanitize';
const scratch = scratchDir();
let s3: S3TestServer;
let tools: ClientTools;
let source: string;
let archive: string;
const mask = path.join(scratch.dir, 'mask.sql');
const broken = path.join(scratch.dir, 'broken.sql');

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
  tools = await catalog().provide({ major: 17 });
  source = await createDatabase(17, 'pii');
  await sql(
    17,
    source,
    `CREATE TABLE users (id int PRIMARY KEY, email text);
     INSERT INTO users SELECT i, 'person' || i || '@real.example' FROM generate_series(1, 500) i`,
  );
  writeFileSync(mask, "UPDATE users SET email = 'user' || id || '@example.invalid';\n");
  // Masks, then fails on line 3: the masking must not stay either.
  writeFileSync(broken, "UPDATE users SET email = 'masked';\n\nSELECT no_such_column FROM users;\n");
  archive = await dumpFile(17, source, path.join(scratch.dir, 'pii.dump'));
  await backupDatabase(backupOptionsFor(s3, BUCKET, 'p', source));
});

afterAll(async () => {
  scratch.cleanup();
  await s3?.close();
});

/** A staging database that already holds something of its own. */
async function staging(): Promise<{ db: string; before: [string, Record<string, string>] }> {
  const db = await createDatabase(17, 'staging');
  await sql(17, db, `CREATE TABLE previous (id int); INSERT INTO previous VALUES (1), (2)`);
  return { db, before: [await schemaOf(tools, 17, db), await rowHashes(17, db)] };
}

const hooks = () => {
  const log = new RecordingLogger();
  return { postgresVersion: { kind: 'auto' as const }, catalog: catalog(log), log };
};
const to = (db: string) => parseConnection(connUrl(17, db), 'to', {});

const PATHS = {
  'restore clean from a file': (db: string, files: string[], jobs: number) =>
    restoreFromPath({
      from: archive,
      to: to(db),
      jobs,
      clean: true,
      confirm: db,
      sqlInTransaction: { files, input: 'sql-after' },
      ...hooks(),
    }),
  'restore from S3': (db: string, files: string[], jobs: number) =>
    restoreFromS3({
      bucket: s3Bucket(s3, BUCKET),
      key: `p/${source}/`,
      to: to(db),
      jobs,
      confirm: db,
      sqlInTransaction: { files, input: 'sql-after' },
      ...hooks(),
    }),
  copy: (db: string, files: string[], jobs: number) =>
    copyDatabase({
      from: parseConnection(connUrl(17, source), 'from', {}),
      to: to(db),
      jobs,
      clean: true,
      confirm: db,
      sqlAfter: files,
      ...hooks(),
    }),
  seed: (db: string, files: string[], jobs: number) =>
    seedDatabase({
      source: parseConnection(connUrl(17, source), 'from', {}),
      to: to(db),
      bucket: s3Bucket(s3, BUCKET),
      prefix: 'p',
      database: source,
      confirm: db,
      sanitizeSql: files,
      sanitizeInput: 'sanitize-sql',
      jobs,
      ...hooks(),
    }),
};

describe.each(Object.keys(PATHS) as (keyof typeof PATHS)[])('%s with SQL that masks', (name) => {
  const run = PATHS[name];
  const input = name === 'seed' ? 'sanitize-sql' : 'sql-after';

  it.each([1, 2])('failing on its line 3 (jobs %i): staging is exactly as before', async (jobs) => {
    const { db, before } = await staging();
    const error = await failureOf(run(db, [mask, broken], jobs));
    expect(error.message).toMatch(
      new RegExp(`^${input}: .*broken\\.sql, line 3: ERROR: +column "no_such_column" does not exist`),
    );
    expect(error.message).toContain('nothing was committed');
    expect([await schemaOf(tools, 17, db), await rowHashes(17, db)]).toEqual(before);
  });

  it('succeeding: no real address ever reaches staging', async () => {
    const { db } = await staging();
    await run(db, [mask], 2);
    const rows = await sql<{ n: number; real: number }>(
      17,
      db,
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE email LIKE '%@real.example')::int AS real FROM users`,
    );
    expect(rows).toEqual([{ n: 500, real: 0 }]);
  });
});
