import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_NETWORK_LIMITS, LIMITS_ENV } from '../../core/network-limits.js';
import { failure, runAction, runnerDirs } from '../harness/action-runner.js';
import { entryBomb, zeroBomb } from '../harness/bomb.js';
import { assetName, ensureMirrorFixtures } from '../harness/fixtures.js';
import { mirrorHits, startMirror, TRICKLE_INTERVAL_MS, type MirrorServer } from '../harness/mirror.js';
import { REPO_ROOT } from '../harness/paths.js';
import { s3Env } from '../harness/s3-engine.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { TASK_BUNDLE } from '../harness/scheduled-job.js';
import { startSecretsManager, type SecretsManagerStandIn } from '../harness/secrets-manager.js';
import { server as testServer, testbed } from '../harness/testbed.js';
import { jobBucketEnv, jobClientsEnv } from '../harness/job-env.js';

/**
 * A mirror that trickles, one that never answers, bombs and a stop by SIGTERM, through each built
 * front end as its own process: the CLI bundle, the committed Action bundle and the Fargate task.
 * Each failure must come within the limit it states, name the URL and the limit, leave no cache
 * entry and carry no stack trace. A watchdog kills a process that hangs anyway: that is the defect.
 */
const CLI = path.join(REPO_ROOT, 'dist', 'pgferry.mjs');
const VERSION = '17.5.0';
const ASSET = assetName(VERSION);
// Idle longer than the trickle's interval, so only the total limit can stop a trickle.
const LIMITS = `connect-ms=2000,idle-ms=${TRICKLE_INTERVAL_MS + 1000},total-ms=8000`;
const IDLE_S = (TRICKLE_INTERVAL_MS + 1000) / 1000;
const WATCHDOG_MS = 120_000;
const BOMB_BYTES = 2 * DEFAULT_NETWORK_LIMITS.unpackBytes;
// A bomb in an entry pgferry keeps is written to disk up to the limit: a lower one keeps it small.
const KEPT_LIMIT = 64 * 1024 * 1024;

let mirror: MirrorServer;
let s3: S3TestServer;
let secrets: SecretsManagerStandIn;
const made: string[] = [];

