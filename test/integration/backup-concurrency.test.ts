import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { RecordingLogger } from '../../core/log.js';
import { backupDatabase, type BackupOptions, type BackupResult } from '../../core/jobs/backup.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { parseConnection } from '../../core/pg/connection.js';
import { backupKey, latestKey, manifestKey } from '../../core/storage/backup-layout.js';
import type { LatestPointer, Manifest } from '../../core/storage/manifest.js';
import { rowHashes } from '../harness/compare.js';
import { loadDataset } from '../harness/dataset.js';
import { catalog } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';
import { startS3, type S3TestServer, type WriteRecord } from '../harness/s3.js';
import { backupOptionsFor, s3Bucket, s3Env } from '../harness/s3-engine.js';

/**
 * Backups of one database that overlap, race or collide. The store is s3rver behind the harness's
 * proxy, which enforces S3 conditional writes with real 412 answers and records every final write,
 * so each test shows both what pgferry sent and what it made of the answer.
 */
const BUCKET = 'pgferry-concurrency';
const PREFIX = 'nightly';
let s3: S3TestServer;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
});
afterAll(async () => s3?.close());
afterEach(() => {
  s3.setConditionalWrites('enforce');
  s3.setMissingKeys('not-found');
});

function options(db: string, extra: Partial<BackupOptions> = {}): BackupOptions {
  return backupOptionsFor(s3, BUCKET, PREFIX, db, extra);
}

const at = (iso: string) => () => new Date(iso);

