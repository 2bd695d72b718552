import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { backupDatabase, type BackupResult } from '../../core/jobs/backup.js';
import { copyDatabase } from '../../core/jobs/copy.js';
import { dumpToPath } from '../../core/jobs/dump.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { seedDatabase } from '../../core/jobs/seed.js';
import { toolPath, type ClientTools } from '../../core/pg/clients/tools.js';
import { connectionEnv, parseConnection } from '../../core/pg/connection.js';
import { runTool } from '../../core/pg/run.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { databaseProps, scratchesOf, type DatabaseProps } from '../harness/database-state.js';
import { catalog, scratchDir } from '../harness/engine.js';
import { buildRegressionDatabase, REGRESS_DIR } from '../harness/regression-db.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Bucket, s3Env } from '../harness/s3-engine.js';
import { conn, connUrl, sql, uniqueName } from '../harness/testbed.js';

/**
 * PostgreSQL's own regression database through every restore path, each compared with a raw
 * `pg_dump -Fc | pg_restore` of the same source: no difference the raw tools do not have. Opt-in
 * (`PG_REGRESS_DIR=<src/test/regress>`): the regression SQL is not ours to ship.
 */
const suite = REGRESS_DIR ? describe : describe.skip;
const scratch = scratchDir();
const BUCKET = 'pgferry-regress';
let s3: S3TestServer | undefined;

afterAll(async () => {
  scratch.cleanup();
  await s3?.close();
});

