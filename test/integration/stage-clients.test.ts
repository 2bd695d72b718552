import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PgferryError } from '../../core/errors.js';
import { RecordingLogger } from '../../core/log.js';
import { CLIENT_TOOLS } from '../../core/pg/clients/tools.js';
import { connectionEnv } from '../../core/pg/connection.js';
import { STAGED_MARKER } from '../../core/pg/run.js';
import {
  checkGlibc,
  isGlibcLibrary,
  LAMBDA_GLIBC,
  stageClients,
  type StagedClient,
} from '../../infra/stage-clients.js';
import { SHARED_CLIENT_CACHE, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { REPO_ROOT } from '../harness/paths.js';
import { conn, mirrorUrl } from '../harness/testbed.js';

const run = promisify(execFile);

interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end whatever its exit code (its errors come from outside Jest's realm). */
function exitOf(
  file: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string },
): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(file, args, options, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
const RELEASES = { 17: '17.5', 18: '18.0' } as const;

const scratch = scratchDir();
afterAll(() => scratch.cleanup());
let staged: StagedClient[] = [];
const log = new RecordingLogger();

function stage(majors: number[], outDir: string): Promise<StagedClient[]> {
  return stageClients({ majors, outDir, mirror: mirrorUrl(), cacheDir: SHARED_CLIENT_CACHE, log });
}

function client(major: number): StagedClient {
  const c = staged.find((s) => s.major === major);
  if (!c) throw new Error(`major ${major} was not staged`);
  return c;
}

/** Only the staged lib dir: nothing of this process's environment reaches the tool. */
function layerEnv(c: StagedClient, extra: Record<string, string> = {}): Record<string, string> {
  return { LD_LIBRARY_PATH: c.libDir, ...extra };
}

/** `ldd` lines as name → resolved path (the loader line has no name, the vDSO no path). */
async function lddOf(file: string, c: StagedClient): Promise<Map<string, string>> {
  const { stdout } = await run('ldd', [file], { env: layerEnv(c) });
  const deps = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const arrow = /^\s*(\S+) => (.*?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow?.[1] && arrow[2] !== undefined) deps.set(arrow[1], arrow[2]);
    const loader = /^\s*(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (loader?.[1]) deps.set(path.basename(loader[1]), loader[1]);
  }
  return deps;
}

beforeAll(async () => {
  // A strict umask must not make the layer unreadable to Lambda's unprivileged user.
  const umask = process.umask(0o077);
  try {
    staged = await stage([18, 17], path.join(scratch.dir, 'layer'));
  } finally {
    process.umask(umask);
  }
});

/** Every entry under `dir` with its permission bits, relative to `dir`. */
function modes(dir: string): [string, string][] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((rel) => [rel, (statSync(path.join(dir, rel)).mode & 0o777).toString(8)]);
}

describe('stageClients', () => {
  it('lays the clients out as the layer expects, with a marker, and leaves no work directories', () => {
    const root = path.join(scratch.dir, 'layer');
    expect(staged.map((s) => [s.major, s.version])).toEqual([
      [17, RELEASES[17]],
      [18, RELEASES[18]],
    ]);
    expect(readdirSync(root)).toEqual(['pgferry']);
    const wrongModes = modes(path.join(root, 'pgferry')).filter(([rel, mode]) => {
      const want = /\/lib\/./.test(rel) ? '644' : '755';
      return mode !== want;
    });
    expect(wrongModes).toEqual([]);
    for (const c of staged) {
      expect(c.binDir).toBe(path.join(root, 'pgferry', 'pg', String(c.major), 'bin'));
      expect(c.libDir).toBe(path.join(root, 'pgferry', 'pg', String(c.major), 'lib'));
      expect(readdirSync(c.binDir).sort()).toEqual([...CLIENT_TOOLS].sort());
      expect(readdirSync(c.libDir).sort()).toEqual([STAGED_MARKER, ...c.libraries].sort());
      const marker = JSON.parse(readFileSync(path.join(c.libDir, STAGED_MARKER), 'utf8')) as unknown;
      expect(marker).toEqual({ version: c.version, libraries: c.libraries });
      // libpq from the client itself; the rest of what DESIGN.md names, from the build machine.
      expect(c.libraries).toEqual(
        expect.arrayContaining([
          'libpq.so.5',
          'libssl.so.3',
          'libcrypto.so.3',
          'libz.so.1',
          'libgssapi_krb5.so.2',
          'libkrb5.so.3',
          'libk5crypto.so.3',
          'libcom_err.so.2',
          'libkrb5support.so.0',
        ]),
      );
    }
  });

  describe.each([17, 18])('the staged %i client', (major) => {
    it('runs every tool with only LD_LIBRARY_PATH set and prints the staged version', async () => {
      const c = client(major);
      for (const tool of CLIENT_TOOLS) {
        const { stdout } = await run(path.join(c.binDir, tool), ['--version'], { env: layerEnv(c) });
        expect(stdout.trim()).toBe(`${tool} (PostgreSQL) ${c.version}`);
      }
    });

    it('loads every library but glibc from its own lib dir', async () => {
      const c = client(major);
      for (const tool of CLIENT_TOOLS) {
        const deps = await lddOf(path.join(c.binDir, tool), c);
        expect([...deps.values()]).not.toContain('not found');
        const outside = [...deps].filter(
          ([name, file]) => !isGlibcLibrary(name) && path.dirname(file) !== c.libDir,
        );
        expect(outside).toEqual([]);
        expect(deps.get('libpq.so.5')).toBe(path.join(c.libDir, 'libpq.so.5'));
      }
    });

    it(`needs no glibc newer than ${LAMBDA_GLIBC} and carries no part of glibc`, async () => {
      const c = client(major);
      const files = [
        ...CLIENT_TOOLS.map((t) => path.join(c.binDir, t)),
        ...c.libraries.map((l) => path.join(c.libDir, l)),
      ];
      const [glibcMajor = 0, glibcMinor = 0] = (await checkGlibc(files))?.split('.').map(Number) ?? [];
      expect(glibcMajor).toBe(2);
      expect(glibcMinor).toBeLessThanOrEqual(34);
      expect(c.libraries.filter(isGlibcLibrary)).toEqual([]);
      for (const glibc of ['libc.so.6', 'libm.so.6', 'libresolv.so.2', 'ld-linux-x86-64.so.2']) {
        expect(existsSync(path.join(c.libDir, glibc))).toBe(false);
      }
    });

    // The closest this machine gets to Lambda's bare Amazon Linux: a root holding glibc and the
    // staged tree only (no /proc either, so $ORIGIN cannot help), like the layer under /opt.
    const rootOnly = process.getuid?.() === 0 && existsSync('/usr/sbin/chroot') ? it : it.skip;
    rootOnly('runs in a root that holds nothing but glibc and the staged tree', async () => {
      const c = client(major);
      const bare = path.join(scratch.dir, `bare-${major}`);
      const layer = path.join(scratch.dir, 'layer', 'pgferry');
      mkdirSync(path.join(bare, 'opt'), { recursive: true });
      await run('cp', ['-a', layer, path.join(bare, 'opt', 'pgferry')]);
      for (const tool of CLIENT_TOOLS) {
        for (const [name, file] of await lddOf(path.join(c.binDir, tool), c)) {
          if (!isGlibcLibrary(name)) continue;
          mkdirSync(path.join(bare, path.dirname(file)), { recursive: true });
          copyFileSync(file, path.join(bare, file));
        }
      }
      const optBin = `/opt/pgferry/pg/${major}/bin`;
      const env = { LD_LIBRARY_PATH: `/opt/pgferry/pg/${major}/lib` };
      for (const tool of CLIENT_TOOLS) {
        const { stdout } = await run('/usr/sbin/chroot', [bare, `${optBin}/${tool}`, '--version'], { env });
        expect(stdout.trim()).toBe(`${tool} (PostgreSQL) ${c.version}`);
      }
      // Without the library path nothing loads here; on Lambda RUNPATH would find libpq but not its libssl.
      const without = await exitOf('/usr/sbin/chroot', [bare, `${optBin}/pg_dump`, '--version'], { env: {} });
      expect(without.code).toBe(127);
      expect(without.stderr).toMatch(/error while loading shared libraries: (libpq\.so\.5|libssl\.so\.3)/);

      const dump = await run('/usr/sbin/chroot', [bare, `${optBin}/pg_dump`, '--schema-only'], {
        env: { ...env, ...connectionEnv(conn(17)) },
      });
      expect(dump.stdout).toContain(`Dumped by pg_dump version ${c.version}`);
    });
  });

  it('dumps a real server with the staged pg_dump', async () => {
    const c = client(17);
    const { stdout } = await run(path.join(c.binDir, 'pg_dump'), ['--schema-only'], {
      env: layerEnv(c, connectionEnv(conn(17))),
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(stdout).toContain('PostgreSQL database dump');
    expect(stdout).toContain(`Dumped by pg_dump version ${c.version}`);
    expect(stdout).toMatch(/Dumped from database version 17\./);
  });

  it('names the file and the glibc it needs when the target glibc is older', async () => {
    const psql = path.join(client(18).binDir, 'psql');
    const error = await failureOf(checkGlibc([psql], '2.17'));
    expect(error).toBeInstanceOf(PgferryError);
    expect(error.message).toContain(psql);
    expect(error.message).toMatch(/needs glibc 2\.\d+ .*glibc 2\.17/);
    expect(error.message).toContain("Lambda's Amazon Linux 2023 has glibc 2.34");
  });

  it('replaces what an earlier staging left in the same directory', async () => {
    const outDir = path.join(scratch.dir, 'restage');
    await stage([17], outDir);
    const again = await stage([18], outDir);
    expect(again.map((c) => c.major)).toEqual([18]);
    expect(readdirSync(outDir)).toEqual(['pgferry']);
    expect(readdirSync(path.join(outDir, 'pgferry', 'pg'))).toEqual(['18']);
  });

  it('fails naming a major the mirror does not have, and stages nothing', async () => {
    const outDir = path.join(scratch.dir, 'missing');
    const error = await failureOf(stage([17, 16], outDir));
    expect(error).toBeInstanceOf(PgferryError);
    expect(error.message).toMatch(/PostgreSQL 16 client tools/);
    expect(error.message).toContain(mirrorUrl());
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('refuses majors pgferry does not support', async () => {
    const error = await failureOf(stage([9, 17], path.join(scratch.dir, 'unsupported')));
    expect(error.message).toMatch(/9 not supported; expected one or more majors, 14 or newer/);
  });
});

describe('stage-clients-cli', () => {
  // As the CDK bundling hook runs it: node scripts/run-ts.mjs infra/stage-clients-cli.ts, any cwd.
  const cli = (args: string[], cwd: string): Promise<Exit> =>
    exitOf(
      process.execPath,
      [
        path.join(REPO_ROOT, 'scripts/run-ts.mjs'),
        path.join(REPO_ROOT, 'infra/stage-clients-cli.ts'),
        ...args,
      ],
      { cwd, env: { ...process.env, PGFERRY_DEBUG: '' } },
    );

  it('stages into --out relative to its cwd and prints one line per major', async () => {
    const cwd = path.join(scratch.dir, 'cli');
    mkdirSync(cwd);
    const result = await cli(
      ['--majors', '17,18', '--out', 'asset', '--mirror', mirrorUrl(), '--cache-dir', SHARED_CLIENT_CACHE],
      cwd,
    );
    expect(result.code).toBe(0);
    // The mirror's 17.5 and 18.0 are below the security floor: staging them says so.
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^warning: PostgreSQL client 17\.5 \(cached\) is below the security floor: 17\.10 fixed CVE-2026-6477/,
      ),
      expect.stringMatching(
        /^warning: PostgreSQL client 18\.0 \(cached\) is below the security floor: 18\.4 fixed CVE-2026-6477/,
      ),
      `staged PostgreSQL 17.5 (major 17) in ${path.join(cwd, 'asset/pgferry/pg/17')} with ${client(17).libraries.length} libraries`,
      `staged PostgreSQL 18.0 (major 18) in ${path.join(cwd, 'asset/pgferry/pg/18')} with ${client(18).libraries.length} libraries`,
    ]);
    expect(existsSync(path.join(cwd, 'asset/pgferry/pg/18/bin/pg_dump'))).toBe(true);
  });

  it.each([
    [['--majors', '17'], /--out is required/],
    [['--majors', 'seventeen', '--out', 'x'], /--majors is required/],
    [['--majors', '17', '--out', 'x', '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 with usage for %j', async (args, problem) => {
    const result = await cli(args, scratch.dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(problem);
    expect(result.stderr).toContain('usage: stage-clients --majors');
  });

  it('exits 1 with the message when staging fails', async () => {
    const result = await cli(
      ['--majors', '16', '--out', 'x', '--mirror', mirrorUrl(), '--cache-dir', SHARED_CLIENT_CACHE],
      scratch.dir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^stage-clients: cannot stage PostgreSQL 16 client tools: .*16/);
  });
});
