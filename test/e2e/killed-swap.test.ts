import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backupDatabase } from '../../core/jobs/backup.js';
import { parseConnection } from '../../core/pg/connection.js';
import { rowHashes } from '../harness/compare.js';
import { startBundle, type ProcessRun, type StartedBundle } from '../harness/cli.js';
import { catalog, dumpFile, scratchDir, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import type { ServerMajor } from '../harness/paths.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { backupOptionsFor, s3Env, withEnv } from '../harness/s3-engine.js';
import {
  earlierCopy,
  scratchesOf,
  sessionsOnScratch,
  ScratchWatch,
  SLOW_TABLE_SQL,
  SOURCE_SQL,
  stateOf,
} from '../harness/target-state.js';
import { startSecretsManager, type SecretsManagerStandIn } from '../harness/secrets-manager.js';
import { TASK_BUNDLE } from '../harness/scheduled-job.js';
import { connUrl, createDatabase, mirrorUrl, server, sql, testbed } from '../harness/testbed.js';
import { until } from '../harness/until.js';
import { jobBucketEnv, jobClientsEnv } from '../harness/job-env.js';

/**
 * pgferry SIGKILLed in the middle of a replace by swap — the built CLI bundle, killed once its scratch
 * database exists and a restore session is loading rows into it. No handler of pgferry's runs: its
 * pg_restore / psql / pg_dump must end with it (the watchdog), the target must be exactly what it was,
 * and the next run against the same target must remove the scratch database the killed one left —
 * before it builds its own — and succeed.
 */

type Path = 'file-custom' | 'file-directory' | 's3' | 'copy';
const PATHS: Path[] = ['file-custom', 'file-directory', 's3', 'copy'];
/** Every path with 1 and 2 jobs on 18 and 14; one path each on the majors between, rotated. */
const CASES: [ServerMajor, Path, 1 | 2][] = [
  ...([18, 14] as const).flatMap((m) =>
    PATHS.flatMap((p) => ([1, 2] as const).map((j) => [m, p, j] as [ServerMajor, Path, 1 | 2])),
  ),
  [15, 'file-directory', 2],
  [16, 's3', 2],
  [17, 'copy', 1],
];

const BUCKET = 'pgferry-killed-swap';
const scratch = scratchDir();
let s3: S3TestServer;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
});
afterAll(async () => {
  await s3?.close();
  scratch.cleanup();
});

/** A source per major whose restore dwells in its data phase (about a second on `public.slow`). */
const sources = new Map<ServerMajor, Promise<string>>();
function slowSource(major: ServerMajor): Promise<string> {
  let made = sources.get(major);
  if (!made) {
    made = createDatabase(major, 'killed_swap_src').then(async (db) => {
      // Three times the harness's slow table (about 3 s): the SIGKILL must land while it loads,
      // however slow a loaded machine is between seeing the load and sending the signal.
      await sql(
        major,
        db,
        `${SOURCE_SQL}${SLOW_TABLE_SQL} INSERT INTO public.slow SELECT generate_series(101, 300);`,
      );
      return db;
    });
    sources.set(major, made);
  }
  return made;
}

/** Archives and backups, made once per major and path (the cases run concurrently). */
const archives = new Map<string, Promise<string>>();
const backups = new Map<ServerMajor, Promise<unknown>>();

/** What the CLI is given as `--from` for this path (an archive file, a backup, the source itself). */
async function fromOf(major: ServerMajor, p: Path): Promise<{ from: string; extra: string[] }> {
  const source = await slowSource(major);
  if (p === 'copy') return { from: connUrl(major, source), extra: [] };
  if (p === 's3') {
    const prefix = `m${major}`;
    let made = backups.get(major);
    if (!made) {
      const from = parseConnection(connUrl(major, source), 'from', {});
      made = withEnv(s3Env(s3), () => backupDatabase(backupOptionsFor(s3, BUCKET, prefix, source, { from })));
      backups.set(major, made);
    }
    await made;
    return {
      from: `s3://${BUCKET}/${prefix}/${source}/`,
      extra: ['--s3-endpoint', s3.endpoint, '--s3-region', s3.region, '--s3-force-path-style', 'true'],
    };
  }
  const format = p === 'file-custom' ? 'custom' : 'directory';
  const file = path.join(scratch.dir, `${major}-${p}`);
  let made = archives.get(file);
  if (!made) archives.set(file, (made = dumpFile(major, source, file, format)));
  return { from: await made, extra: [] };
}

