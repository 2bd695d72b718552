import { readdirSync, readFileSync } from 'node:fs';
import { RecordingLogger } from '../../core/log.js';
import { backupDatabase, type BackupOptions } from '../../core/jobs/backup.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { parseConnection } from '../../core/pg/connection.js';
import type { Progress } from '../../core/pg/run.js';
import { latestKey } from '../../core/storage/backup-layout.js';
import { catalog } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { rowHashes } from '../harness/compare.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Bucket, s3Env, withEnv } from '../harness/s3-engine.js';

/**
 * The fault matrix of issue 4: after each fault the backup fails with a clear message, no object
 * appears at the final key, latest.json is unchanged, and the previous backup still restores.
 */
const BUCKET = 'pgferry-faults';
const PREFIX = 'dr';
const MIB = 1024 * 1024;
let s3: S3TestServer;
let db: string;
/** The key of the backup made before the faults: the one latest.json must still name. */
let previousKey: string;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
  db = await createDatabase(17, 'faults');
  // ~100 MB of poorly compressible rows, so that a fault can strike well into the stream.
  await sql(
    17,
    db,
    'CREATE TABLE big (id int PRIMARY KEY, payload text); INSERT INTO big SELECT i, repeat(md5(i::text), 8) FROM generate_series(1, 380000) i',
  );
  previousKey = (await backupDatabase(options({ now: () => new Date('2026-11-20T03:00:00Z') }))).manifest.key;
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
    now: () => new Date('2026-11-24T03:00:00Z'),
    ...extra,
  };
}

/** The PID of the pg_dump reading this test's database (its environment names the database). */
function pgDumpPid(): number | undefined {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (!cmd.split('\0')[0]?.endsWith('/pg_dump')) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`PGDATABASE=${db}`))
        return Number(pid);
    } catch {
      // gone already
    }
  }
  return undefined;
}

/** Runs a backup and strikes once pg_dump has streamed more than 12 MiB (past the first part). */
async function backupWithFault(
  strike: () => Promise<void> | void,
  extra: Partial<BackupOptions> = {},
): Promise<Error> {
  let struck = false;
  const onProgress = (p: Progress): void => {
    if (struck || p.bytes < 12 * MIB) return;
    struck = true;
    void strike();
  };
  const error = await failureOf(backupDatabase(options({ onProgress, progressIntervalMs: 50, ...extra })));
  expect(struck).toBe(true);
  return error;
}

const todayKey = (): string => `${PREFIX}/${db}/2026/11/24/${db}-20261124T030000Z.dump`;

async function expectNothingChanged(before: { keys: string[]; latest: string | undefined }): Promise<void> {
  expect(await s3.keys(BUCKET, `${PREFIX}/${db}/`)).toEqual(before.keys);
  expect(await s3.keys(BUCKET, todayKey())).toEqual([]);
  expect(await s3.getText(BUCKET, latestKey(PREFIX, db))).toBe(before.latest);
}

async function state(): Promise<{ keys: string[]; latest: string | undefined }> {
  return {
    keys: await s3.keys(BUCKET, `${PREFIX}/${db}/`),
    latest: await s3.getText(BUCKET, latestKey(PREFIX, db)),
  };
}

const tried: string[] = [];

describe('backup fault matrix', () => {
  it('pg_dump killed with SIGKILL mid-stream', async () => {
    const before = await state();
    const error = await backupWithFault(() => {
      const pid = pgDumpPid();
      if (pid) process.kill(pid, 'SIGKILL');
    });
    expect(error.message).toMatch(/^pg_dump was killed by SIGKILL/);
    await expectNothingChanged(before);
    tried.push('SIGKILL');
  });

  it('the source backend terminated mid-dump', async () => {
    const before = await state();
    const error = await backupWithFault(async () => {
      await sql(
        17,
        'postgres',
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}' AND pid <> pg_backend_pid()`,
      );
    });
    expect(error.message).toMatch(
      /^pg_dump exited with code 1:\n[\s\S]*(terminating connection|server closed the connection|connection to server)/,
    );
    await expectNothingChanged(before);
    tried.push('pg_terminate_backend');
  });

  it('the S3 server stopped mid-upload', async () => {
    const before = {
      keys: await s3.keys(BUCKET, `${PREFIX}/${db}/`),
      latest: await s3.getText(BUCKET, latestKey(PREFIX, db)),
    };
    const error = await backupWithFault(() => s3.stop());
    await s3.start();
    expect(error.message).toMatch(
      /^to: (cannot reach the S3 endpoint|S3 request for s3:\/\/pgferry-faults\/.* failed)/,
    );
    await expectNothingChanged(before);
    tried.push('S3 stopped');
  });

  it('a cancellation (deadline) mid-upload', async () => {
    const before = await state();
    const controller = new AbortController();
    const error = await backupWithFault(() => controller.abort(new Error('deadline: 30 s left')), {
      signal: controller.signal,
    });
    expect(error.message).toBe('pg_dump was cancelled: deadline: 30 s left');
    await expectNothingChanged(before);
    expect(pgDumpPid()).toBeUndefined();
    tried.push('cancellation');
  });

  it('wrong S3 credentials', async () => {
    const before = await state();
    const error = await withEnv(
      s3Env(s3, { accessKeyId: 'WRONGKEY', secretAccessKey: 'wrong-secret-77' }),
      () => failureOf(backupDatabase(options({ bucket: s3Bucket(s3, BUCKET) }))),
    );
    expect(error.message).toMatch(
      /^to: S3 refused access to s3:\/\/pgferry-faults\/dr\/.*\(InvalidAccessKeyId\); check the AWS credentials/,
    );
    expect(error.message).not.toContain('wrong-secret-77');
    await expectNothingChanged(before);
    tried.push('wrong credentials');
  });

  it('a missing bucket', async () => {
    const error = await failureOf(backupDatabase(options({ bucket: s3Bucket(s3, 'no-such-bucket') })));
    expect(error.message).toBe('to: bucket "no-such-bucket" does not exist');
    expect(pgDumpPid()).toBeUndefined();
    tried.push('missing bucket');
  });

  it('after every fault the previous backup still restores', async () => {
    const log = new RecordingLogger();
    const target = uniqueName('after_faults');
    const restored = await restoreFromS3({
      bucket: s3Bucket(s3, BUCKET),
      key: `${PREFIX}/${db}/`,
      to: parseConnection(connUrl(17, target), 'to', {}),
      jobs: 1,
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    expect(previousKey).toMatch(
      new RegExp(`^${PREFIX}/${db}/2026/11/20/${db}-20261120T030000\\.000Z-[0-9a-f]{8}\\.dump$`),
    );
    expect(restored.location).toBe(`s3://${BUCKET}/${previousKey}`);
    expect(await rowHashes(17, target)).toEqual(await rowHashes(17, db));
    expect(tried).toEqual([
      'SIGKILL',
      'pg_terminate_backend',
      'S3 stopped',
      'cancellation',
      'wrong credentials',
      'missing bucket',
    ]);
  });
});
