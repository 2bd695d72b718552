import { PutObjectCommand } from '@aws-sdk/client-s3';
import { RecordingLogger } from '../../core/log.js';
import { backupDatabase } from '../../core/jobs/backup.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { parseConnection } from '../../core/pg/connection.js';
import { latestKey } from '../../core/storage/backup-layout.js';
import { catalog } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { backupOptionsFor, s3Bucket, s3Env, s3Settings } from '../harness/s3-engine.js';
import { freePort } from '../harness/servers.js';

const BUCKET = 'pgferry-restores';
let s3: S3TestServer;
let db: string;
let key: string;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
  db = await createDatabase(17, 'rs');
  await sql(
    17,
    db,
    'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 5000) i',
  );
  const result = await backupDatabase(backupOptionsFor(s3, BUCKET, 'p', db));
  key = result.manifest.key;
});
afterAll(async () => s3?.close());

function restore(objectKey: string, jobs: number | 'auto' = 1, settings = s3Settings(s3)) {
  const log = new RecordingLogger();
  const target = uniqueName('rs_dst');
  return {
    target,
    run: restoreFromS3({
      bucket: s3Bucket(s3, BUCKET, settings),
      key: objectKey,
      to: parseConnection(connUrl(17, target), 'to', {}),
      jobs,
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    }),
  };
}

async function databaseExists(name: string): Promise<boolean> {
  return (await sql(17, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${name}'`)).length > 0;
}

async function putText(objectKey: string, text: string): Promise<void> {
  await s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: objectKey, Body: text }));
}

describe('restore from S3: what is refused', () => {
  it('restores an object named by its key', async () => {
    const { target, run } = await restore(key);
    expect((await run).location).toBe(`s3://${BUCKET}/${key}`);
    expect(await sql(17, target, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 5000 }]);
  });

  it.each([1, 'auto'] as const)(
    'refuses an object whose SHA-256 does not match its manifest (jobs %s), touching nothing',
    async (jobs) => {
      const manifest = JSON.parse((await s3.getText(BUCKET, `${key}.json`)) ?? '{}') as Record<
        string,
        unknown
      >;
      const good = JSON.stringify(manifest);
      // Manifest and pointer agree with each other, so only the object's own bytes can tell.
      const pointerKey = latestKey('p', db);
      const pointer = JSON.parse((await s3.getText(BUCKET, pointerKey)) ?? '{}') as Record<string, unknown>;
      await putText(`${key}.json`, JSON.stringify({ ...manifest, sha256: 'f'.repeat(64) }));
      await putText(pointerKey, JSON.stringify({ ...pointer, sha256: 'f'.repeat(64) }));
      try {
        const { target, run } = restore('p/' + db + '/', jobs);
        const error = await failureOf(run);
        expect(error.message).toMatch(
          /does not match its manifest: \d+ bytes with SHA-256 [0-9a-f]{64}, the manifest says \d+ bytes with f{64}; refusing to restore it/,
        );
        expect(await databaseExists(target)).toBe(false);
      } finally {
        await putText(`${key}.json`, good);
        await putText(pointerKey, JSON.stringify(pointer));
      }
    },
  );

  it('refuses a backup whose manifest records a failed verification', async () => {
    const manifest = JSON.parse((await s3.getText(BUCKET, `${key}.json`)) ?? '{}') as Record<string, unknown>;
    const good = JSON.stringify(manifest);
    await putText(
      `${key}.json`,
      JSON.stringify({ ...manifest, verification: { method: 'list', result: 'failed', detail: 'broken' } }),
    );
    try {
      const error = await failureOf(restore(key).run);
      expect(error.message).toMatch(
        /^from: s3:\/\/.* failed its verification \(list: broken\); refusing to restore it/,
      );
    } finally {
      await putText(`${key}.json`, good);
    }
  });

  it('says there is no verified backup under a prefix without latest.json', async () => {
    const error = await failureOf(restore('p/nothing-here/').run);
    expect(error.message).toBe(
      `from: no verified backup under s3://${BUCKET}/p/nothing-here/ (there is no p/nothing-here/latest.json)`,
    );
  });

  it('says when latest.json points at a missing manifest, or at a missing object', async () => {
    const pointer = latestKey('p', 'ghost');
    const described = { database: 'ghost', key: 'p/ghost/gone.dump', sha256: 'a'.repeat(64), bytes: 1 };
    await putText(
      pointer,
      JSON.stringify({
        schemaVersion: 1,
        ...described,
        manifest: 'p/ghost/gone.dump.json',
        finishedAt: '2026-01-01T00:00:00Z',
      }),
    );
    expect((await failureOf(restore('p/ghost/').run)).message).toBe(
      `from: s3://${BUCKET}/${pointer} points at a missing manifest s3://${BUCKET}/p/ghost/gone.dump.json`,
    );
    await putText('p/ghost/gone.dump.json', JSON.stringify({ schemaVersion: 1, ...described }));
    const error = await failureOf(restore('p/ghost/').run);
    expect(error.message).toBe(
      `from: s3://${BUCKET}/${pointer} points at s3://${BUCKET}/p/ghost/gone.dump, which does not exist`,
    );
  });

  it('says when a key does not exist', async () => {
    const error = await failureOf(restore('p/none.dump').run);
    expect(error.message).toBe(`from: s3://${BUCKET}/p/none.dump does not exist`);
  });

  it('names an endpoint that cannot be reached', async () => {
    const port = await freePort();
    const error = await failureOf(
      restore(key, 1, { ...s3Settings(s3), endpoint: `http://127.0.0.1:${port}` }).run,
    );
    expect(error.message).toMatch(
      new RegExp(`^from: cannot reach the S3 endpoint http://127\\.0\\.0\\.1:${port}`),
    );
  });
});