function scratch(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

beforeAll(async () => {
  const [bomb, kept, many] = await Promise.all([
    zeroBomb(VERSION, BOMB_BYTES),
    zeroBomb(VERSION, 4 * KEPT_LIMIT, 'bin/pg_dump'),
    entryBomb(VERSION, DEFAULT_NETWORK_LIMITS.unpackEntries + 5000),
  ]);
  mirror = await startMirror(ensureMirrorFixtures(), 0, { bomb, kept, many });
  [s3, secrets] = await Promise.all([startS3(), startSecretsManager()]);
  await s3.createBucket('pgferry-limits');
});
afterAll(async () => {
  await Promise.all([mirror?.close(), s3?.close(), secrets?.close()]);
  made.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  hung: boolean;
}

async function runNode(
  args: string[],
  env: Record<string, string>,
  whileRunning?: (child: ChildProcess) => Promise<void>,
): Promise<Exit> {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let hung = false;
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const watchdog = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, WATCHDOG_MS);
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  await whileRunning?.(child);
  const code = await closed;
  clearTimeout(watchdog);
  return { code, stdout, stderr, hung };
}

function cli(mirrorBase: string, cacheDir: string, limits?: string): Promise<Exit> {
  return runNode([CLI, 'install', '--postgres-version', '17', '--mirror', mirrorBase], {
    PGFERRY_CACHE_DIR: cacheDir,
    ...(limits ? { [LIMITS_ENV]: limits } : {}),
  });
}

function taskEnv(mirrorBase: string, cacheDir: string, limits?: string): Record<string, string> {
  const arn = secrets.put(`pgferry/limits-${path.basename(cacheDir)}`, {
    value: JSON.stringify({
      engine: 'postgres',
      host: '127.0.0.1',
      port: testServer(17).port,
      username: 'postgres',
      password: testbed().password,
      dbname: 'postgres',
    }),
  });
  return {
    ...s3Env(s3),
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    PGFERRY_SOURCE_SECRET_ARN: arn,
    PGFERRY_SOURCE_SSLMODE: 'disable',
    ...jobBucketEnv(s3, 'pgferry-limits', 'limits'),
    ...jobClientsEnv(cacheDir, mirrorBase, cacheDir),
    ...(limits ? { [LIMITS_ENV]: limits } : {}),
  };
}

/** Nothing stayed behind: no entry, no work directory, no archive, no empty version directory. */
function expectNoEntry(cacheDir: string): void {
  expect(existsSync(cacheDir) ? readdirSync(cacheDir, { recursive: true }).map(String) : []).toEqual([]);
}

function expectNoStack(text: string): void {
  expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(text).not.toContain('unexpected error');
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const trickleFailure = (base: string): RegExp =>
  new RegExp(
    `download of ${escape(ASSET)} from ${escape(`${base}/${VERSION}/${ASSET}`)} failed after \\d+ bytes: not finished within 8 s \\(total time limit\\)`,
  );
const silentFailure = (base: string): RegExp =>
  new RegExp(
    `mirror: download of versions\\.json from ${escape(`${base}/versions.json`)} failed: nothing received for ${IDLE_S} s \\(idle limit\\)`,
  );

describe('a mirror that trickles or never answers, through every front end', () => {
  const trickle = (): string => `${mirror.url}/faults/trickle`;
  const silent = (): string => `${mirror.url}/faults/silent`;

  it('CLI: a trickling archive fails at the total limit, naming the URL and the limit', async () => {
    const cache = scratch('pgferry-limits-cli-');
    const run = await cli(trickle(), cache, LIMITS);
    expect(run.hung).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(trickleFailure(trickle()));
    expectNoStack(run.stderr);
    expectNoEntry(cache);
  });

  it('CLI: a mirror that never answers fails at the idle limit; credentials in its URL stay out of the message', async () => {
    const cache = scratch('pgferry-limits-cli-');
    const base = silent().replace('http://', 'http://reader:s3cret-token@');
    const run = await cli(base, cache, LIMITS);
    expect(run.hung).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(silentFailure(silent().replace('http://', 'http://***@')));
    expect(run.stderr).not.toContain('s3cret-token');
    expectNoStack(run.stderr);
    expectNoEntry(cache);
  });

  it.each([
    ['trickle', trickleFailure],
    ['silent', silentFailure],
  ])('Action: a %s mirror fails the step with the limit it crossed', async (mode, expected) => {
    const dirs = runnerDirs();
    made.push(path.dirname(dirs.temp));
    const base = `${mirror.url}/faults/${mode}`;
    const run = await runAction({ command: 'install', 'postgres-version': '17', mirror: base }, dirs, {
      [LIMITS_ENV]: LIMITS,
    });
    expect(run.code).toBe(1);
    expect(failure(run)).toMatch(expected(base));
    expectNoStack(run.log);
    expect(readdirSync(dirs.toolCache)).toEqual([]);
  });

  it.each([
    ['trickle', trickleFailure],
    ['silent', silentFailure],
  ])('Fargate task: a %s mirror fails the run with the limit it crossed', async (mode, expected) => {
    const cache = scratch('pgferry-limits-task-');
    const base = `${mirror.url}/faults/${mode}`;
    const run = await runNode([TASK_BUNDLE], taskEnv(base, cache, LIMITS));
    expect(run.hung).toBe(false);
    expect(run.code).toBe(1);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const errors = lines.filter((l) => l.level === 'error').map((l) => String(l.error));
    expect(errors.some((e) => expected(base).test(e))).toBe(true);
    expect(lines.at(-1)).toMatchObject({ step: 'summary', ok: false });
    expectNoStack(run.stdout + run.stderr);
    expectNoEntry(cache);
  });
});

describe('a stop by SIGTERM while the mirror hangs (default limits)', () => {
  /** SIGTERM once the mirror has been asked for `pathname` again: the process then waits on it. */
  const termWhenAsked = async (pathname: string): Promise<(child: ChildProcess) => Promise<void>> => {
    const before = (await mirrorHits(mirror.url))[pathname] ?? 0;
    return async (child) => {
      for (let i = 0; i < 600 && ((await mirrorHits(mirror.url))[pathname] ?? 0) <= before; i++)
        await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
    };
  };

  it.each([
    ['trickling archive', 'trickle', `/${VERSION}/${ASSET}`],
    ['silent mirror', 'silent', '/versions.json'],
  ])('CLI during a %s: one line, no stack trace, exit 143', async (_what, mode, file) => {
    const cache = scratch('pgferry-limits-term-');
    const base = `${mirror.url}/faults/${mode}`;
    const run = await runNode(
      [CLI, 'install', '--postgres-version', '17', '--mirror', base],
      { PGFERRY_CACHE_DIR: cache },
      await termWhenAsked(`/faults/${mode}${file}`),
    );
    expect(run.hung).toBe(false);
    expect(run.code).toBe(143);
    const pgferryLines = run.stderr.split('\n').filter((l) => l.startsWith('pgferry:'));
    expect(pgferryLines).toHaveLength(1);
    expect(pgferryLines[0]).toMatch(
      /^pgferry: stopped by SIGTERM: (mirror: )?download of .* failed.*: cancelled \(stopped by SIGTERM\)$/,
    );
    expect(run.stderr.trim().split('\n').at(-1)).toBe(pgferryLines[0]);
    expectNoStack(run.stderr);
    expectNoEntry(cache);
  });

  it('Fargate task during a trickling archive: a "stopped" line, no stack trace, exit 143', async () => {
    const cache = scratch('pgferry-limits-term-');
    const run = await runNode(
      [TASK_BUNDLE],
      taskEnv(`${mirror.url}/faults/trickle`, cache),
      await termWhenAsked(`/faults/trickle/${VERSION}/${ASSET}`),
    );
    expect(run.hung).toBe(false);
    expect(run.code).toBe(143);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ level: 'error', step: 'stopped' });
    expect(String(lines.at(-1)?.error)).toMatch(/^stopped by SIGTERM/);
    expect(lines.some((l) => /cancelled \(stopped by SIGTERM\)/.test(String(l.error)))).toBe(true);
    expectNoStack(run.stdout + run.stderr);
    expectNoEntry(cache);
  });
});

