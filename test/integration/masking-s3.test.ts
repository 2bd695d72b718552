import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { RecordingLogger } from '../../core/log.js';
import { backupDatabase } from '../../core/jobs/backup.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { seedDatabase } from '../../core/jobs/seed.js';
import { parseMaskingRules } from '../../core/masking/rules.js';
import { parseConnection } from '../../core/pg/connection.js';
import { rowHashes } from '../harness/compare.js';
import { catalog, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { backupOptionsFor, s3Bucket, s3Env } from '../harness/s3-engine.js';
import { connUrl, createDatabase, sql } from '../harness/testbed.js';

/**
 * Masking from S3: the latest verified backup is downloaded and checked, then restored through the
 * masking stream like a file (rules checked against its TOC first); seed does the same into staging.
 */

const BUCKET = 'pgferry-masking';
const KEY = 's3-key';
const scratch = scratchDir();
let s3: S3TestServer;
let source: string;

const rules = (text: string) => parseMaskingRules(text, 'rules.yml', KEY);
const RULES =
  'columns:\n  public.users.email: email\n  public.users.id: { hash: { keep-format: true } }\n  public.orders.user_id: { hash: { keep-format: true } }\n';

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
  source = await createDatabase(17, 'prod');
  await sql(
    17,
    source,
    `CREATE TABLE users (id int PRIMARY KEY, email text);
     CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users);
     INSERT INTO users SELECT i, 'real' || i || '@corp.test' FROM generate_series(1, 200) i;
     INSERT INTO orders SELECT i, 1 + i % 200 FROM generate_series(1, 400) i;`,
  );
  await backupDatabase(backupOptionsFor(s3, BUCKET, 'm', source));
});

afterAll(async () => {
  scratch.cleanup();
  await s3?.close();
});

const hooks = () => {
  const log = new RecordingLogger();
  return { postgresVersion: { kind: 'auto' as const }, catalog: catalog(log), log };
};
const to = (db: string) => parseConnection(connUrl(17, db), 'to', {});

async function expectMasked(db: string): Promise<void> {
  const [row] = await sql<{ real: number; joined: number }>(
    17,
    db,
    `SELECT (SELECT count(*)::int FROM users WHERE email LIKE '%@corp.test') AS real,
            (SELECT count(*)::int FROM orders o JOIN users u ON u.id = o.user_id) AS joined`,
  );
  expect(row).toEqual({ real: 0, joined: 400 });
}

test.each([1, 2])('restore from S3 with jobs %i masks, joins hold, no leak', async (jobs) => {
  const db = await createDatabase(17, 'staging');
  const result = await restoreFromS3({
    bucket: s3Bucket(s3, BUCKET),
    key: `m/${source}/`,
    to: to(db),
    jobs,
    maskingRules: rules(RULES),
    ...hooks(),
  });
  expect(result.jobs).toBe(1);
  expect(result.leakCheck?.map((c) => c.leaks)).toEqual([0, 0, 0]);
  await expectMasked(db);
});

test('seed with masking replaces staging with masked rows only', async () => {
  const db = await createDatabase(17, 'staging');
  await sql(17, db, 'CREATE TABLE old (id int)');
  const result = await seedDatabase({
    source: parseConnection(connUrl(17, source), 'from', {}),
    to: to(db),
    bucket: s3Bucket(s3, BUCKET),
    prefix: 'm',
    database: source,
    confirm: db,
    sanitizeSql: [],
    jobs: 2,
    maskingRules: rules(RULES),
    ...hooks(),
  });
  expect(result.restore.swapped).toBe(true);
  expect(result.restore.leakCheck?.every((c) => c.leaks === 0)).toBe(true);
  await expectMasked(db);
});

test('seed whose rules miss (sanitize SQL copies raw values back) fails, staging unchanged', async () => {
  const db = await createDatabase(17, 'staging');
  await sql(17, db, 'CREATE TABLE old (id int); INSERT INTO old VALUES (1)');
  const before = await rowHashes(17, db);
  const undo = path.join(scratch.dir, 'undo.sql');
  writeFileSync(undo, "UPDATE users SET email = 'real' || id || '@corp.test' WHERE id % 2 = 0;\n");
  const error = await failureOf(
    seedDatabase({
      source: parseConnection(connUrl(17, source), 'from', {}),
      to: to(db),
      bucket: s3Bucket(s3, BUCKET),
      prefix: 'm',
      database: source,
      confirm: db,
      sanitizeSql: [undo],
      jobs: 1,
      maskingRules: rules('columns:\n  public.users.email: email\n'),
      ...hooks(),
    }),
  );
  expect(error.message).toMatch(
    /^leak check: public\.users\.email \(email\) holds 100 value\(s\) of the source/,
  );
  expect(await rowHashes(17, db)).toEqual(before);
});
