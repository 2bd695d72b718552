/**
 * What every measurement runs against: the built CLI, one PostgreSQL server, s3rver and the client
 * mirror, the provisioned client tools and the two generated databases; and their cleanup.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { camelFields } from '../../test/harness/cli-json.js';
import { ensureMirrorFixtures } from '../../test/harness/fixtures.js';
import { startMirror, type MirrorServer } from '../../test/harness/mirror.js';
import { REPO_ROOT } from '../../test/harness/paths.js';
import { startS3, type S3TestServer } from '../../test/harness/s3.js';
import { startServers, stopServers, type TestbedState } from '../../test/harness/servers.js';
import { generate, withClient } from './dataset.js';
import { log, MB, mb, median, s } from './format.js';
import { killChildren, run, type RunResult } from './process.js';

const SERVER_MAJOR = 17;
const CLIENT_MAJOR = '17';
export const BUCKET = 'bench';

/** What has been started so far, for the cleanup. */
interface Started {
  state?: TestbedState;
  s3?: S3TestServer;
  mirror?: MirrorServer;
}

/** The servers and the built CLI. */
interface Servers {
  cli: string;
  port: number;
  password: string;
  s3: S3TestServer;
  mirror: MirrorServer;
  serverVersion: string;
  dbUrl: (db: string) => string;
}

/** Client provisioning, cold (a fresh cache each time) and warm (the same cache again). */
export interface Provisioning {
  cold: number[];
  warm: number[];
  cacheDir: string;
  install: { binDir: string; clientVersion: string };
}

/** Everything a measurement needs. */
export interface Bench extends Servers {
  runs: number;
  /** A path in the run's scratch directory. */
  file: (name: string) => string;
  /** Runs one statement on the `postgres` database. */
  admin: (sql: string) => Promise<void>;
  /** Runs the built CLI with the bench's cache, S3 credentials and mirror (and `env`); its RSS is sampled. */
  ferry: (argv: string[], env?: NodeJS.ProcessEnv) => Promise<RunResult>;
  s3Args: string[];
  pgDump: string;
  pgRestore: string;
  /** libpq's environment for the raw client tools. */
  pgEnv: NodeJS.ProcessEnv;
  clientVersion: string;
}

/**
 * Makes a scratch directory and a cleanup that stops whatever `started` holds by then (once: at
 * the end, on failure, or on SIGINT/SIGTERM, which then exits 130).
 */
export function scratchWithCleanup(tmp: string) {
  const work = mkdtempSync(path.join(tmp, 'pgferry-bench-'));
  const started: Started = {};
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      killChildren();
      await started.mirror?.close().catch(() => {});
      await started.s3?.close().catch(() => {});
      if (started.state) {
        await stopServers(started.state).catch(() => {});
        rmSync(started.state.stateFile, { force: true });
      }
      rmSync(work, { recursive: true, force: true });
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const finish = async (): Promise<void> => {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  return { work, started, finish };
}

export async function startServersAndCli(started: Started): Promise<Servers> {
  log('building the CLI (npm run build:cli)');
  await run(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build-cli.mjs')]);
  log(`starting PostgreSQL ${SERVER_MAJOR}, s3rver and the client mirror`);
  const [state, s3, mirror] = await Promise.all([
    startServers([SERVER_MAJOR]).then((x) => (started.state = x)),
    startS3().then((x) => (started.s3 = x)),
    startMirror(ensureMirrorFixtures()).then((x) => (started.mirror = x)),
  ]);
  // The shared state file lets any `cleanLeftovers()` that cannot see this process (another PID
  // namespace sharing the checkout) stop these servers mid-run; this run cleans up after itself.
  rmSync(state.stateFile, { force: true });
  const server = state.servers[0];
  if (!server) throw new Error('no server started');
  const password = state.password;
  const dbUrl = (db: string): string =>
    `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${server.port}/${db}`;
  await s3.createBucket(BUCKET);
  const serverVersion = await withClient(dbUrl('postgres'), async (c) =>
    String((await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v),
  );
  const cli = path.join(REPO_ROOT, 'dist', 'pgferry.mjs');
  return { cli, port: server.port, password, s3, mirror, serverVersion, dbUrl };
}

export async function measureProvisioning(
  servers: Servers,
  work: string,
  runs: number,
): Promise<Provisioning> {
  const cold: number[] = [];
  const warm: number[] = [];
  let cacheDir = '';
  let install: Provisioning['install'] | undefined;
  const installArgs = [servers.cli, 'install', '--postgres-version', CLIENT_MAJOR];
  const runInstall = (): Promise<RunResult> =>
    run(process.execPath, [...installArgs, '--mirror', servers.mirror.url, '--json'], {
      env: { PGFERRY_CACHE_DIR: cacheDir },
    });
  for (let i = 0; i < runs; i++) {
    cacheDir = mkdtempSync(path.join(work, 'cache-'));
    const r = await runInstall();
    cold.push(r.seconds);
    install = camelFields(r.stdout) as Provisioning['install'];
  }
  for (let i = 0; i < runs; i++) warm.push((await runInstall()).seconds);
  if (!install) throw new Error('install reported nothing');
  log(
    `client ${install.clientVersion} at ${install.binDir}: cold ${s(median(cold))}, warm ${s(median(warm))}`,
  );
  return { cold, warm, cacheDir, install };
}

/** The tools and shorthands every measurement uses, on the provisioned client. */
export function benchOn(servers: Servers, work: string, runs: number, provisioning: Provisioning): Bench {
  const { s3, mirror, cli, dbUrl } = servers;
  const { binDir, clientVersion } = provisioning.install;
  const ferryEnv: NodeJS.ProcessEnv = {
    PGFERRY_CACHE_DIR: provisioning.cacheDir,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
  };
  return {
    ...servers,
    runs,
    file: (name) => path.join(work, name),
    admin: async (sql) => void (await withClient(dbUrl('postgres'), (c) => c.query(sql))),
    ferry: (argv, env = {}) =>
      run(process.execPath, [cli, ...argv, '--mirror', mirror.url], {
        env: { ...ferryEnv, ...env },
        trackRss: true,
      }),
    s3Args: ['--s3-endpoint', s3.endpoint, '--s3-region', s3.region, '--s3-force-path-style', 'true'],
    pgDump: path.join(binDir, 'pg_dump'),
    pgRestore: path.join(binDir, 'pg_restore'),
    pgEnv: {
      PGPASSWORD: servers.password,
      PGHOST: '127.0.0.1',
      PGPORT: String(servers.port),
      PGUSER: 'postgres',
    },
    clientVersion,
  };
}

export type GeneratedDatabase = Awaited<ReturnType<typeof generate>>;

/** The databases: the chosen size (bench_big), and a tenth of it (bench_small) for the RSS comparison. */
export async function generateDatabases(bench: Bench, sizeBytes: number) {
  const smallBytes = Math.max(MB, Math.round(sizeBytes / 10));
  log(`generating ${mb(sizeBytes)} (bench_big) and ${mb(smallBytes)} (bench_small)`);
  const genStart = Date.now();
  const big = await generate(bench.dbUrl('postgres'), bench.dbUrl, 'bench_big', sizeBytes);
  const small = await generate(bench.dbUrl('postgres'), bench.dbUrl, 'bench_small', smallBytes);
  log(
    `generated ${big.rows} rows, ${mb(big.bytes)}; ${small.rows} rows, ${mb(small.bytes)} in ${((Date.now() - genStart) / 1000).toFixed(0)} s`,
  );
  return { big, small };
}