/** Every process below `pid` (by parent pid), with its command name; zombies count as gone. */
function descendantsOf(pid: number): Map<number, string> {
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const [state, ppid] = stat.slice(close + 2).split(' ');
      if (state === 'Z') continue;
      parent.set(Number(entry), Number(ppid));
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
    } catch {
      continue;
    }
  }
  const found = new Map<number, string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, ppid] of parent)
      if (!found.has(child) && (ppid === pid || found.has(ppid))) {
        found.set(child, names.get(child) ?? '?');
        grew = true;
      }
  }
  return found;
}

const alive = (pid: number): boolean => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

/** The local TCP ports of the sockets process `pid` holds open (from /proc: its fds, then the tables). */
function tcpPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return new Set(); // gone: it holds nothing, and the check that needs its ports fails
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      continue;
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6'])
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [local, inode] = [cols[1], cols[9]];
      if (local && inode && inodes.has(inode)) ports.add(parseInt(local.split(':').pop() ?? '', 16));
    }
  return ports;
}

/**
 * Waits for the run to be loading rows into a scratch database; fails at once if it ended first.
 * Says the client ports of the sessions seen loading, and the run's processes below it and the TCP
 * ports it held at that moment (read right after, in the same look: a restore caught near the end
 * of the slow table may have no pg_restore left a moment later).
 */
async function untilLoading(
  major: ServerMajor,
  target: string,
  run: StartedBundle,
): Promise<{ loaders: number[]; own: Set<number>; children: Map<number, string> }> {
  let ended: ProcessRun | undefined;
  void run.done.then((r) => (ended = r));
  const watch = await ScratchWatch.open(major, target);
  let seen = { loaders: [] as number[], own: new Set<number>(), children: new Map<number, string>() };
  try {
    await until(
      'rows loading into the scratch database',
      async () => {
        if (ended)
          throw new Error(`pgferry ended (exit ${ended.code}) before loading: ${ended.stderr.slice(-2000)}`);
        const loaders = await watch.loaderPorts();
        if (loaders.length === 0) return false;
        const pid = run.child.pid ?? 0;
        seen = { loaders, children: descendantsOf(pid), own: tcpPortsOf(pid) };
        return true;
      },
      120,
      25,
    );
  } finally {
    await watch.close();
  }
  return seen;
}

// Concurrent: most of a case is waiting (the slow table loading, the watchdog's grace period).
describe('pgferry SIGKILLed mid-swap', () => {
  test.concurrent.each(CASES)(
    'PostgreSQL %i: %s with %i job(s): its tools die with it, the target is as it was, and the next run clears the scratch and succeeds',
    async (major, p, jobs) => {
      const tools = await catalog().provide({ major: 18 });
      const { from, extra } = await fromOf(major, p);
      const target = await earlierCopy(major, SOURCE_SQL, 'killed_swap_tgt');
      const before = await stateOf(tools, major, target);
      const command = p === 'copy' ? 'copy' : 'restore';
      const args = [command, '--from', from, '--to', connUrl(major, target), '--jobs', String(jobs)];
      args.push('--clean', 'true', '--confirm', target, ...extra);
      const env = { PGFERRY_MIRROR: mirrorUrl(), PGFERRY_CACHE_DIR: SHARED_CLIENT_CACHE, ...s3Env(s3) };

      const killed = startBundle(args, env);
      const { loaders, own, children } = await untilLoading(major, target, killed);
      if (p === 'copy' && jobs > 1) {
        // A parallel copy streams rows over pgferry's own sessions (copy-parallel.ts): the loaders
        // are sockets of the process being killed, so the server must see them drop.
        expect(loaders.length).toBeGreaterThan(0);
        expect(loaders.filter((port) => !own.has(port))).toEqual([]);
      } else {
        // The tools doing the restore (not only the watchdog, a node process) are below pgferry.
        expect([...children.values()].some((name) => /^(pg_restore|psql|pg_dump)$/.test(name))).toBe(true);
      }
      killed.child.kill('SIGKILL');
      expect((await killed.done).code).toBeNull();
      await until(
        `pgferry's tools to end (${[...children.values()].join(', ')})`,
        () => [...children.keys()].every((t) => !alive(t)),
        20,
        25,
      );
      await until(
        'the scratch database’s sessions to end',
        async () => (await sessionsOnScratch(major, target)) === 0,
        20,
        25,
      );
      expect(await stateOf(tools, major, target)).toEqual(before);
      const left = await scratchesOf(major, target);
      expect(left).toHaveLength(1);

      const next = startBundle(args, env);
      // Once the next run is building, the killed run's scratch is gone: only its own is there.
      await untilLoading(major, target, next);
      const during = await scratchesOf(major, target);
      expect(during).toHaveLength(1);
      expect(during).not.toContain(left[0]);
      const run = await next.done;
      expect(run.stderr + run.stdout).toContain(`removing "${left[0]}", left by an earlier swap`);
      expect(run.code).toBe(0);
      expect(await scratchesOf(major, target)).toEqual([]);
      expect(await rowHashes(major, target)).toEqual(await rowHashes(major, await slowSource(major)));
    },
  );
});

