import { RecordingLogger } from '../../core/log.js';
import { backupDatabase } from '../../core/jobs/backup.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { parseConnection } from '../../core/pg/connection.js';
import { catalog } from '../harness/engine.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';
import type { ServerMajor } from '../harness/paths.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { backupOptionsFor, s3Bucket, s3Env } from '../harness/s3-engine.js';

const BUCKET = 'pgferry-stats';
let s3: S3TestServer;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
});
afterAll(async () => s3?.close());

async function restoreLatest(prefix: string, db: string, major: ServerMajor) {
  const log = new RecordingLogger();
  const target = uniqueName('dst');
  const result = await restoreFromS3({
    bucket: s3Bucket(s3, BUCKET),
    key: `${prefix}/${db}/`,
    to: parseConnection(connUrl(major, target), 'to', {}),
    jobs: 1,
    postgresVersion: { kind: 'auto' },
    allowDowngrade: true,
    catalog: catalog(log),
    log,
  });
  return { target, result, log };
}

/** The planner's most-common values of a column, and whether anything analyzed the table. */
async function planner(major: ServerMajor, db: string) {
  const stats = await sql(
    major,
    db,
    `SELECT most_common_vals::text AS vals FROM pg_stats
     WHERE schemaname = 'public' AND tablename = 'events' AND attname = 'kind'`,
  );
  const [seen] = await sql<{ analyzed: boolean }>(
    major,
    db,
    `SELECT (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL) AS analyzed
     FROM pg_stat_user_tables WHERE relid = 'public.events'::regclass`,
  );
  return { stats, analyzed: seen?.analyzed };
}

describe('a backup of server 18 carries its planner statistics by default', () => {
  let db: string;
  beforeAll(async () => {
    db = await createDatabase(18, 'bkstats');
    // Autovacuum off (carried by the dump): only the dump's statistics can reach a restored copy.
    await sql(
      18,
      db,
      `CREATE TABLE public.events (id int PRIMARY KEY, kind text) WITH (autovacuum_enabled = false);
       INSERT INTO public.events SELECT g, 'k' || (g % 5) FROM generate_series(1, 4000) g;
       ANALYZE public.events;`,
    );
  });

  it('restored from S3 into 18: pg_stats as the source has it, nothing analyzed', async () => {
    const backup = await backupDatabase(
      backupOptionsFor(s3, BUCKET, 'on', db, { from: parseConnection(connUrl(18, db), 'from', {}) }),
    );
    expect(backup.client.version.major).toBe(18);
    const { target, result } = await restoreLatest('on', db, 18);
    expect(result.filtered).toEqual([]);
    const want = await planner(18, db);
    expect(want.stats).toHaveLength(1);
    expect(await planner(18, target)).toEqual({ stats: want.stats, analyzed: false });
  });

  it('the same backup restored into 17 succeeds without them and says so', async () => {
    const { target, result, log } = await restoreLatest('on', db, 17);
    expect(result.filtered).toEqual([expect.stringMatching(/^statistics \(/)]);
    expect(log.warnings.join('\n')).toContain('filtered from the script for PostgreSQL 17: statistics');
    expect(await planner(17, target)).toEqual({ stats: [], analyzed: false });
    const [n] = await sql<{ n: string }>(17, target, 'SELECT count(*) AS n FROM public.events');
    expect(n?.n).toBe('4000');
  });

  it('statistics: false leaves them out of the backup', async () => {
    await backupDatabase(
      backupOptionsFor(s3, BUCKET, 'off', db, {
        from: parseConnection(connUrl(18, db), 'from', {}),
        statistics: false,
      }),
    );
    const { target } = await restoreLatest('off', db, 18);
    expect(await planner(18, target)).toEqual({ stats: [], analyzed: false });
  });
});
