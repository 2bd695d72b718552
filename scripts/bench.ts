/**
 * `npm run bench`: pgferry against the raw client tools on one generated database, in one run.
 * Prints a table of ratios (each against its baseline measured in the same run) and writes JSON.
 * It reports; it never asserts a timing. See docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ensureMirrorFixtures } from '../test/harness/fixtures.js';
import { startMirror, type MirrorServer } from '../test/harness/mirror.js';
import { REPO_ROOT } from '../test/harness/paths.js';
import { camelFields } from '../test/harness/cli-json.js';
import { startS3, type S3TestServer } from '../test/harness/s3.js';
import { startServers, stopServers, type TestbedState } from '../test/harness/servers.js';

const USAGE = `usage: npm run bench -- [--size <n>[KB|MB|GB]] [--runs <n>] [--json <path>]

  --size   size of the generated database (default 1GB); RSS is also measured at a tenth of it
  --runs   timed runs per measurement; medians are reported (default 3)
  --json   where to write the results (default .cache/bench/results.json)
  --help   this text`;

const MB = 1024 * 1024;
const SERVER_MAJOR = 17;
const CLIENT_MAJOR = '17';
const BUCKET = 'bench';

interface Args {
  sizeBytes: number;
  sizeLabel: string;
  runs: number;
  json: string;
}

class UsageError extends Error {}

export function parseSize(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|K|MB|M|GB|G)?$/i.exec(raw.trim());
  if (!m) throw new UsageError(`--size: expected e.g. 1GB or 50MB, got "${raw}"`);
  const unit = (m[2] ?? 'B').toUpperCase();
  const factor = unit.startsWith('G')
    ? 1024 * MB
    : unit.startsWith('M')
      ? MB
      : unit.startsWith('K')
        ? 1024
        : 1;
  const bytes = Math.round(Number(m[1]) * factor);
  if (bytes < MB) throw new UsageError(`--size: at least 1MB, got "${raw}"`);
  return bytes;
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const args: Args = {
    sizeBytes: 1024 * MB,
    sizeLabel: '1GB',
    runs: 3,
    json: path.join(REPO_ROOT, '.cache', 'bench', 'results.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return 'help';
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!['--size', '--runs', '--json'].includes(name)) throw new UsageError(`unknown argument "${arg}"`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
    if (name === '--size') {
      args.sizeBytes = parseSize(value);
      args.sizeLabel = value;
    } else if (name === '--runs') {
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 50)
        throw new UsageError(`--runs: expected a whole number from 1 to 50, got "${value}"`);
      args.runs = Number(value);
    } else args.json = path.resolve(value);
  }
  return args;
}

// ---------------------------------------------------------------- processes

interface RunResult {
  seconds: number;
  stdout: string;
  /** The last 8000 characters of its stderr (pgferry's log). */
  stderr: string;
  /** Peak resident set (VmHWM) of the process itself, in bytes, sampled from /proc. */
  peakRss?: number;
}