suite.each([17, 18] as const)('the regression database on %i', (major) => {
  let tools: ClientTools;
  /**
   * The schema dumps are compared with pg_dump 18, which orders objects of equal sort keys (two
   * publications' schemas, default privileges of two roles) by name; 17 orders them by oid, so a
   * parallel restore, which creates them in another order, would differ from the raw one by order alone.
   */
  let compare: ClientTools;
  let source: string;
  /** The source's own properties, with a comment and a grant beside pg_regress's settings. */
  let sourceProps: DatabaseProps | undefined;
  /** The source as the raw tools dumped it, restored from by every raw baseline. */
  let rawFile: string;
  /** The raw tools' result: the restored state, or the first error they stop at. */
  let raw: Raw;
  const log = new RecordingLogger();

  const stateOf = async (db: string): Promise<[string, Record<string, string>]> => [
    await schemaOf(compare, major, db),
    await rowHashes(major, db),
  ];
  const to = (db: string) => parseConnection(connUrl(major, db), 'to', {});
  const from = () => parseConnection(connUrl(major, source), 'from', {});
  const common = () => ({ postgresVersion: { kind: 'auto' as const }, catalog: catalog(log), log });

  /** pg_restore of the raw dump into a new database, with `args` beside the careful user's own. */
  async function rawRestore(args: string[]): Promise<Raw> {
    const target = uniqueName('regress_raw');
    await sql(major, 'postgres', `CREATE DATABASE ${target} TEMPLATE template0`);
    // As careful users run them: stop at the first error, all in one transaction.
    return runTool({
      file: toolPath(tools, 'pg_restore'),
      args: ['--exit-on-error', '--single-transaction', ...args, '--dbname', target, rawFile],
      env: connectionEnv(conn(major, 'postgres')),
    }).then(
      async () => ({ state: await stateOf(target) }),
      (error: Error) => ({ error: /ERROR: .*/.exec(error.message)?.[0] ?? error.message }),
    );
  }

  beforeAll(async () => {
    tools = await catalog().provide({ major });
    compare = await catalog().provide({ major: 18 });
    source = uniqueName('regression');
    await buildRegressionDatabase(tools, major, source, REGRESS_DIR ?? '');
    // Database-level properties of every kind pgferry carries: pg_regress's settings, a comment, a grant.
    const reader = uniqueName('regress_pgferry_reader');
    await sql(
      major,
      'postgres',
      `CREATE ROLE ${reader}; COMMENT ON DATABASE ${source} IS 'the regression database, through pgferry';
       GRANT CONNECT, TEMPORARY ON DATABASE ${source} TO ${reader}`,
    );
    sourceProps = await databaseProps(major, source);
    if (!s3) {
      s3 = await startS3();
      await s3.createBucket(BUCKET);
      Object.assign(process.env, s3Env(s3));
    }
    // The baseline: the raw tools, as a user would run them by hand.
    rawFile = path.join(scratch.dir, `${source}-raw.dump`);
    await runTool({
      file: toolPath(tools, 'pg_dump'),
      args: ['-Fc', '-f', rawFile],
      env: connectionEnv(conn(major, source)),
    });
    raw = await rawRestore([]);
  }, 1_800_000);

  /** Where the raw tools succeed, the same state; where they stop, pgferry stops at the same error. */
  async function likeRaw<T>(
    restore: () => Promise<T>,
    target: string,
    baseline: Raw = raw,
  ): Promise<T | undefined> {
    if ('error' in baseline) {
      const error = await restore().then(
        () => new Error('pgferry succeeded where the raw tools failed'),
        (e: Error) => e,
      );
      expect(error.message).toContain(baseline.error);
      return undefined;
    }
    const result = await restore();
    expect(await stateOf(target)).toEqual(baseline.state);
    return result;
  }

  /** The source's settings, comment and grants on `target` (raw pg_restore carries them only with --create). */
  async function expectSourceProps(target: string): Promise<void> {
    expect(sourceProps?.settings?.length).toBeGreaterThan(0);
    expect(await databaseProps(major, target)).toEqual(sourceProps);
  }

  const dumps = new Map<string, Promise<string>>();
  /** pgferry's dump of the source in `format`, made once and shared by the tests that restore it. */
  function dumped(format: 'custom' | 'directory' | 'plain'): Promise<string> {
    const file = path.join(scratch.dir, `${source}.${format}`);
    const made =
      dumps.get(format) ??
      dumpToPath({
        from: from(),
        to: file,
        format,
        compress: 'auto',
        jobs: format === 'directory' ? 2 : 1,
        ...common(),
      }).then(() => file);
    dumps.set(format, made);
    return made;
  }

  let backup: Promise<BackupResult> | undefined;
  /** One backup of the source to S3 (the way the scheduled job makes them), shared by the S3 tests. */
  function backedUp(): Promise<BackupResult> {
    backup ??= backupDatabase({
      from: from(),
      bucket: s3Bucket(s3 as S3TestServer, BUCKET),
      prefix: `r${major}`,
      verify: 'list',
      compress: 'auto',
      ...common(),
    });
    return backup;
  }

  it.each([
    ['a custom file, one job', 'custom', 1],
    ['a directory archive, two jobs', 'directory', 2],
    ['a plain dump', 'plain', 1],
  ] as const)('restores %s like the raw tools', async (_name, format, jobs) => {
    const target = uniqueName('regress_file');
    const file = await dumped(format);
    const result = await likeRaw(
      () => restoreFromPath({ from: file, to: to(target), jobs, ...common() }),
      target,
    );
    if (!result) return;
    expect(result.jobs).toBe(jobs);
    // A plain dump carries no database-level entries (pgferry makes them without --create).
    if (format !== 'plain') await expectSourceProps(target);
  });

  it.each([1, 'auto'] as const)('restores a backup from S3 (jobs %s) like the raw tools', async (jobs) => {
    const bucket = s3Bucket(s3 as S3TestServer, BUCKET);
    const { manifest } = await backedUp();
    const target = uniqueName('regress_s3');
    const result = await likeRaw(
      () =>
        restoreFromS3({
          bucket,
          key: manifest.key,
          to: to(target),
          jobs,
          ...common(),
        }),
      target,
    );
    if (result) await expectSourceProps(target);
  });

  describe('clean over an earlier copy, by swap', () => {
    /** One target, replaced by each test in turn: each finds the copy the one before left. */
    let target: string | undefined;

    /**
     * The target as an earlier copy of the source, changed since: rows edited, its comment and a
     * setting changed. Only a replacement brings it back to the source's state.
     */
    async function earlierCopy(): Promise<string | undefined> {
      if (target === undefined) {
        const first = uniqueName('regress_clean');
        const file = await dumped('custom');
        // Where the raw tools cannot make the first copy, neither may pgferry.
        if ('error' in raw) {
          await likeRaw(() => restoreFromPath({ from: file, to: to(first), jobs: 1, ...common() }), first);
          return undefined;
        }
        await restoreFromPath({ from: file, to: to(first), jobs: 1, ...common() });
        target = first;
      }
      await sql(
        major,
        target,
        `UPDATE public.onek SET stringu1 = 'changed since' WHERE unique1 < 10;
         COMMENT ON DATABASE ${target} IS 'an earlier copy';
         ALTER DATABASE ${target} SET bytea_output TO 'escape'`,
      );
      expect(await databaseProps(major, target)).not.toEqual(sourceProps);
      return target;
    }

    async function expectReplaced(db: string, result: { swapped?: boolean } | undefined): Promise<void> {
      if (!result) return;
      // An earlier copy of the same database holds nothing the archive lacks: no fallback to in place.
      expect(result.swapped).toBe(true);
      expect(await scratchesOf(major, db)).toEqual([]);
    }

    it('restores a custom file (one job) like the raw tools', async () => {
      const db = await earlierCopy();
      if (db === undefined) return;
      const file = await dumped('custom');
      const result = await likeRaw(
        () => restoreFromPath({ from: file, to: to(db), jobs: 1, clean: true, confirm: db, ...common() }),
        db,
      );
      await expectReplaced(db, result);
      await expectSourceProps(db);
    });

    it('restores a directory archive with two jobs like the raw tools', async () => {
      const db = await earlierCopy();
      if (db === undefined) return;
      const file = await dumped('directory');
      const result = await likeRaw(
        () => restoreFromPath({ from: file, to: to(db), jobs: 2, clean: true, confirm: db, ...common() }),
        db,
      );
      await expectReplaced(db, result);
      expect(result?.jobs).toBe(2);
      await expectSourceProps(db);
    });

    it('copies the source like the raw tools', async () => {
      const db = await earlierCopy();
      if (db === undefined) return;
      const result = await likeRaw(
        () => copyDatabase({ from: from(), to: to(db), jobs: 2, clean: true, confirm: db, ...common() }),
        db,
      );
      await expectReplaced(db, result);
      await expectSourceProps(db);
    });

    it('seeds it from the latest backup on S3 like the raw tools without owners and grants', async () => {
      const db = await earlierCopy();
      if (db === undefined) return;
      const before = await databaseProps(major, db);
      const bucket = s3Bucket(s3 as S3TestServer, BUCKET);
      await backedUp();
      // A seed restores without owners and grants (production's roles are staging's business).
      const baseline = await rawRestore(['--no-owner', '--no-privileges']);
      const result = await likeRaw(
        async () =>
          (
            await seedDatabase({
              source: from(),
              to: to(db),
              bucket,
              prefix: `r${major}`,
              database: source,
              confirm: db,
              sanitizeSql: [],
              jobs: 'auto',
              ...common(),
            })
          ).restore,
        db,
        baseline,
      );
      await expectReplaced(db, result);
      // The source's settings and comment; the grants are the ones staging had.
      expect(await databaseProps(major, db)).toEqual({ ...sourceProps, acl: before?.acl });
    });
  });
});

type Raw = { state: [string, Record<string, string>] } | { error: string };
