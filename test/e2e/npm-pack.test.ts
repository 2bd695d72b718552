import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { camelFields } from '../harness/cli-json.js';
import { rowHashes } from '../harness/compare.js';
import { loadDataset } from '../harness/dataset.js';
import { scratchDir, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { REPO_ROOT } from '../harness/paths.js';
import { connUrl, createDatabase, mirrorUrl, testbed, uniqueName } from '../harness/testbed.js';

/**
 * The package as npm ships it: `npm pack` (its prepack builds the CLI bundle), the tarball installed
 * into an empty directory with an empty npm cache and no network, and the installed `pgferry` bin
 * run by its own `#!/usr/bin/env node` — help, then a dump and a restore against a test server.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Every path the tarball may hold (under its `package/` root): what package.json's `files` lists. */
const ALLOWED = ['package.json', 'README.md', 'LICENSE', 'dist/pgferry.mjs'];

const scratch = scratchDir();
afterAll(() => scratch.cleanup());
const consumer = path.join(scratch.dir, 'consumer');
const npmCache = path.join(scratch.dir, 'npm-cache');
const bin = path.join(consumer, 'node_modules', '.bin', 'pgferry');
let tarball: string;
let packedFiles: string[];

/** Runs `command` with this Node first on PATH, so `npm` and the bin's shebang both find it. */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: {
        PATH: [path.dirname(process.execPath), process.env.PATH ?? ''].join(path.delimiter),
        HOME: process.env.HOME ?? '',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function expectOk(what: string, r: Run): void {
  expect({ what, code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ what, code: 0, stderr: '' });
}

/** The installed bin with only PATH, HOME and what pgferry needs to find client tools. */
function pgferry(args: string[]): Promise<Run> {
  return run(bin, args, consumer, { PGFERRY_MIRROR: mirrorUrl(), PGFERRY_CACHE_DIR: SHARED_CLIENT_CACHE });
}

beforeAll(async () => {
  const pack = await run('npm', ['pack', '--json', '--pack-destination', scratch.dir], REPO_ROOT);
  expectOk('npm pack', pack);
  const [report] = JSON.parse(pack.stdout) as { filename: string }[];
  tarball = path.join(scratch.dir, report!.filename);
  // The tarball itself, not npm's account of it.
  packedFiles = [];
  await tar.t({ file: tarball, onReadEntry: (e) => packedFiles.push(e.path) });

  mkdirSync(consumer);
  // An empty cache and --offline: the install succeeds only if the package needs nothing fetched.
  const install = await run(
    'npm',
    ['install', '--offline', '--cache', npmCache, '--no-audit', '--no-fund', tarball],
    consumer,
  );
  expectOk('npm install of the tarball', install);
});

describe('npm pack → install into an empty directory → the pgferry bin', () => {
  it('packs only what `files` allows, and all of what the bin needs', () => {
    const paths = packedFiles.map((p) => p.replace(/^package\//, ''));
    expect(packedFiles.every((p) => p.startsWith('package/'))).toBe(true);
    expect(paths.filter((p) => !ALLOWED.includes(p))).toEqual([]);
    // LICENSE is packed once the repository has one (npm packs it even unlisted).
    const expected = ALLOWED.filter((p) => p !== 'LICENSE' || existsSync(path.join(REPO_ROOT, 'LICENSE')));
    expect([...paths].sort()).toEqual([...expected].sort());
  });

  it('declares no dependency to fetch, the supported Node floor, and a bin inside the package', () => {
    const pkg = JSON.parse(
      readFileSync(path.join(consumer, 'node_modules', 'pgferry', 'package.json'), 'utf8'),
    ) as Record<string, unknown>;
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies'])
      expect({ field, value: pkg[field] }).toEqual({ field, value: undefined });
    expect(pkg.engines).toEqual({ node: '>=22' });
    expect(pkg.bin).toEqual({ pgferry: 'dist/pgferry.mjs' });
    // Nothing but pgferry itself was installed: the bundle carries its dependencies.
    expect(readdirSync(path.join(consumer, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual([
      'pgferry',
    ]);
  });

  it('installs an executable bin that starts through its own shebang', () => {
    const bundle = path.join(consumer, 'node_modules', 'pgferry', 'dist', 'pgferry.mjs');
    expect(readFileSync(bundle, 'utf8').split('\n', 1)[0]).toBe('#!/usr/bin/env node');
    expect(statSync(bundle).mode & 0o111).toBe(0o111);
  });

  it('`pgferry --help` prints the usage and exits 0', async () => {
    const help = await pgferry(['--help']);
    expectOk('pgferry --help', help);
    expect(help.stdout).toMatch(/^usage: pgferry /m);
  });

  it('`pgferry --version` prints the packed version and nothing else', async () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const run = await pgferry(['--version']);
    expectOk('pgferry --version', run);
    expect(run.stdout.trim()).toBe(version);
  });

  it('dumps a test database and restores it into a new one, row for row', async () => {
    const source = await createDatabase(17, 'pack_src');
    await loadDataset(17, source, 300);
    const archive = path.join(scratch.dir, `${source}.dump`);
    const dump = await pgferry(['dump', '--from', connUrl(17, source), '--to', archive, '--json']);
    expectOk('pgferry dump', dump);
    expect(statSync(archive).size).toBeGreaterThan(0);
    expect(camelFields(dump.stdout)).toMatchObject({ location: archive, tables: expect.any(Number) });

    const target = uniqueName('pack_dst');
    const restore = await pgferry(['restore', '--from', archive, '--to', connUrl(17, target)]);
    expectOk('pgferry restore', restore);
    expect(await rowHashes(17, target)).toEqual(await rowHashes(17, source));
    for (const r of [dump, restore]) expect(r.stdout + r.stderr).not.toContain(testbed().password);
  });
});