/**
 * The scheduled seed, as the Fargate task runs it (the built task bundle, a process of its own):
 * SIGKILLed while the new staging loads, staging is exactly as it was, raw rows never carried its
 * name, and the next seed removes what the killed one left and succeeds, sanitized.
 */
describe('the scheduled seed SIGKILLed mid-swap', () => {
  let secrets: SecretsManagerStandIn;
  beforeAll(async () => {
    secrets = await startSecretsManager();
  });
  afterAll(async () => {
    await secrets?.close();
  });

  const rdsSecret = (major: ServerMajor, dbname: string): string =>
    JSON.stringify({
      engine: 'postgres',
      host: '127.0.0.1',
      port: server(major).port,
      username: 'postgres',
      password: testbed().password,
      dbname,
    });

  test('PostgreSQL 18: its tools die with it, staging is as it was, and the next seed clears the scratch', async () => {
    const major = 18;
    const tools = await catalog().provide({ major: 18 });
    await fromOf(major, 's3'); // the source's verified backup under m18/
    const source = await slowSource(major);
    const staging = await earlierCopy(major, SOURCE_SQL, 'killed_seed_stg');
    const before = await stateOf(tools, major, staging);
    const mask = path.join(scratch.dir, 'mask.sql');
    writeFileSync(mask, "UPDATE public.items SET note = 'masked';\n");
    const env = {
      PATH: process.env.PATH ?? '',
      ...s3Env(s3),
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      PGFERRY_JOB: 'seed',
      PGFERRY_SOURCE_SECRET_ARN: secrets.put(`pgferry/${source}`, { value: rdsSecret(major, source) }),
      PGFERRY_SOURCE_SSLMODE: 'disable',
      PGFERRY_DATABASES: source,
      ...jobBucketEnv(s3, BUCKET, `m${major}`),
      ...jobClientsEnv(scratch.dir),
      PGFERRY_SEED_SECRET_ARN: secrets.put(`pgferry/${staging}`, { value: rdsSecret(major, staging) }),
      PGFERRY_SEED_CONFIRM: staging,
      PGFERRY_SEED_SSLMODE: 'disable',
      PGFERRY_SANITIZE_SQL: mask,
    };

    const killed = startBundle([], env, TASK_BUNDLE);
    const pid = killed.child.pid ?? 0;
    await untilLoading(major, staging, killed);
    const children = descendantsOf(pid);
    expect([...children.values()].some((name) => /^(pg_restore|psql)$/.test(name))).toBe(true);
    killed.child.kill('SIGKILL');
    expect((await killed.done).code).toBeNull();
    await until('the task’s tools to end', () => [...children.keys()].every((t) => !alive(t)), 20, 25);
    await until(
      'the scratch database’s sessions to end',
      async () => (await sessionsOnScratch(major, staging)) === 0,
      20,
      25,
    );
    expect(await stateOf(tools, major, staging)).toEqual(before);
    const left = await scratchesOf(major, staging);
    expect(left).toHaveLength(1);

    const run = await startBundle([], env, TASK_BUNDLE).done;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(left[0]);
    expect(run.stdout).toContain('left by an earlier swap');
    expect(await scratchesOf(major, staging)).toEqual([]);
    const unmasked = await sql<{ n: number }>(
      major,
      staging,
      "SELECT count(*)::int AS n FROM public.items WHERE note IS DISTINCT FROM 'masked'",
    );
    expect(unmasked).toEqual([{ n: 0 }]);
    expect(await sql(major, staging, 'SELECT count(*)::int AS n FROM public.slow')).toEqual([{ n: 300 }]);
  });
});
