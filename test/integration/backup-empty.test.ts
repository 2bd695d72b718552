import { RecordingLogger } from '../../core/log.js';
import { backupDatabase, type BackupOptions } from '../../core/jobs/backup.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { runJob } from '../../core/jobs/run-job.js';
import { parseConnection } from '../../core/pg/connection.js';
import { latestKey } from '../../core/storage/backup-layout.js';
import type { LatestPointer, Manifest } from '../../core/storage/manifest.js';
import { rowHashes } from '../harness/compare.js';
import { catalog, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { connUrl, createDatabase, mirrorUrl, sql, uniqueName } from '../harness/testbed.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Bucket, s3Env } from '../harness/s3-engine.js';
import { parseJobOptions } from '../../core/options.js';

/**
 * An empty database (no table, no object of its own) backs up, verifies and restores. Its archive
 * holds only the header entries a listing never prints, so the old "pg_restore listed 0 entries"
 * check failed every nightly run that included one.
 */
const BUCKET = 'pgferry-empty';
const PREFIX = 'nightly';
let s3: S3TestServer;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
});
afterAll(async () => s3?.close());

function backupOptions(db: string, verify: 'list' | 'restore'): BackupOptions {
  const log = new RecordingLogger();
  return {
    from: parseConnection(connUrl(17, db), 'from', {}),
    bucket: s3Bucket(s3, BUCKET),
    prefix: PREFIX,
    verify,
    compress: 'auto',
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
  };
}

async function userTables(db: string): Promise<number> {
  const rows = await sql<{ n: string }>(
    17,
    db,
    "SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
  );
  return Number(rows[0]?.n);
}

describe('an empty database', () => {
  it.each(['list', 'restore'] as const)(
    'backs up with verify: %s, moves latest.json and restores',
    async (verify) => {
      const db = await createDatabase(17, `empty_${verify}`);
      const result = await backupDatabase(backupOptions(db, verify));
      expect(result.manifest.verification).toMatchObject({ method: verify, result: 'passed' });
      expect(result.manifest.verification.detail).toBeUndefined();
      if (verify === 'list') {
        // Nothing to list, and the listing's own header agrees with the streamed one.
        expect(result.manifest.verification.tocEntries).toBe(0);
        expect(result.manifest.tocEntries).toBeGreaterThan(0);
      } else {
        expect(result.manifest.verification).toMatchObject({ tables: 0, rows: 0 });
      }
      const pointer = JSON.parse((await s3.getText(BUCKET, latestKey(PREFIX, db))) ?? '{}') as LatestPointer;
      expect(pointer).toMatchObject({ key: result.manifest.key, sha256: result.manifest.sha256 });
      expect(result.latest).toEqual({ moved: true, names: result.manifest.key });

      const target = uniqueName(`empty_${verify}_to`);
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
      expect(restored.location).toBe(`s3://${BUCKET}/${result.manifest.key}`);
      expect(await userTables(target)).toBe(0);
      expect(await rowHashes(17, target)).toEqual(await rowHashes(17, db));
    },
  );

  it('does not fail a multi-database backup run: every database gets its verified backup', async () => {
    const empty = await createDatabase(17, 'multi_empty');
    const full = await createDatabase(17, 'multi_full');
    await sql(
      17,
      full,
      'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 500) i',
    );
    const inputs: Record<string, string> = {
      command: 'backup',
      from: `${connUrl(17, full)}\n${connUrl(17, empty)}`,
      to: `s3://${BUCKET}/multi/`,
      verify: 'list',
      'postgres-version': '17',
      mirror: mirrorUrl(),
      's3-endpoint': s3.endpoint,
      's3-region': s3.region,
      's3-force-path-style': 'true',
    };
    const options = parseJobOptions((name) => inputs[name], {});
    const report = await runJob(options, { log: new RecordingLogger(), cacheDir: SHARED_CLIENT_CACHE });
    expect(report.command).toBe('backup');
    const manifests = (report.manifest ?? '').split('\n');
    expect(manifests).toHaveLength(2);
    for (const [db, uri] of [
      [full, manifests[0]],
      [empty, manifests[1]],
    ] as const) {
      const key = (uri ?? '').replace(`s3://${BUCKET}/`, '');
      const manifest = JSON.parse((await s3.getText(BUCKET, key)) ?? '{}') as Manifest;
      expect(manifest).toMatchObject({ database: db, verification: { method: 'list', result: 'passed' } });
      const pointer = JSON.parse((await s3.getText(BUCKET, latestKey('multi', db))) ?? '{}') as LatestPointer;
      expect(pointer.key).toBe(manifest.key);
    }
  });
});
