import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { rowHashes } from '../harness/compare.js';
import { SHARED_CLIENT_CACHE, scratchDir } from '../harness/engine.js';
import { runBundle, type ProcessRun } from '../harness/cli.js';
import { connUrl, createDatabase, mirrorUrl, sql, testbed, uniqueName } from '../harness/testbed.js';

/**
 * Issue 12: guards run before anything is created. A restore or copy refused for its `confirm`
 * (missing on a clean restore, or naming another database) leaves no database, no file and no role
 * behind: the built CLI runs with an empty client cache and an empty TMPDIR of its own, and a
 * globals file beside the archive would create a role if the restore got that far. A control run
 * with the right confirm shows that each of those checks would see what a run leaves.
 */

const MAJOR = 17;
const scratch = scratchDir();
afterAll(() => scratch.cleanup());
let source: string;
let archive: string;
let role: string;

beforeAll(async () => {
  source = await createDatabase(MAJOR, 'guard_src');
  await sql(MAJOR, source, 'CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 50) g');
  archive = path.join(scratch.dir, 'source.dump');
  const dump = await cli(['dump', '--from', connUrl(MAJOR, source), '--to', archive], SHARED_CLIENT_CACHE);
  expect(dump.stderr).not.toMatch(/pgferry: /);
  expect(dump.code).toBe(0);
  role = uniqueName('guard_role');
  writeFileSync(`${archive}.globals.sql`, `CREATE ROLE ${role};\n`);
});
afterAll(async () => {
  await sql(MAJOR, 'postgres', `DROP ROLE IF EXISTS ${role}`).catch(() => {});
});

interface Sandbox {
  cache: string;
  tmp: string;
}

function sandbox(): Sandbox {
  const dir = path.join(scratch.dir, uniqueName('run'));
  const box = { cache: path.join(dir, 'cache'), tmp: path.join(dir, 'tmp') };
  mkdirSync(box.cache, { recursive: true });
  mkdirSync(box.tmp, { recursive: true });
  return box;
}

function cli(args: string[], cache: string, tmp?: string): Promise<ProcessRun> {
  return runBundle([...args, '--mirror', mirrorUrl()], {
    PGFERRY_CACHE_DIR: cache,
    ...(tmp ? { TMPDIR: tmp } : {}),
  });
}

async function databaseExists(name: string): Promise<boolean> {
  return (await sql(MAJOR, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${name}'`)).length > 0;
}

async function roleExists(name: string): Promise<boolean> {
  return (await sql(MAJOR, 'postgres', `SELECT 1 FROM pg_roles WHERE rolname = '${name}'`)).length > 0;
}

/** A refusal naming confirm, with nothing left behind: no target, no client download, no temp file, no role. */
async function expectRefusedLeavingNothing(
  run: ProcessRun,
  box: Sandbox,
  target: string,
  says: RegExp,
): Promise<void> {
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(says);
  expect(run.stderr).not.toContain(testbed().password);
  expect(await databaseExists(target)).toBe(false);
  expect(readdirSync(box.cache)).toEqual([]);
  expect(readdirSync(box.tmp)).toEqual([]);
  expect(await roleExists(role)).toBe(false);
}

const restoreArgs = (target: string, extra: string[]): string[] => [
  'restore',
  '--from',
  archive,
  '--to',
  connUrl(MAJOR, target),
  ...extra,
];
const copyArgs = (target: string, extra: string[]): string[] => [
  'copy',
  '--from',
  connUrl(MAJOR, source),
  '--to',
  connUrl(MAJOR, target),
  ...extra,
];

describe.each([
  ['a file restore', restoreArgs],
  ['a copy', copyArgs],
])('%s refused for its confirm creates nothing', (_, args) => {
  it('clean without confirm, into a database that does not exist yet', async () => {
    const target = uniqueName('guard_new');
    const box = sandbox();
    const run = await cli(args(target, ['--clean', 'true']), box.cache, box.tmp);
    await expectRefusedLeavingNothing(
      run,
      box,
      target,
      new RegExp(`pgferry: --confirm: this restore into "${target}" is destructive \\(clean drops`),
    );
  });

  it.each([
    ['clean', ['--clean', 'true']],
    ['not clean', []],
  ])('confirm naming another database (%s), into a database that does not exist yet', async (__, extra) => {
    const target = uniqueName('guard_new');
    const box = sandbox();
    const run = await cli(args(target, [...extra, '--confirm', 'production']), box.cache, box.tmp);
    await expectRefusedLeavingNothing(
      run,
      box,
      target,
      new RegExp(`pgferry: --confirm: "production" does not match the target database "${target}"`),
    );
  });

  it('confirm naming another database, over an existing database with tables: left as it was', async () => {
    const target = await createDatabase(MAJOR, 'guard_old');
    await sql(MAJOR, target, "CREATE TABLE keep AS SELECT 'precious'::text AS v");
    const before = await rowHashes(MAJOR, target);
    const box = sandbox();
    const run = await cli(args(target, ['--clean', 'true', '--confirm', source]), box.cache, box.tmp);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/confirm: ".*" does not match the target database/);
    expect(await rowHashes(MAJOR, target)).toEqual(before);
    expect(readdirSync(box.cache)).toEqual([]);
    expect(readdirSync(box.tmp)).toEqual([]);
  });
});

describe('control: the same runs, confirmed, leave what the checks look for', () => {
  it('a confirmed clean restore creates the target, fills the cache and applies the globals', async () => {
    const target = uniqueName('guard_ok');
    const box = sandbox();
    const run = await cli(restoreArgs(target, ['--clean', 'true', '--confirm', target]), box.cache, box.tmp);
    expect(run.stderr).not.toMatch(/pgferry: /);
    expect(run.code).toBe(0);
    expect(await databaseExists(target)).toBe(true);
    expect(readdirSync(box.cache)).not.toEqual([]);
    expect(await roleExists(role)).toBe(true);
    await sql(MAJOR, 'postgres', `DROP DATABASE ${target}`);
    await sql(MAJOR, 'postgres', `DROP ROLE ${role}`);
  });
});
