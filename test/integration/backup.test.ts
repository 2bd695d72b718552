import { GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import { RecordingLogger } from '../../core/log.js';
import { backupDatabase, type BackupOptions } from '../../core/jobs/backup.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { parseConnection } from '../../core/pg/connection.js';
import { latestKey } from '../../core/storage/backup-layout.js';
import { catalog } from '../harness/engine.js';
import { loadDataset } from '../harness/dataset.js';
import { rowHashes } from '../harness/compare.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { backupOptionsFor, s3Bucket, s3Env } from '../harness/s3-engine.js';

const BUCKET = 'pgferry-backups';
const PREFIX = 'nightly';
let s3: S3TestServer;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
});
afterAll(async () => s3?.close());

function backupOptions(db: string, extra: Partial<BackupOptions> = {}): BackupOptions {
  return backupOptionsFor(s3, BUCKET, PREFIX, db, extra);
}

async function restoreLatest(db: string, target: string, jobs: number | 'auto' = 1) {
  const log = new RecordingLogger();
  return restoreFromS3({
    bucket: s3Bucket(s3, BUCKET),
    key: `${PREFIX}/${db}/`,
    to: parseConnection(connUrl(17, target), 'to', {}),
    jobs,
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
  });
}

describe('backup to S3 and restore from it', () => {
  it('writes the dump, its manifest and latest.json, tagged by tier, and restores identically', async () => {
    const db = await createDatabase(17, 'bk');
    await loadDataset(17, db, 300);
    const sunday = new Date('2026-11-22T03:00:00Z');
    const result = await backupDatabase(backupOptions(db, { now: () => sunday }));
    // Millisecond time and eight random hex digits: no other backup of this database has this key.
    const key = result.manifest.key;
    expect(key).toMatch(
      new RegExp(`^${PREFIX}/${db}/2026/11/22/${db}-20261122T030000\\.000Z-[0-9a-f]{8}\\.dump$`),
    );
    expect(result.manifest).toMatchObject({
      schemaVersion: 1,
      database: db,
      key,
      format: 'custom',
      compression: 'zstd:1',
      archiveVersion: '1.16',
      clientVersion: '17.5',
      tier: 'weekly',
      // s3rver's ETag is the object's MD5, also for a multipart upload.
      proof: 'md5-etag',
      verification: { method: 'list', result: 'passed' },
    });
    expect(result.manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(result.manifest.verification.tocEntries).toBeGreaterThan(60);
    expect(result.manifest.verification.tocEntries).toBeLessThanOrEqual(result.manifest.tocEntries ?? 0);
    expect(await s3.keys(BUCKET, `${PREFIX}/${db}/`)).toEqual(
      [key, `${key}.json`, `${PREFIX}/${db}/latest.json`].sort(),
    );
    const latest = JSON.parse((await s3.getText(BUCKET, latestKey(PREFIX, db))) ?? '{}') as Record<
      string,
      unknown
    >;
    expect(latest).toMatchObject({ key, manifest: `${key}.json`, sha256: result.manifest.sha256 });
    // The dump and its manifest expire together under their tier's rule; latest.json never does.
    for (const tagged of [key, `${key}.json`]) {
      const tags = await s3.client().send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: tagged }));
      expect(tags.TagSet).toEqual([{ Key: 'pgferry-tier', Value: 'weekly' }]);
    }
    const pointerTags = await s3
      .client()
      .send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: latestKey(PREFIX, db) }));
    expect(pointerTags.TagSet).toEqual([]);

    for (const jobs of [1, 'auto'] as const) {
      const target = uniqueName('from_s3');
      const restored = await restoreLatest(db, target, jobs);
      expect(restored.location).toBe(`s3://${BUCKET}/${key}`);
      expect(await rowHashes(17, target)).toEqual(await rowHashes(17, db));
    }
  });

  it('tiers: monthly on the 1st, daily otherwise', async () => {
    const db = await createDatabase(17, 'tier');
    await sql(17, db, 'CREATE TABLE t (id int); INSERT INTO t VALUES (1)');
    const first = await backupDatabase(backupOptions(db, { now: () => new Date('2026-12-01T03:00:00Z') }));
    const tuesday = await backupDatabase(backupOptions(db, { now: () => new Date('2026-12-08T03:00:00Z') }));
    expect([first.manifest.tier, tuesday.manifest.tier]).toEqual(['monthly', 'daily']);
    // latest.json follows the newest verified backup, never a listing.
    expect(JSON.parse((await s3.getText(BUCKET, latestKey(PREFIX, db))) ?? '{}').key).toBe(
      tuesday.manifest.key,
    );
  });

  it('records a restore drill: its method and counts from the dump’s own snapshot', async () => {
    const db = await createDatabase(17, 'drill');
    await loadDataset(17, db, 200);
    const result = await backupDatabase(backupOptions(db, { verify: 'restore' }));
    expect(result.manifest.verification).toEqual({
      method: 'restore',
      result: 'passed',
      bytesReadBack: result.manifest.bytes,
      tables: 7,
      rows: expect.any(Number),
    });
    expect(result.manifest.verification.rows).toBeGreaterThan(1000);
    const scratch = await sql<{ n: string }>(
      17,
      'postgres',
      "SELECT count(*) AS n FROM pg_database WHERE datname LIKE 'pgferry_drill_%'",
    );
    expect(scratch).toEqual([{ n: '0' }]);
  });
});