function readHwm(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const children = new Set<ReturnType<typeof spawn>>();

/** Runs a command to completion; rejects with its stderr when it fails. */
function run(
  cmd: string,
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; trackRss?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, argv, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    let peak: number | undefined;
    const sample = (): void => {
      const hwm = child.pid === undefined ? undefined : readHwm(child.pid);
      if (hwm !== undefined) peak = Math.max(peak ?? 0, hwm);
    };
    // VmHWM only grows, so the last sample before exit is (within one interval) the peak.
    const timer = options.trackRss ? setInterval(sample, 25) : undefined;
    child.on('error', (error) => {
      if (timer) clearInterval(timer);
      children.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      children.delete(child);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve({ seconds, stdout, stderr, peakRss: peak });
      else
        reject(
          new Error(`${path.basename(cmd)} ${argv.join(' ')} failed (${code ?? signal}):\n${stderr.trim()}`),
        );
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---------------------------------------------------------------- data

const TABLES = ['accounts', 'orders', 'events', 'audit_log'] as const;

/**
 * One shape for every table: ids, timestamps, amounts, a few repeated labels, an e-mail address,
 * free text (half md5 hex, half repeated words) and a jsonb document. It compresses like
 * application data usually does: neither all random nor all zeros.
 */
function createTableSql(table: string): string {
  return `CREATE TABLE ${table} (
    id bigint PRIMARY KEY,
    account_id integer NOT NULL,
    created_at timestamptz NOT NULL,
    amount numeric(12, 2) NOT NULL,
    status text NOT NULL,
    email text NOT NULL,
    note text NOT NULL,
    payload jsonb NOT NULL
  )`;
}

function insertSql(table: string, from: number, to: number): string {
  return `INSERT INTO ${table}
    SELECT g,
      (g::bigint * 7919) % 100000,
      timestamptz '2024-01-01' + g * interval '17 seconds',
      round((random() * 10000)::numeric, 2),
      (ARRAY['new', 'paid', 'shipped', 'refunded', 'cancelled'])[1 + g % 5],
      'user' || ((g::bigint * 31) % 250000) || '@example.' || (ARRAY['com', 'org', 'net'])[1 + g % 3],
      md5(random()::text) || ' ' || repeat((ARRAY['lorem ', 'ipsum ', 'dolor ', 'sit ', 'amet '])[1 + g % 5], 1 + g % 6),
      jsonb_build_object(
        'ip', '10.' || (g % 256) || '.' || ((g / 256) % 256) || '.' || (random() * 255)::int,
        'agent', (ARRAY['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (Macintosh)', 'curl/8.5.0', 'okhttp/4.12'])[1 + g % 4],
        'items', (random() * 20)::int,
        'tags', jsonb_build_array('t' || g % 13, 't' || g % 7),
        'score', random())
    FROM generate_series(${from}, ${to - 1}) AS g`;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', (error) => log(`connection error: ${error.message}`)); // the query rejects too
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function databaseSize(url: string): Promise<number> {
  return withClient(url, async (c) =>
    Number((await c.query<{ s: string }>('SELECT pg_database_size(current_database()) AS s')).rows[0]?.s),
  );
}

/** Fills `db` until it holds about `target` bytes; two loaders (one per core) share the tables. */
async function generate(adminUrl: string, dbUrl: (db: string) => string, db: string, target: number) {
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${db}`));
  const url = dbUrl(db);
  await withClient(url, async (c) => {
    for (const t of TABLES) await c.query(createTableSql(t));
  });
  const empty = await databaseSize(url);
  // A sample tells the bytes per row; the rest is loaded in batches, re-measuring as it goes.
  const sampleRows = Math.max(1000, Math.min(20_000, Math.round(target / 4000)));
  await withClient(url, (c) => c.query(insertSql(TABLES[0], 0, sampleRows)));
  const next = new Map<string, number>(TABLES.map((t) => [t, 0]));
  next.set(TABLES[0], sampleRows);
  const bytesPerRow = Math.max(50, ((await databaseSize(url)) - empty) / sampleRows) * 1.3; // + indexes
  const rowsWanted = Math.max(sampleRows, Math.round((target - empty) / bytesPerRow));
  const batch = Math.max(10_000, Math.min(500_000, Math.round(rowsWanted / 16)));
  let loaded = sampleRows;
  let turn = 0;
  const loader = async (): Promise<void> => {
    await withClient(url, async (c) => {
      while (loaded < rowsWanted) {
        const table = TABLES[turn++ % TABLES.length] ?? TABLES[0];
        const from = next.get(table) ?? 0;
        const n = Math.min(batch, rowsWanted - loaded);
        next.set(table, from + n);
        loaded += n;
        await c.query(insertSql(table, from, from + n));
      }
    });
  };
  await Promise.all([loader(), loader()]);
  await Promise.all(
    TABLES.map((t) =>
      withClient(url, async (c) => {
        await c.query(`CREATE INDEX ON ${t} (account_id, created_at)`);
        await c.query(`CREATE INDEX ON ${t} (status)`);
        await c.query(`VACUUM ANALYZE ${t}`);
      }),
    ),
  );
  // Indexes and page fill are only estimated above: top up until the database reaches the target.
  for (let round = 0; round < 4; round++) {
    const size = await databaseSize(url);
    if (size >= target) break;
    const perRow = (size - empty) / loaded;
    const more = Math.max(1000, Math.ceil(((target - size) / perRow) * 1.05));
    const per = Math.ceil(more / TABLES.length);
    await Promise.all(
      TABLES.map((t) =>
        withClient(url, async (c) => {
          const from = next.get(t) ?? 0;
          next.set(t, from + per);
          await c.query(insertSql(t, from, from + per));
          await c.query(`VACUUM ANALYZE ${t}`);
        }),
      ),
    );
    loaded += per * TABLES.length;
  }
  await withClient(url, (c) => c.query('CHECKPOINT'));
  return { rows: loaded, bytes: await databaseSize(url) };
}

// ---------------------------------------------------------------- report

interface Row {
  measure: string;
  value: string;
  target: string;
  status: 'met' | 'missed' | '—';
}

function table(rows: readonly Row[]): string {
  const head: Row = { measure: 'measure', value: 'value', target: 'target', status: '—' };
  const cols = ['measure', 'value', 'target', 'status'] as const;
  const cell = (r: Row, c: (typeof cols)[number]): string => (r === head && c === 'status' ? 'status' : r[c]);
  const widths = cols.map((c) => Math.max(...[head, ...rows].map((r) => cell(r, c).length)));
  const line = (r: Row): string => `| ${cols.map((c, i) => cell(r, c).padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

const x = (n: number): string => `${n.toFixed(3)}×`;
const pct = (n: number): string => `${(n * 100).toFixed(1)}%`;
const mb = (n: number): string => `${(n / MB).toFixed(1)} MB`;
const s = (n: number): string => `${n.toFixed(2)} s`;
const verdict = (ok: boolean): Row['status'] => (ok ? 'met' : 'missed');

// ---------------------------------------------------------------- main

async function main(args: Args): Promise<void> {
  const wallStart = Date.now();
  const work = mkdtempSync(path.join(os.tmpdir(), 'pgferry-bench-'));
  let state: TestbedState | undefined;
  let s3: S3TestServer | undefined;
  let mirror: MirrorServer | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const child of children) child.kill('SIGKILL');
      await mirror?.close().catch(() => {});
      await s3?.close().catch(() => {});
      if (state) {
        await stopServers(state).catch(() => {});
        rmSync(state.stateFile, { force: true });
      }
      rmSync(work, { recursive: true, force: true });
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    log('building the CLI (npm run build:cli)');
    await run(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build-cli.mjs')]);
    const cli = path.join(REPO_ROOT, 'dist', 'pgferry.mjs');

    log(`starting PostgreSQL ${SERVER_MAJOR}, s3rver and the client mirror`);
    [state, s3, mirror] = await Promise.all([
      startServers([SERVER_MAJOR]),
      startS3(),
      startMirror(ensureMirrorFixtures()),
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

    // -- provisioning: cold (a fresh cache each time) and warm (the same cache again)
    const cold: number[] = [];
    const warm: number[] = [];
    let cacheDir = '';
    let install: { binDir: string; clientVersion: string } | undefined;
    const installArgs = (): string[] => [
      cli,
      'install',
      '--postgres-version',
      CLIENT_MAJOR,
      '--mirror',
      mirror?.url ?? '',
      '--json',
    ];
    for (let i = 0; i < args.runs; i++) {
      cacheDir = mkdtempSync(path.join(work, 'cache-'));
      const r = await run(process.execPath, installArgs(), { env: { PGFERRY_CACHE_DIR: cacheDir } });
      cold.push(r.seconds);
      install = camelFields(r.stdout) as { binDir: string; clientVersion: string };
    }
    for (let i = 0; i < args.runs; i++)
      warm.push(
        (await run(process.execPath, installArgs(), { env: { PGFERRY_CACHE_DIR: cacheDir } })).seconds,
      );
    if (!install) throw new Error('install reported nothing');
    const pgDump = path.join(install.binDir, 'pg_dump');
    const pgRestore = path.join(install.binDir, 'pg_restore');
    log(
      `client ${install.clientVersion} at ${install.binDir}: cold ${s(median(cold))}, warm ${s(median(warm))}`,
    );

    const pgEnv: NodeJS.ProcessEnv = {
      PGPASSWORD: password,
      PGHOST: '127.0.0.1',
      PGPORT: String(server.port),
      PGUSER: 'postgres',
    };
    const ferryEnv: NodeJS.ProcessEnv = {
      PGFERRY_CACHE_DIR: cacheDir,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region,
    };
    const ferry = (argv: string[]): Promise<RunResult> =>
      run(process.execPath, [cli, ...argv, '--mirror', mirror?.url ?? ''], { env: ferryEnv, trackRss: true });
    const s3Args = ['--s3-endpoint', s3.endpoint, '--s3-region', s3.region, '--s3-force-path-style', 'true'];

    // -- the databases: the chosen size, and a tenth of it for the RSS comparison
    const smallBytes = Math.max(MB, Math.round(args.sizeBytes / 10));
    log(`generating ${mb(args.sizeBytes)} (bench_big) and ${mb(smallBytes)} (bench_small)`);
    const genStart = Date.now();
    const big = await generate(dbUrl('postgres'), dbUrl, 'bench_big', args.sizeBytes);
    const small = await generate(dbUrl('postgres'), dbUrl, 'bench_small', smallBytes);
    log(
      `generated ${big.rows} rows, ${mb(big.bytes)}; ${small.rows} rows, ${mb(small.bytes)} in ${((Date.now() - genStart) / 1000).toFixed(0)} s`,
    );

    // -- dumps to a file, interleaved so that drift on a shared machine hits every variant alike
    const file = (name: string): string => path.join(work, name);
    const rawDump = (extra: string[], out: string): Promise<RunResult> =>
      run(pgDump, ['-Fc', ...extra, '-f', out, '-d', 'bench_big'], { env: pgEnv });
    log('warm-up dump (untimed)');
    await rawDump(['-Z0'], file('warmup.dump'));
    rmSync(file('warmup.dump'));
    const variants = {
      floor: { label: 'pg_dump -Fc -Z0 (floor)', extra: ['-Z0'] },
      gzipDefault: { label: 'pg_dump -Fc (default gzip)', extra: [] as string[] },
      gzip1: { label: 'pg_dump -Fc -Z1', extra: ['-Z1'] },
      // What pgferry's default runs, without pgferry: separates compression cost from pgferry's own.
      zstd1: { label: 'pg_dump -Fc -Z zstd:1', extra: ['-Z', 'zstd:1'] },
    } as const;
    const times: Record<
      'floor' | 'gzipDefault' | 'gzip1' | 'zstd1' | 'pgferryDump' | 'pgferryBackup',
      number[]
    > = {
      floor: [],
      zstd1: [],
      gzipDefault: [],
      gzip1: [],
      pgferryDump: [],
      pgferryBackup: [],
    };
    const sizes: Record<string, number> = {};
    const rss: Record<'dumpBig' | 'backupBig' | 'dumpSmall' | 'backupSmall', number[]> = {
      dumpBig: [],
      backupBig: [],
      dumpSmall: [],
      backupSmall: [],
    };
    const archive = file('pgferry.dump');
    // The job's own durationSeconds (from --json): the rest of the wall time is Node starting and exiting.
    const reported = { dump: [] as number[], backup: [] as number[] };
    const reportedSeconds = (stdout: string): number =>
      (camelFields(stdout.slice(stdout.indexOf('{'))) as { durationSeconds: number }).durationSeconds;
    for (let i = 0; i < args.runs; i++) {
      for (const [key, v] of Object.entries(variants) as [
        keyof typeof variants,
        (typeof variants)['floor'],
      ][]) {
        const out = file(`${key}.dump`);
        const r = await rawDump([...v.extra], out);
        times[key].push(r.seconds);
        sizes[key] = statSync(out).size;
        rmSync(out);
        log(`run ${i + 1}: ${v.label} ${s(r.seconds)}, ${mb(sizes[key] ?? 0)}`);
      }
      rmSync(archive, { force: true });
      const d = await ferry(['dump', '--from', dbUrl('bench_big'), '--to', archive, '--json']);
      reported.dump.push(reportedSeconds(d.stdout));
      times.pgferryDump.push(d.seconds);
      sizes.pgferryDump = statSync(archive).size;
      if (d.peakRss) rss.dumpBig.push(d.peakRss);
      log(
        `run ${i + 1}: pgferry dump ${s(d.seconds)}, ${mb(sizes.pgferryDump)}, peak RSS ${mb(d.peakRss ?? 0)}`,
      );
      const b = await ferry([
        'backup',
        '--from',
        dbUrl('bench_big'),
        '--to',
        `s3://${BUCKET}/run${i}/`,
        ...s3Args,
        '--json',
      ]);
      reported.backup.push(reportedSeconds(b.stdout));
      times.pgferryBackup.push(b.seconds);
      if (b.peakRss) rss.backupBig.push(b.peakRss);
      log(`run ${i + 1}: pgferry backup to S3 ${s(b.seconds)}, peak RSS ${mb(b.peakRss ?? 0)}`);
      rmSync(path.join(s3.dir, BUCKET), { recursive: true, force: true }); // keep the disk free
      await s3.createBucket(BUCKET).catch(() => {});
    }
    const dumpReport = camelFields(
      (await ferry(['dump', '--from', dbUrl('bench_big'), '--to', file('meta.dump'), '--json'])).stdout,
    ) as { clientVersion: string; reason: string };
    rmSync(file('meta.dump'));

    // -- peak RSS at a tenth of the size
    for (let i = 0; i < args.runs; i++) {
      const out = file('small.dump');
      const d = await ferry(['dump', '--from', dbUrl('bench_small'), '--to', out]);
      if (d.peakRss) rss.dumpSmall.push(d.peakRss);
      rmSync(out);
      const b = await ferry([
        'backup',
        '--from',
        dbUrl('bench_small'),
        '--to',
        `s3://${BUCKET}/small${i}/`,
        ...s3Args,
      ]);
      if (b.peakRss) rss.backupSmall.push(b.peakRss);
      log(`small run ${i + 1}: peak RSS dump ${mb(d.peakRss ?? 0)}, backup ${mb(b.peakRss ?? 0)}`);
    }

    // -- restore the pgferry archive: auto jobs vs pg_restore -j1, each into a fresh database
    const restore = { auto: [] as number[], single: [] as number[] };
    for (let i = 0; i < args.runs; i++) {
      const a = `restore_auto_${i}`;
      const r1 = await ferry(['restore', '--from', archive, '--to', dbUrl(a)]);
      restore.auto.push(r1.seconds);
      await withClient(dbUrl('postgres'), (c) => c.query(`DROP DATABASE ${a}`));
      const j = `restore_j1_${i}`;
      const started = Date.now();
      await withClient(dbUrl('postgres'), (c) => c.query(`CREATE DATABASE ${j}`));
      await run(pgRestore, ['-j1', '-d', j, archive], { env: pgEnv });
      const single = (Date.now() - started) / 1000; // includes CREATE DATABASE, as pgferry's does
      restore.single.push(single);
      await withClient(dbUrl('postgres'), (c) => c.query(`DROP DATABASE ${j}`));
      log(`run ${i + 1}: restore pgferry (auto jobs) ${s(r1.seconds)}, pg_restore -j1 ${s(single)}`);
    }

    // -- clean restore over an earlier copy: replace by swap (the default; 2 jobs into the scratch
    // database) against swap: false (drop and restore in place, one transaction, one job), both with
    // the CLI; the floor is raw `pg_restore --clean --if-exists --single-transaction -j1` over the same copy.
    const earlier = 'bench_clean';
    await withClient(dbUrl('postgres'), (c) => c.query(`CREATE DATABASE ${earlier}`));
    await run(pgRestore, ['-j2', '-d', earlier, archive], { env: pgEnv });
    const databaseOid = (): Promise<string> =>
      withClient(dbUrl('postgres'), async (c) =>
        String(
          (await c.query<{ oid: string }>('SELECT oid FROM pg_database WHERE datname = $1', [earlier]))
            .rows[0]?.oid,
        ),
      );
    const cleanArgs = ['restore', '--from', archive, '--to', dbUrl(earlier), '--clean', '--confirm', earlier];
    const clean = { floor: [] as number[], swap: [] as number[], inPlace: [] as number[] };
    for (let i = 0; i < args.runs; i++) {
      const f = await run(
        pgRestore,
        ['--clean', '--if-exists', '--single-transaction', '-j1', '-d', earlier, archive],
        { env: pgEnv },
      );
      clean.floor.push(f.seconds);
      // A swap gives the target a new database (a new OID); in place keeps the old one.
      const oidBefore = await databaseOid();
      const sw = await ferry([...cleanArgs, '--jobs', '2']);
      if ((await databaseOid()) === oidBefore)
        throw new Error(`the clean restore with swap was not swapped:\n${sw.stderr.trim()}`);
      clean.swap.push(sw.seconds);
      const oidSwapped = await databaseOid();
      const ip = await ferry([...cleanArgs, '--no-swap', '--jobs', '1']);
      if ((await databaseOid()) !== oidSwapped)
        throw new Error(`the clean restore with --no-swap swapped:\n${ip.stderr.trim()}`);
      clean.inPlace.push(ip.seconds);
      log(
        `run ${i + 1}: clean over a copy: raw pg_restore --clean -1 -j1 ${s(f.seconds)}, pgferry swap (2 jobs) ${s(sw.seconds)}, pgferry --no-swap ${s(ip.seconds)}`,
      );
    }
    await withClient(dbUrl('postgres'), (c) => c.query(`DROP DATABASE ${earlier}`));

    // -- a backup restored from S3 with one job: streamed, committed only after the whole object's
    // SHA-256 matched; against pg_restore --single-transaction -j1 of a local archive (the same
    // all-or-nothing one-job restore, with no network, no checksum and no filter).
    await ferry(['backup', '--from', dbUrl('bench_big'), '--to', `s3://${BUCKET}/restore/`, ...s3Args]);
    const streamed = { ferry: [] as number[], single: [] as number[], rss: [] as number[] };
    for (let i = 0; i < args.runs; i++) {
      const a = `restore_s3_${i}`;
      const r = await ferry([
        'restore',
        '--from',
        `s3://${BUCKET}/restore/bench_big/`,
        '--to',
        dbUrl(a),
        '--jobs',
        '1',
        ...s3Args,
      ]);
      streamed.ferry.push(r.seconds);
      if (r.peakRss) streamed.rss.push(r.peakRss);
      await withClient(dbUrl('postgres'), (c) => c.query(`DROP DATABASE ${a}`));
      const j = `restore_1tx_${i}`;
      const started = Date.now();
      await withClient(dbUrl('postgres'), (c) => c.query(`CREATE DATABASE ${j}`));
      await run(pgRestore, ['--single-transaction', '-j1', '-d', j, archive], { env: pgEnv });
      const single = (Date.now() - started) / 1000;
      streamed.single.push(single);
      await withClient(dbUrl('postgres'), (c) => c.query(`DROP DATABASE ${j}`));
      log(
        `run ${i + 1}: restore pgferry from S3 (one job, streamed) ${s(r.seconds)}, peak RSS ${mb(r.peakRss ?? 0)}; pg_restore -1 -j1 ${s(single)}`,
      );
    }

    // -- the report
    const floor = median(times.floor);
    const uncompressed = sizes.floor ?? 1;
    const m = {
      floorSeconds: floor,
      pgferryDumpSeconds: median(times.pgferryDump),
      gzipDefaultSeconds: median(times.gzipDefault),
      gzip1Seconds: median(times.gzip1),
      zstd1Seconds: median(times.zstd1),
      pgferryBackupSeconds: median(times.pgferryBackup),
      restoreAutoSeconds: median(restore.auto),
      restoreJ1Seconds: median(restore.single),
      restoreS3StreamedSeconds: median(streamed.ferry),
      restoreSingleTransactionSeconds: median(streamed.single),
      cleanRawSeconds: median(clean.floor),
      cleanSwapSeconds: median(clean.swap),
      cleanInPlaceSeconds: median(clean.inPlace),
      provisionColdSeconds: median(cold),
      provisionWarmSeconds: median(warm),
    };
    const peakBig = Math.max(...rss.dumpBig, ...rss.backupBig);
    const peakSmall = Math.max(...rss.dumpSmall, ...rss.backupSmall);
    const ratios = {
      pgferryDump: m.pgferryDumpSeconds / floor,
      gzipDefault: m.gzipDefaultSeconds / floor,
      gzip1: m.gzip1Seconds / floor,
      zstd1: m.zstd1Seconds / floor,
      pgferryBackup: m.pgferryBackupSeconds / floor,
      restoreSpeedup: m.restoreJ1Seconds / m.restoreAutoSeconds,
      restoreS3Streamed: m.restoreS3StreamedSeconds / m.restoreSingleTransactionSeconds,
      cleanSwap: m.cleanSwapSeconds / m.cleanRawSeconds,
      cleanInPlace: m.cleanInPlaceSeconds / m.cleanRawSeconds,
      cleanSwapOverInPlace: m.cleanSwapSeconds / m.cleanInPlaceSeconds,
    };
    const sizeShare = {
      pgferryDump: (sizes.pgferryDump ?? 0) / uncompressed,
      gzipDefault: (sizes.gzipDefault ?? 0) / uncompressed,
      gzip1: (sizes.gzip1 ?? 0) / uncompressed,
      zstd1: (sizes.zstd1 ?? 0) / uncompressed,
    };
    const rows: Row[] = [
      {
        measure: 'pgferry dump (defaults) time vs floor',
        value: x(ratios.pgferryDump),
        target: '≤ 1.10×',
        status: verdict(ratios.pgferryDump <= 1.1),
      },
      {
        measure: 'pgferry dump (defaults) size vs uncompressed',
        value: pct(sizeShare.pgferryDump),
        target: '≤ 45%',
        status: verdict(sizeShare.pgferryDump <= 0.45),
      },
      {
        measure: 'pg_dump -Fc (gzip default) time vs floor',
        value: x(ratios.gzipDefault),
        target: '',
        status: '—',
      },
      {
        measure: 'pg_dump -Fc (gzip default) size',
        value: pct(sizeShare.gzipDefault),
        target: '',
        status: '—',
      },
      { measure: 'pg_dump -Fc -Z1 time vs floor', value: x(ratios.gzip1), target: '', status: '—' },
      { measure: 'pg_dump -Fc -Z1 size', value: pct(sizeShare.gzip1), target: '', status: '—' },
      { measure: 'pg_dump -Fc -Z zstd:1 time vs floor', value: x(ratios.zstd1), target: '', status: '—' },
      { measure: 'pg_dump -Fc -Z zstd:1 size', value: pct(sizeShare.zstd1), target: '', status: '—' },
      {
        measure: 'pgferry backup to local S3 time vs floor',
        value: x(ratios.pgferryBackup),
        target: '≤ 1.25×',
        status: verdict(ratios.pgferryBackup <= 1.25),
      },
      {
        measure: 'restore: pg_restore -j1 time / pgferry auto jobs',
        value: x(ratios.restoreSpeedup),
        target: '≥ 1.20×',
        status: verdict(ratios.restoreSpeedup >= 1.2),
      },
      {
        measure: 'restore from S3, one job streamed, vs pg_restore -1 -j1 of a file',
        value: x(ratios.restoreS3Streamed),
        target: '≤ 1.30×',
        status: verdict(ratios.restoreS3Streamed <= 1.3),
      },
      {
        measure: 'clean over a copy, swap (2 jobs) vs raw pg_restore --clean -1 -j1',
        value: x(ratios.cleanSwap),
        target: '',
        status: '—',
      },
      {
        measure: 'clean over a copy, --no-swap (in place) vs raw pg_restore --clean -1 -j1',
        value: x(ratios.cleanInPlace),
        target: '',
        status: '—',
      },
      {
        measure: 'clean over a copy, swap time / in-place time',
        value: x(ratios.cleanSwapOverInPlace),
        target: '',
        status: '—',
      },
      {
        measure: 'peak RSS, restore from S3 streamed',
        value: mb(Math.max(0, ...streamed.rss)),
        target: '—',
        status: '—',
      },
      {
        measure: 'client provisioning, cold (loopback mirror)',
        value: s(m.provisionColdSeconds),
        target: '≤ 5 s',
        status: verdict(m.provisionColdSeconds <= 5),
      },
      {
        measure: 'client provisioning, warm',
        value: s(m.provisionWarmSeconds),
        target: '≤ 0.5 s',
        status: verdict(m.provisionWarmSeconds <= 0.5),
      },
      {
        measure: `pgferry peak RSS at ${mb(big.bytes)}`,
        value: mb(peakBig),
        target: '≤ 200 MB',
        status: verdict(peakBig <= 200 * MB),
      },
      {
        measure: `pgferry peak RSS at ${mb(small.bytes)}`,
        value: mb(peakSmall),
        target: '≤ 200 MB',
        status: verdict(peakSmall <= 200 * MB),
      },
      {
        measure: 'peak RSS flat across sizes (difference)',
        value: mb(Math.abs(peakBig - peakSmall)),
        target: '≤ 64 MB',
        status: verdict(Math.abs(peakBig - peakSmall) <= 64 * MB),
      },
    ];
    const wallSeconds = (Date.now() - wallStart) / 1000;
    const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim();
    const result = {
      date: new Date().toISOString(),
      args: { size: args.sizeLabel, sizeBytes: args.sizeBytes, runs: args.runs },
      machine: {
        nproc: os.availableParallelism(),
        memoryBytes: os.totalmem(),
        cpuModel,
        node: process.version,
        server: serverVersion,
        client: install.clientVersion,
        pgferryClient: dumpReport.clientVersion,
        pgferryClientReason: dumpReport.reason,
      },
      database: { big, small },
      medianSeconds: m,
      runsSeconds: {
        ...times,
        restoreAuto: restore.auto,
        restoreJ1: restore.single,
        restoreS3Streamed: streamed.ferry,
        restoreSingleTransaction: streamed.single,
        cleanRaw: clean.floor,
        cleanSwap: clean.swap,
        cleanInPlace: clean.inPlace,
        restoreS3StreamedRss: streamed.rss,
        provisionCold: cold,
        provisionWarm: warm,
      },
      pgferryReportedSeconds: {
        dump: reported.dump,
        backup: reported.backup,
        medianDump: median(reported.dump),
        medianBackup: median(reported.backup),
      },
      sizesBytes: sizes,
      ratios,
      sizeShareOfUncompressed: sizeShare,
      peakRssBytes: {
        big: peakBig,
        small: peakSmall,
        runs: rss,
        method: '/proc/<pid>/status VmHWM of the node process, sampled every 25 ms',
      },
      table: rows,
      wallSeconds,
    };
    mkdirSync(path.dirname(args.json), { recursive: true });
    writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `\npgferry bench: database ${mb(big.bytes)} (PostgreSQL ${serverVersion}), client ${install.clientVersion}, ` +
        `${args.runs} run(s), medians; floor = pg_dump -Fc -Z0 -f, ${s(floor)}, ${mb(uncompressed)}\n\n${table(rows)}\n\n` +
        `JSON: ${path.relative(process.cwd(), args.json) || args.json}; wall time ${wallSeconds.toFixed(0)} s\n`,
    );
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

let parsed: Args | 'help';
try {
  parsed = parseArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
  process.exit(2);
}
if (parsed === 'help') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!existsSync(path.join(REPO_ROOT, 'package.json')))
  throw new Error(`bench: no repository at ${REPO_ROOT}`);
main(parsed).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