describe('archives that are too large, to download or to unpack (default limits unless said)', () => {
  it(`a decompression bomb (${BOMB_BYTES / 2 ** 30} GiB of zeros, right checksum) is refused by the unpack limit`, async () => {
    expect(DEFAULT_NETWORK_LIMITS.unpackBytes).toBe(2 ** 30);
    const cache = scratch('pgferry-limits-bomb-');
    const run = await cli(`${mirror.url}/faults/bomb`, cache);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `pgferry: ${ASSET} unpacks to more than the 1 GiB limit; refused as a decompression bomb`,
    );
    expectNoStack(run.stderr);
    expectNoEntry(cache);
  });

  it('a bomb in an entry that is kept (bin/pg_dump) stops at a lowered limit and leaves nothing behind', async () => {
    const cache = scratch('pgferry-limits-bomb-');
    const run = await cli(`${mirror.url}/faults/kept`, cache, `unpack-bytes=${KEPT_LIMIT}`);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `pgferry: ${ASSET} unpacks to more than the 64 MiB limit; refused as a decompression bomb`,
    );
    expectNoStack(run.stderr);
    expectNoEntry(cache);
  });

  it('an archive of more entries than the limit (right checksum) is refused', async () => {
    const cache = scratch('pgferry-limits-bomb-');
    const run = await cli(`${mirror.url}/faults/many`, cache);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `pgferry: ${ASSET} holds more than ${DEFAULT_NETWORK_LIMITS.unpackEntries} entries (the limit); refused`,
    );
    expectNoStack(run.stderr);
    expectNoEntry(cache);
  });

  it.each([
    ['announces its size', '', /failed: it announces \d+ bytes, more than the 1 MiB size limit/],
    ['sends no Content-Length', '/faults/chunked', /failed after \d+ bytes: more than the 1 MiB size limit/],
  ])('a download over the size limit that %s is cut off at the limit', async (_how, route, expected) => {
    const cache = scratch('pgferry-limits-size-');
    const run = await cli(`${mirror.url}${route}`, cache, 'download-bytes=1048576');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`download of ${escape(ASSET)} from http://127\\.0\\.0\\.1:\\d+`));
    expect(run.stderr).toMatch(expected);
    expectNoEntry(cache);
  });

  it('a malformed limit override is an error naming the variable, never ignored', async () => {
    const run = await cli(mirror.url, scratch('pgferry-limits-bad-'), 'idle-ms=soon');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`pgferry: ${LIMITS_ENV}: idle-ms must be a positive integer, got "soon"`);
  });
});

describe('an S3 endpoint that accepts connections and never answers', () => {
  it('CLI restore from it fails at the idle limit, naming the object, the endpoint and the limits', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const run = await runNode(
        [
          CLI,
          'restore',
          '--from',
          's3://pgferry-limits/p/db.dump',
          '--to',
          `postgres://postgres@127.0.0.1:${testServer(17).port}/nowhere`,
          '--s3-endpoint',
          endpoint,
        ],
        { ...s3Env(s3), [LIMITS_ENV]: LIMITS },
      );
      expect(run.hung).toBe(false);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(
          `pgferry: from: S3 request for s3://pgferry-limits/p/db\\.dump\\S* at ${escape(endpoint)} failed: timed out \\(limits: connect 2 s, idle ${IDLE_S} s, answer 8 s\\)`,
        ),
      );
      expectNoStack(run.stderr);
      expect(sockets.size).toBeGreaterThan(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
