import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { backupDatabase } from '../../core/jobs/backup.js';
import { dumpToPath } from '../../core/jobs/dump.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { toolPath, type ClientTools } from '../../core/pg/client-tools.js';
import { connectionEnv, parseConnection } from '../../core/pg/connection.js';
import { runTool } from '../../core/pg/run.js';
import { s3Client } from '../../core/storage/s3-client.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { catalog, scratchDir } from '../harness/engine.js';
import { buildRegressionDatabase, REGRESS_DIR } from '../harness/regression-db.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Env, s3Settings } from '../harness/s3-engine.js';
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
  let source: string;
  /** The raw tools' result: the restored state, or the first error they stop at. */
  let raw: { state: [string, Record<string, string>] } | { error: string };
  const log = new RecordingLogger();

  const stateOf = async (db: string): Promise<[string, Record<string, string>]> => [
    await schemaOf(tools, major, db),
    await rowHashes(major, db),
  ];
  const to = (db: string) => parseConnection(connUrl(major, db), 'to', {});
  const common = () => ({ postgresVersion: { kind: 'auto' as const }, catalog: catalog(log), log });

  beforeAll(async () => {
    tools = await catalog().provide({ major });
    source = uniqueName('regression');
    await buildRegressionDatabase(tools, major, source, REGRESS_DIR ?? '');
    if (!s3) {
      s3 = await startS3();
      await s3.createBucket(BUCKET);
      Object.assign(process.env, s3Env(s3));
    }
    // The baseline: the raw tools, as a user would run them by hand.
    const file = path.join(scratch.dir, `${source}-raw.dump`);
    await runTool({
      file: toolPath(tools, 'pg_dump'),
      args: ['-Fc', '-f', file],
      env: connectionEnv(conn(major, source)),
    });
    const target = uniqueName('regress_raw');
    await sql(major, 'postgres', `CREATE DATABASE ${target} TEMPLATE template0`);
    // As careful users run them: stop at the first error, all in one transaction.
    raw = await runTool({
      file: toolPath(tools, 'pg_restore'),
      args: ['--exit-on-error', '--single-transaction', '--dbname', target, file],
      env: connectionEnv(conn(major, 'postgres')),
    }).then(
      async () => ({ state: await stateOf(target) }),
      (error: Error) => ({ error: /ERROR: .*/.exec(error.message)?.[0] ?? error.message }),
    );
  }, 1_800_000);

  /** Where the raw tools succeed, the same state; where they stop, pgferry stops at the same error. */
  async function likeRaw(restore: () => Promise<unknown>, target: string): Promise<void> {
    if ('error' in raw) {
      const error = await restore().then(
        () => new Error('pgferry succeeded where the raw tools failed'),
        (e: Error) => e,
      );
      expect(error.message).toContain(raw.error);
      return;
    }
    await restore();
    expect(await stateOf(target)).toEqual(raw.state);
  }

  async function dumped(format: 'custom' | 'directory' | 'plain'): Promise<string> {
    const file = path.join(scratch.dir, `${source}.${format}`);
    await dumpToPath({
      from: parseConnection(connUrl(major, source), 'from', {}),
      to: file,
      format,
      compress: 'auto',
      jobs: format === 'directory' ? 2 : 1,
      ...common(),
    });
    return file;
  }

  it.each([
    ['a custom file, one job', 'custom', 1],
    ['a directory archive, two jobs', 'directory', 2],
    ['a plain dump', 'plain', 1],
  ] as const)('restores %s like the raw tools', async (_name, format, jobs) => {
    const target = uniqueName('regress_file');
    const file = await dumped(format);
    await likeRaw(() => restoreFromPath({ from: file, to: to(target), jobs, ...common() }), target);
  });

  it.each([1, 'auto'] as const)('restores a backup from S3 (jobs %s) like the raw tools', async (jobs) => {
    const settings = s3Settings(s3 as S3TestServer);
    const backup = await backupDatabase({
      from: parseConnection(connUrl(major, source), 'from', {}),
      s3: s3Client(settings),
      settings,
      bucket: BUCKET,
      prefix: `r${major}`,
      verify: 'list',
      compress: 'auto',
      ...common(),
    });
    const target = uniqueName('regress_s3');
    await likeRaw(
      () =>
        restoreFromS3({
          s3: s3Client(settings),
          settings,
          bucket: BUCKET,
          key: backup.manifest.key,
          to: to(target),
          jobs,
          ...common(),
        }),
      target,
    );
  });

  it('restores clean over an earlier copy like the raw tools', async () => {
    const file = await dumped('custom');
    const target = uniqueName('regress_clean');
    // Where the raw tools cannot make the first copy, neither may pgferry.
    if ('error' in raw)
      return likeRaw(() => restoreFromPath({ from: file, to: to(target), jobs: 1, ...common() }), target);
    await restoreFromPath({ from: file, to: to(target), jobs: 1, ...common() });
    await likeRaw(
      () =>
        restoreFromPath({ from: file, to: to(target), jobs: 1, clean: true, confirm: target, ...common() }),
      target,
    );
  });
});