async function sha256Of(key: string): Promise<{ sha256: string; bytes: number }> {
  const object = await s3.client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const bytes = Buffer.from(
    await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

async function pointerOf(db: string): Promise<LatestPointer | undefined> {
  const text = await s3.getText(BUCKET, latestKey(PREFIX, db));
  return text === undefined ? undefined : (JSON.parse(text) as LatestPointer);
}

function writesTo(key: string): WriteRecord[] {
  return s3.writes().filter((w) => w.bucket === BUCKET && w.key === key);
}

async function restoreLatest(db: string): Promise<{ target: string; location: string }> {
  const target = uniqueName('conc_to');
  const log = new RecordingLogger();
  const restored = await restoreFromS3({
    bucket: s3Bucket(s3, BUCKET),
    key: `${PREFIX}/${db}/`,
    to: parseConnection(connUrl(17, target), 'to', {}),
    jobs: 1,
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
  });
  return { target, location: restored.location };
}

describe('ten concurrent backups of one database', () => {
  it('give ten objects, each with its own matching manifest; latest.json names the newest started', async () => {
    const db = await createDatabase(17, 'conc');
    await loadDataset(17, db, 100);
    const results = await Promise.all(Array.from({ length: 10 }, () => backupDatabase(options(db))));

    const keys = results.map((r) => r.manifest.key);
    expect(new Set(keys).size).toBe(10);
    for (const r of results) {
      const stored = JSON.parse((await s3.getText(BUCKET, manifestKey(r.manifest.key))) ?? '{}') as Manifest;
      expect(stored).toEqual(r.manifest);
      expect(await sha256Of(r.manifest.key)).toEqual({ sha256: stored.sha256, bytes: stored.bytes });
      // Dump and manifest were each written once, create-only, and accepted.
      for (const key of [r.manifest.key, manifestKey(r.manifest.key)]) {
        expect(writesTo(key).map((w) => `${w.ifNoneMatch ?? '-'} ${w.status}`)).toEqual(['* 200']);
      }
    }
    expect((await s3.keys(BUCKET, `${PREFIX}/${db}/`)).filter((k) => k.endsWith('.dump')).sort()).toEqual(
      [...keys].sort(),
    );

    // Newest started: by start time, then by key (milliseconds, then the random part).
    const newest = [...results]
      .sort(
        (a, b) =>
          Date.parse(a.manifest.startedAt) - Date.parse(b.manifest.startedAt) ||
          (a.manifest.key < b.manifest.key ? -1 : 1),
      )
      .at(-1) as BackupResult;
    const pointer = await pointerOf(db);
    expect(pointer).toMatchObject({
      key: newest.manifest.key,
      manifest: manifestKey(newest.manifest.key),
      sha256: newest.manifest.sha256,
      startedAt: newest.manifest.startedAt,
    });
    expect(newest.latest).toEqual({ moved: true, names: newest.manifest.key });

    // Every pointer write was conditional: the first create-only, each later one on the ETag it read.
    const moves = writesTo(latestKey(PREFIX, db));
    expect(moves.length).toBeGreaterThan(0);
    expect(moves.every((w) => w.ifNoneMatch === '*' || w.ifMatch !== undefined)).toBe(true);
    const accepted = moves.filter((w) => w.status === 200);
    expect(accepted[0]?.ifNoneMatch).toBe('*');
    expect(accepted.slice(1).every((w) => w.ifMatch !== undefined)).toBe(true);
    expect(moves.every((w) => [200, 412].includes(w.status))).toBe(true);

    const { target, location } = await restoreLatest(db);
    expect(location).toBe(`s3://${BUCKET}/${newest.manifest.key}`);
    expect(await rowHashes(17, target)).toEqual(await rowHashes(17, db));
  });
});

describe('an older backup that finishes late', () => {
  let db: string;
  beforeAll(async () => {
    db = await createDatabase(17, 'late');
    await sql(17, db, 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000)');
  });

  it('finishing after a newer one, leaves the newer pointer alone and writes nothing to it', async () => {
    const newer = await backupDatabase(options(db, { now: at('2026-11-25T04:00:00Z') }));
    const movesBefore = writesTo(latestKey(PREFIX, db)).length;
    const older = await backupDatabase(options(db, { now: at('2026-11-25T03:00:00Z') }));
    expect(older.latest).toEqual({ moved: false, names: newer.manifest.key });
    expect(writesTo(latestKey(PREFIX, db))).toHaveLength(movesBefore);
    expect((await pointerOf(db))?.key).toBe(newer.manifest.key);
    // The older backup is stored and verified all the same, with its own manifest.
    expect(older.manifest.verification.result).toBe('passed');
    expect(await sha256Of(older.manifest.key)).toMatchObject({ sha256: older.manifest.sha256 });
  });

  it('racing a newer one to the pointer, gets 412, reads it again and leaves the newer one', async () => {
    const first = await backupDatabase(options(db, { now: at('2026-11-26T02:00:00Z') }));
    const pointerKey = latestKey(PREFIX, db);
    const movesBefore = writesTo(pointerKey).length;
    // The older backup has read the pointer (first's) and sent its If-Match write: hold it there.
    const held = s3.holdNextWrite(BUCKET, pointerKey);
    const olderRun = backupDatabase(options(db, { now: at('2026-11-26T03:00:00Z') }));
    await held.arrived;
    const newer = await backupDatabase(options(db, { now: at('2026-11-26T04:00:00Z') }));
    held.release();
    const older = await olderRun;

    expect(older.latest).toEqual({ moved: false, names: newer.manifest.key });
    expect((await pointerOf(db))?.key).toBe(newer.manifest.key);
    const moves = writesTo(pointerKey).slice(movesBefore);
    // Both conditioned on the version naming `first`; the newer got there first, the older got 412.
    expect(moves.map((w) => w.status)).toEqual([200, 412]);
    expect(moves[0]?.ifMatch).toBeDefined();
    expect(moves[1]?.ifMatch).toBe(moves[0]?.ifMatch);
    expect(first.latest.moved).toBe(true);
  });
});

describe('a collision on the dump or the manifest', () => {
  let db: string;
  let big: string;
  beforeAll(async () => {
    db = await createDatabase(17, 'clash');
    await sql(17, db, 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000)');
    // Uncompressed, well above one 8 MiB part: the dump completes through CompleteMultipartUpload.
    big = await createDatabase(17, 'clash_big');
    await sql(
      17,
      big,
      'CREATE TABLE t (id int PRIMARY KEY, p text); INSERT INTO t SELECT i, repeat(md5(i::text), 4) FROM generate_series(1, 120000) i',
    );
  });

  const put = (key: string, body: string) =>
    s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

  it.each([
    ['PutObject', 'small'],
    ['CompleteMultipartUpload', 'big'],
  ] as const)(
    'a dump whose key is taken (%s) fails clearly, replaces nothing, leaves latest.json',
    async (operation, which) => {
      const source = which === 'big' ? big : db;
      await backupDatabase(options(source, { compress: { algorithm: 'none' } }));
      const latestBefore = await s3.getText(BUCKET, latestKey(PREFIX, source));
      const now = new Date('2026-11-27T03:00:00.123Z');
      const key = backupKey(PREFIX, source, now, 'c0111de5');
      await put(key, 'someone else’s object');

      const error = await failureOf(
        backupDatabase(
          options(source, { now: () => now, random: () => 'c0111de5', compress: { algorithm: 'none' } }),
        ),
      );
      expect(error.message).toBe(
        `backup of ${source} failed; latest.json was not moved: to: s3://${BUCKET}/${key} already exists, and pgferry never replaces an object it did not read (the store answered 412 PreconditionFailed to If-None-Match: *)`,
      );
      expect(writesTo(key).at(-1)).toMatchObject({ operation, ifNoneMatch: '*', status: 412 });
      expect(await s3.getText(BUCKET, key)).toBe('someone else’s object');
      expect(await s3.getText(BUCKET, manifestKey(key))).toBeUndefined();
      expect(await s3.getText(BUCKET, latestKey(PREFIX, source))).toBe(latestBefore);
    },
  );

  it('a manifest whose key is taken fails clearly, keeps that object, leaves latest.json', async () => {
    await backupDatabase(options(db));
    const latestBefore = await s3.getText(BUCKET, latestKey(PREFIX, db));
    const now = new Date('2026-11-27T05:00:00.456Z');
    const key = backupKey(PREFIX, db, now, 'a11f0e11');
    await put(manifestKey(key), '{"not":"ours"}');

    const error = await failureOf(backupDatabase(options(db, { now: () => now, random: () => 'a11f0e11' })));
    expect(error.message).toBe(
      `the manifest of s3://${BUCKET}/${key} was not written; latest.json was not moved: to: s3://${BUCKET}/${manifestKey(key)} already exists, and pgferry never replaces an object it did not read (the store answered 412 PreconditionFailed to If-None-Match: *)`,
    );
    expect(await s3.getText(BUCKET, manifestKey(key))).toBe('{"not":"ours"}');
    expect(await s3.getText(BUCKET, latestKey(PREFIX, db))).toBe(latestBefore);
  });
});

describe('stores that do not enforce conditional writes', () => {
  let db: string;
  beforeAll(async () => {
    db = await createDatabase(17, 'store');
    await sql(17, db, 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100)');
  });

  it('one that refuses them (501): the backup fails naming the store, nothing is written', async () => {
    await backupDatabase(options(db));
    const keysBefore = await s3.keys(BUCKET, `${PREFIX}/${db}/`);
    const latestBefore = await s3.getText(BUCKET, latestKey(PREFIX, db));
    s3.setConditionalWrites('refuse');
    const error = await failureOf(backupDatabase(options(db)));
    expect(error.message).toMatch(
      new RegExp(
        `^backup of ${db} failed; latest\\.json was not moved: to: the S3 store at ${s3.endpoint.replace(/\./g, '\\.')} refused the conditional write of s3://${BUCKET}/\\S+\\.dump \\(it answered 501 NotImplemented to If-None-Match: \\*\\); pgferry writes backups only with S3 conditional writes`,
      ),
    );
    expect(await s3.keys(BUCKET, `${PREFIX}/${db}/`)).toEqual(keysBefore);
    expect(await s3.getText(BUCKET, latestKey(PREFIX, db))).toBe(latestBefore);
  });

  it('one that ignores them: backups succeed, and an older one still never replaces a newer pointer', async () => {
    s3.setConditionalWrites('ignore');
    const newer = await backupDatabase(options(db, { now: at('2030-01-02T04:00:00Z') }));
    const older = await backupDatabase(options(db, { now: at('2030-01-02T03:00:00Z') }));
    expect(older.latest.moved).toBe(false);
    expect((await pointerOf(db))?.key).toBe(newer.manifest.key);
  });

  it('a role without s3:ListBucket (403 for a missing key): the first pointer is created, the next moved', async () => {
    const fresh = await createDatabase(17, 'nolist');
    await sql(17, fresh, 'CREATE TABLE t (id int)');
    s3.setMissingKeys('access-denied');
    const first = await backupDatabase(options(fresh));
    const second = await backupDatabase(options(fresh));
    expect([first.latest.moved, second.latest.moved]).toEqual([true, true]);
    expect((await pointerOf(fresh))?.key).toBe(second.manifest.key);
    const moves = writesTo(latestKey(PREFIX, fresh));
    expect(moves.map((w) => [w.ifNoneMatch ?? w.ifMatch?.replace(/.+/, 'etag'), w.status])).toEqual([
      ['*', 200],
      ['etag', 200],
    ]);
  });

  it('a latest.json that is not a pointer is replaced by the next verified backup, with a warning', async () => {
    await s3
      .client()
      .send(new PutObjectCommand({ Bucket: BUCKET, Key: latestKey(PREFIX, db), Body: 'garbage' }));
    const log = new RecordingLogger();
    const result = await backupDatabase(options(db, { log, catalog: catalog(log) }));
    expect((await pointerOf(db))?.key).toBe(result.manifest.key);
    expect(log.warnings.join('\n')).toContain(
      `s3://${BUCKET}/${latestKey(PREFIX, db)} is not a pgferry latest pointer; replacing it`,
    );
  });
});
