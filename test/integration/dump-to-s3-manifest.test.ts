import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { RecordingLogger } from '../../core/log.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { runJob } from '../../core/jobs/run-job.js';
import { parseJobOptions } from '../../core/options.js';
import { parseConnection } from '../../core/pg/connection.js';
import type { ObjectManifest } from '../../core/storage/manifest.js';
import { rowHashes } from '../harness/compare.js';
import { catalog, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { connUrl, createDatabase, mirrorUrl, sql, uniqueName } from '../harness/testbed.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Bucket, s3Env } from '../harness/s3-engine.js';

/** `dump --to s3://bucket/key` writes `<key>.json` beside the object, so a restore can check it. */
const BUCKET = 'pgferry-dumps';
let s3: S3TestServer;
let db: string;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
  db = await createDatabase(17, 'tokey');
  await sql(
    17,
    db,
    'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 3000) i',
  );
});
afterAll(async () => s3?.close());

async function dumpTo(key: string) {
  const inputs: Record<string, string> = {
    command: 'dump',
    from: connUrl(17, db),
    to: `s3://${BUCKET}/${key}`,
    'postgres-version': '17',
    mirror: mirrorUrl(),
    's3-endpoint': s3.endpoint,
    's3-region': s3.region,
    's3-force-path-style': 'true',
  };
  return runJob(
    parseJobOptions((name) => inputs[name], {}),
    { log: new RecordingLogger(), cacheDir: SHARED_CLIENT_CACHE },
  );
}

async function digestOf(key: string): Promise<{ sha256: string; bytes: number }> {
  const object = await s3.client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const bytes = Buffer.from(
    await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

it('writes a manifest that matches the object, replaced with it by a later dump to the same key', async () => {
  const key = 'adhoc/pre-migration.dump';
  const first = await dumpTo(key);
  expect(first.manifest).toBe(`s3://${BUCKET}/${key}.json`);
  const manifest = JSON.parse((await s3.getText(BUCKET, `${key}.json`)) ?? '{}') as ObjectManifest;
  expect(manifest).toMatchObject({
    schemaVersion: 1,
    database: db,
    bucket: BUCKET,
    key,
    format: 'custom',
    compression: 'zstd:1',
    archiveVersion: '1.16',
    clientVersion: '17.5',
    sha256: first.sha256,
    bytes: first.bytes,
  });
  // Nothing was read back: a dump's manifest claims no verification.
  expect(manifest.verification).toBeUndefined();
  expect(await digestOf(key)).toEqual({ sha256: manifest.sha256, bytes: manifest.bytes });

  await sql(17, db, 'INSERT INTO t VALUES (3001, $$later$$)');
  const second = await dumpTo(key);
  const replaced = JSON.parse((await s3.getText(BUCKET, `${key}.json`)) ?? '{}') as ObjectManifest;
  expect(replaced.sha256).toBe(second.sha256);
  expect(replaced.sha256).not.toBe(manifest.sha256);
  expect(await digestOf(key)).toEqual({ sha256: replaced.sha256, bytes: replaced.bytes });

  const target = uniqueName('tokey_to');
  const log = new RecordingLogger();
  const restored = await restoreFromS3({
    bucket: s3Bucket(s3, BUCKET),
    key,
    to: parseConnection(connUrl(17, target), 'to', {}),
    jobs: 1,
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
  });
  expect(restored.location).toBe(`s3://${BUCKET}/${key}`);
  expect(await rowHashes(17, target)).toEqual(await rowHashes(17, db));
});
