import { spawn, execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { REPO_ROOT, SERVER_MAJORS, TESTBED_DIR, type ServerMajor } from './paths.js';

/** One running test server; the password is random per run. */
export interface TestServer {
  major: ServerMajor;
  port: number;
  dataDir: string;
  binDir: string;
}

export interface TestbedState {
  /** The process that owns the servers; when it is gone they are leftovers. */
  ownerPid: number;
  /** The owner's PID namespace: a PID from another sandbox says nothing about this one. */
  pidNamespace?: string;
  stateFile: string;
  root: string;
  password: string;
  user: string;
  servers: TestServer[];
  mirrorUrl?: string;
}

export function serverBinDir(major: number): string {
  return path.join(REPO_ROOT, 'node_modules', `pg-server-${major}`, 'native', 'bin');
}

/** PostgreSQL refuses to run as root: as root, run the server as `postgres` (created if missing). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  }
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

function run(
  cmd: string,
  args: string[],
  owner: { uid: number; gid: number } | undefined,
  log?: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
      ...(owner ?? {}),
      cwd: os.tmpdir(),
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${path.basename(cmd)} ${args.join(' ')} failed (${code}):\n${out}${log && existsSync(log) ? readFileSync(log, 'utf8') : ''}`,
          ),
        );
    });
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function startServer(
  root: string,
  major: ServerMajor,
  password: string,
  owner?: { uid: number; gid: number },
): Promise<TestServer> {
  const binDir = serverBinDir(major);
  const dir = path.join(root, `pg${major}`);
  const dataDir = path.join(dir, 'data');
  const sockDir = path.join(dir, 'sock');
  mkdirSync(sockDir, { recursive: true });
  const pwfile = path.join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) for (const p of [dir, sockDir, pwfile]) chownSync(p, owner.uid, owner.gid);
  await run(
    path.join(binDir, 'initdb'),
    [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${pwfile}`,
      '-E',
      'UTF8',
      '--locale=C',
      '-N',
    ],
    owner,
  );
  const port = await freePort();
  const log = path.join(dir, 'server.log');
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${sockDir}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=60',
    '-c shared_buffers=64MB',
    '-c max_locks_per_transaction=256',
  ].join(' ');
  await run(
    path.join(binDir, 'pg_ctl'),
    ['-D', dataDir, '-l', log, '-w', '-t', '60', '-o', options, 'start'],
    owner,
    log,
  );
  return { major, port, dataDir, binDir };
}

export async function stopServers(state: TestbedState): Promise<void> {
  const owner = serverUser();
  await Promise.all(
    state.servers.map((s) =>
      run(path.join(s.binDir, 'pg_ctl'), ['-D', s.dataDir, '-m', 'immediate', '-w', 'stop'], owner).catch(
        () => {},
      ),
    ),
  );
  rmSync(state.root, { recursive: true, force: true });
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops what crashed earlier runs left behind (their owner is gone), so it cannot break this one. */
export async function cleanLeftovers(): Promise<void> {
  const files = existsSync(TESTBED_DIR) ? readdirSync(TESTBED_DIR).filter((f) => f.endsWith('.json')) : [];
  for (const file of files) {
    const stateFile = path.join(TESTBED_DIR, file);
    let old: TestbedState;
    try {
      old = JSON.parse(readFileSync(stateFile, 'utf8')) as TestbedState;
    } catch {
      rmSync(stateFile, { force: true });
      continue;
    }
    if (old.pidNamespace !== pidNamespace() || alive(old.ownerPid)) continue;
    await stopServers(old);
    rmSync(stateFile, { force: true });
  }
}

export async function startServers(
  majors: readonly ServerMajor[] = SERVER_MAJORS,
  /** `label` names the state file apart from the global one (a test file may run in the same process). */
  options: { password?: string; label?: string } = {},
): Promise<TestbedState> {
  const owner = serverUser();
  const root = mkdtempSync(path.join(os.tmpdir(), 'pgferry-testbed-'));
  chmodSync(root, 0o755);
  const password = options.password ?? `pw-${randomBytes(9).toString('base64url')}`;
  mkdirSync(TESTBED_DIR, { recursive: true });
  const stateFile = path.join(
    TESTBED_DIR,
    `run-${process.pid}${options.label ? `-${options.label}` : ''}.json`,
  );
  const state: TestbedState = {
    ownerPid: process.pid,
    pidNamespace: pidNamespace(),
    stateFile,
    root,
    password,
    user: 'postgres',
    servers: [],
  };
  // Written first, so that a run that dies while starting is still cleaned up by the next one.
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  const results = await Promise.allSettled(majors.map((m) => startServer(root, m, password, owner)));
  state.servers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await stopServers(state);
    throw failed.reason;
  }
  return state;
}
