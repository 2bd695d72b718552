import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { catalog, scratchDir, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { REPO_ROOT } from '../harness/paths.js';
import { SLOW_TABLE_SQL } from '../harness/target-state.js';
import { connUrl, createDatabase, mirrorUrl, sql, uniqueName } from '../harness/testbed.js';
import { until } from '../harness/until.js';

/**
 * pgferry killed with SIGKILL — no handler of its own runs — in the middle of a restore: its
 * pg_restore and psql end too (the watchdog ends their process groups), nothing is left connected
 * to the target, and a one-job restore into an existing database leaves it exactly as it was.
 */

const CLI = path.join(REPO_ROOT, 'dist', 'pgferry.mjs');
const scratch = scratchDir();
let archive: string;

afterAll(() => scratch.cleanup());

beforeAll(async () => {
  const source = await createDatabase(17, 'killed_src');
  await sql(
    17,
    source,
    `CREATE TABLE big (id int PRIMARY KEY, v text);
     INSERT INTO big SELECT i, md5(i::text) || md5((i * 7)::text) FROM generate_series(1, 1500000) i;
     ${SLOW_TABLE_SQL} INSERT INTO public.slow SELECT generate_series(101, 300);`,
  );
  archive = path.join(scratch.dir, 'big.dump');
  const dump = spawn(process.execPath, [CLI, 'dump', '--from', connUrl(17, source), '--to', archive], {
    env: cliEnv(),
  });
  expect(await exitOf(dump)).toBe(0);
});

function cliEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PGFERRY_MIRROR: mirrorUrl(),
    PGFERRY_CACHE_DIR: SHARED_CLIENT_CACHE,
  };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('close', (code) => resolve(code)));
}

/** Processes (other than this test's) whose command line names the database. */
function processesNaming(db: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (cmdline.includes(db) && Number(pid) !== process.pid) found.push(`${pid}: ${cmdline.slice(0, 120)}`);
  }
  return found;
}

/**
 * Whether a session is loading `public.slow` (about 3 s of rows, after `big`) into `db` right now:
 * the SIGKILL then lands mid-load however slowly a loaded machine runs this test between looking
 * and killing (a fixed pause after the first session could land after the commit).
 */
async function loadingSlow(db: string): Promise<boolean> {
  const rows = await sql<{ n: number }>(
    17,
    'postgres',
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = '${db}' AND state = 'active' AND query LIKE 'COPY public.slow %'`,
  );
  return (rows[0]?.n ?? 0) > 0;
}

async function backendsOn(db: string): Promise<number> {
  const rows = await sql<{ n: number }>(
    17,
    'postgres',
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = '${db}' AND pid <> pg_backend_pid()`,
  );
  return rows[0]?.n ?? 0;
}

describe.each([
  ['one job, into an existing database', 1, true],
  ['two jobs, into a new database', 2, false],
] as const)('pgferry SIGKILLed mid-restore: %s', (_name, jobs, existing) => {
  it('takes its tools with it and leaves nothing connected', async () => {
    const target = existing ? await createDatabase(17, 'killed_dst') : uniqueName('killed_dst');
    if (existing) await sql(17, target, 'CREATE TABLE keep (id int); INSERT INTO keep VALUES (1), (2)');
    const tools = await catalog().provide({ major: 17 });
    const before = existing ? [await schemaOf(tools, 17, target), await rowHashes(17, target)] : undefined;

    const restore = spawn(
      process.execPath,
      [
        CLI,
        'restore',
        '--from',
        archive,
        '--to',
        connUrl(17, target),
        '--jobs',
        String(jobs),
        '--confirm',
        target,
      ],
      { env: cliEnv(), stdio: 'ignore' },
    );
    const exited = exitOf(restore);
    // Killed while rows are streaming in, in the same look that saw them and its tools.
    await until('the restore to load public.slow into the target', () => loadingSlow(target), 120, 25);
    const running = processesNaming(target);
    restore.kill('SIGKILL');
    expect(running.length).toBeGreaterThan(0);
    await exited;

    await until('the tools to end', () => processesNaming(target).length === 0, 15);
    await until('the sessions to end', async () => (await backendsOn(target)) === 0, 15);
    if (before) expect([await schemaOf(tools, 17, target), await rowHashes(17, target)]).toEqual(before);
    else {
      // An orphaned pg_restore would have gone on to finish: all rows and the primary key.
      const finished = await sql<{ n: number }>(
        17,
        target,
        `SELECT CASE WHEN to_regclass('public.big_pkey') IS NULL THEN -1 ELSE (SELECT count(*)::int FROM big) END AS n`,
      );
      expect(finished[0]?.n).not.toBe(1500000);
    }
  });
});
