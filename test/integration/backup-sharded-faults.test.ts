import { GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { readdirSync, readFileSync } from 'node:fs';
import { RecordingLogger } from '../../core/log.js';
import { backupDatabase, type BackupOptions } from '../../core/jobs/backup.js';
import { parseConnection } from '../../core/pg/connection.js';
import type { Progress } from '../../core/pg/run.js';
import { backupKey, latestKey } from '../../core/storage/backup-layout.js';
import { catalog } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, sql } from '../harness/testbed.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Bucket, s3Env } from '../harness/s3-engine.js';

/**
 * Issue 16, the faults: a sharded backup whose one worker fails leaves no part at all and
 * latest.json unmoved; one whose completions fail midway keeps no manifest and tags the parts that
 * were stored for the lifecycle rule to expire.
 */
const BUCKET = 'pgferry-sharded-faults';
const PREFIX = 'dr';
const MIB = 1024 * 1024;
const AT = new Date('2026-11-24T03:00:00Z');
let s3: S3TestServer;
let db: string;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
  db = await createDatabase(17, 'shard_faults');
  // Two ~50 MB tables of poorly compressible rows: each worker streams long enough to be struck.
  await sql(
    17,
    db,
    `CREATE TABLE big_a (id int PRIMARY KEY, payload text);
     INSERT INTO big_a SELECT i, repeat(md5(i::text), 8) FROM generate_series(1, 200000) i;
     CREATE TABLE big_b (id int PRIMARY KEY, payload text);
     INSERT INTO big_b SELECT i, repeat(md5((-i)::text), 8) FROM generate_series(1, 200000) i;`,
  );
  // The backup latest.json names before the faults.
  await backupDatabase(options({ now: () => new Date('2026-11-20T03:00:00Z') }));
});
afterAll(async () => s3?.close());

function options(extra: Partial<BackupOptions> = {}): BackupOptions {
  const log = new RecordingLogger();
  return {
    from: parseConnection(connUrl(17, db), 'from', {}),
    bucket: s3Bucket(s3, BUCKET),
    prefix: PREFIX,
    verify: 'list',
    compress: { algorithm: 'none' },
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
    jobs: 2,
    now: () => AT,
    ...extra,
  };
}

/** The pg_dumps reading this test's database, with their argv. */
function pgDumps(): { pid: number; args: string[] }[] {
  const out: { pid: number; args: string[] }[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
      if (!args[0]?.endsWith('/pg_dump')) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`PGDATABASE=${db}`))
        out.push({ pid: Number(pid), args });
    } catch {
      // gone already
    }
  }
  return out;
}

async function state() {
  return {
    keys: await s3.keys(BUCKET, `${PREFIX}/${db}/`),
    latest: await s3.getText(BUCKET, latestKey(PREFIX, db)),
  };
}

/** Runs a sharded backup and strikes once its workers streamed more than 12 MiB together. */
async function backupWithFault(
  strike: () => Promise<void> | void,
  extra: Partial<BackupOptions> = {},
): Promise<Error> {
  let struck = false;
  let workers = 0;
  const onProgress = (p: Progress): void => {
    if (struck || p.bytes < 12 * MIB) return;
    struck = true;
    workers = pgDumps().length;
    void strike();
  };
  const error = await failureOf(backupDatabase(options({ onProgress, progressIntervalMs: 50, ...extra })));
  expect(struck).toBe(true);
  // Two data workers were streaming when struck (with jobs 3, the main part's pg_dump of the schema
  // alone had exited 0 by then and waited at the gate).
  expect(workers).toBe(2);
  return error;
}

async function expectNothingChanged(before: Awaited<ReturnType<typeof state>>): Promise<void> {
  expect(await state()).toEqual(before);
  expect(pgDumps()).toEqual([]);
}

describe('sharded backup faults', () => {
  it('one worker’s pg_dump killed with SIGKILL after another finished: no part appears, latest.json unmoved', async () => {
    const before = await state();
    const log = new RecordingLogger();
    const error = await backupWithFault(
      () => {
        const data = pgDumps().find((d) => d.args.includes('--data-only'));
        if (data) process.kill(data.pid, 'SIGKILL');
      },
      { jobs: 3, log, catalog: catalog(log) },
    );
    expect(
      log.lines.some((l) => /sharded backup: 3 parts .*part 0: main, 0 table\(s\)/.test(l.message)),
    ).toBe(true);
    expect(error.message).toMatch(/^pg_dump was killed by SIGKILL/);
    await expectNothingChanged(before);
  });

  it('one worker’s backend terminated: no part appears, latest.json unmoved', async () => {
    const before = await state();
    const error = await backupWithFault(async () => {
      await sql(
        17,
        'postgres',
        `SELECT pg_terminate_backend(pid) FROM (SELECT pid FROM pg_stat_activity WHERE datname = '${db}' AND application_name = 'pg_dump' AND query LIKE 'COPY%' LIMIT 1) w`,
      );
    });
    expect(error.message).toMatch(
      /^pg_dump exited with code 1:\n[\s\S]*(terminating connection|server closed the connection|connection to server)/,
    );
    await expectNothingChanged(before);
  });

  it('a completion refused midway: no manifest, the stored part tagged incomplete, latest.json unmoved', async () => {
    const key = backupKey(PREFIX, db, AT, 'clash1');
    // Something already at part 1's key: its create-only completion is refused, part 0's is not.
    await s3
      .client()
      .send(new PutObjectCommand({ Bucket: BUCKET, Key: `${key}.part-01.dump`, Body: 'already here' }));
    const before = await state();
    const error = await failureOf(backupDatabase(options({ random: () => 'clash1' })));
    expect(error.message).toMatch(/part-01\.dump/);
    const after = await state();
    expect(after.latest).toBe(before.latest);
    expect(after.keys).toEqual([...before.keys, `${key}.part-00.dump`].sort());
    expect(after.keys).not.toContain(`${key}.json`);
    const tags = await s3
      .client()
      .send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: `${key}.part-00.dump` }));
    expect(tags.TagSet).toEqual(
      expect.arrayContaining([
        { Key: 'pgferry-tier', Value: 'daily' },
        { Key: 'pgferry-incomplete', Value: 'true' },
      ]),
    );
    expect(await s3.getText(BUCKET, `${key}.part-01.dump`)).toBe('already here');
  });
});
