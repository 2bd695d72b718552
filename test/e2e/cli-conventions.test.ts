import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { CLI_BUNDLE, runBundle, type ProcessRun } from '../harness/cli.js';
import { scratchDir, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { REPO_ROOT } from '../harness/paths.js';
import { connUrl, createDatabase, mirrorUrl, server, sql, testbed } from '../harness/testbed.js';
import { COMMANDS, INPUTS } from '../../core/options.js';
import { until } from '../harness/until.js';

/**
 * The conventions a CLI user expects, from the built bundle run as a process: --version, help per
 * command, did you mean, one exit code per class (0, 1, 2, 130, 143), bare booleans, --json on
 * failure, a signal mid-dump leaving no partial output, and the warning for a password in argv.
 */

const MAJOR = 17;
const scratch = scratchDir();
afterAll(() => scratch.cleanup());
let db: string;

beforeAll(async () => {
  db = await createDatabase(MAJOR, 'cli_conv');
  await sql(
    MAJOR,
    db,
    'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 1000) i',
  );
});

const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  PGFERRY_MIRROR: mirrorUrl(),
  PGFERRY_CACHE_DIR: SHARED_CLIENT_CACHE,
  ...extra,
});
const cli = (args: string[], extra?: Record<string, string>): Promise<ProcessRun> =>
  runBundle(args, env(extra));
/** The database's URL without its password: the password comes by PGPASSWORD, as the warning says. */
const quietUrl = (): string => `postgres://postgres@127.0.0.1:${server(MAJOR).port}/${db}`;
const quiet = { PGPASSWORD: testbed().password };
const out = (name: string): string => {
  const dir = path.join(scratch.dir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
};

describe('--version and help', () => {
  const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };

  it.each(['--version', '-V'])('%s prints package.json’s version on stdout and exits 0', async (flag) => {
    const run = await cli([flag]);
    expect(run).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it.each(COMMANDS)(
    '%s --help lists only its own flags, with examples, at 80 columns off a terminal',
    async (command) => {
      const run = await cli([command, '--help']);
      expect([run.code, run.stderr]).toEqual([0, '']);
      const flags = run.stdout.slice(run.stdout.indexOf('Flags:'), run.stdout.indexOf('Examples:'));
      for (const input of INPUTS.filter((i) => i.name !== 'command')) {
        const listed = new RegExp(`^ {2}--${input.name}\\b`, 'm').test(flags);
        expect([input.name, listed]).toEqual([
          input.name,
          input.for === 'all' || input.for.includes(command),
        ]);
      }
      const examples = run.stdout
        .slice(run.stdout.indexOf('Examples:'))
        .match(new RegExp(`^ {2}(\\S+=\\S+ )?pgferry ${command}( |$)`, 'gm'));
      expect(examples?.length).toBeGreaterThanOrEqual(2);
      for (const line of run.stdout.split('\n')) expect([line, line.length <= 80]).toEqual([line, true]);
    },
  );

  it('--help alone is the overview: every command and the pointer to a command’s help', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    for (const command of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    expect(run.stdout).toContain('"pgferry <command> --help"');
  });

  it('at a terminal, help and long messages are wrapped to its width', async () => {
    const pty = (command: string): Promise<string> =>
      promisify(execFile)('script', ['-qc', `stty cols 50; ${command}`, '/dev/null'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      }).then((r) => r.stdout.replace(/\r/g, ''));
    const node = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_BUNDLE)}`;
    const help = await pty(`${node} dump --help`);
    const error = await pty(`${node} dump --from x`);
    expect(error).toContain('dump needs a database here');
    for (const text of [help, error]) {
      const lines = text.trimEnd().split('\n');
      expect(lines.length).toBeGreaterThan(3);
      for (const line of lines) expect([line, line.length <= 50]).toEqual([line, true]);
    }
  });
});

describe('exit codes, one per class', () => {
  it('no arguments: the overview on stderr, nothing on stdout, exit 2', async () => {
    const run = await cli([]);
    expect([run.code, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toContain('"pgferry <command> --help"');
  });

  it.each([
    [
      'a misspelt command',
      ['dupm', '--from', 'x'],
      'pgferry: command: "dupm" is not a command; did you mean dump? expected install, dump, restore, copy, backup or clone\n',
    ],
    [
      'a misspelt command asking for help',
      ['dupm', '--help'],
      'pgferry: command: "dupm" is not a command; did you mean dump? expected install, dump, restore, copy, backup or clone\n',
    ],
    [
      'a misspelt flag',
      ['dump', '--form', 'custom'],
      'pgferry: unknown argument: --form (did you mean --from or --format?)\nsee "pgferry dump --help"\n',
    ],
    [
      'a flag of another command',
      ['dump', '--from', 'host=h', '--to', 'x.dump', '--clean'],
      'pgferry: --clean: does not apply to dump (it is for restore, copy, clone)\n',
    ],
    [
      'a bad value',
      ['dump', '--from', 'host=h', '--to', 'x.dump', '--jobs', '0'],
      'pgferry: --jobs: "0" is not a job count; expected auto or a whole number ≥ 1\n',
    ],
    ['a flag without its value', ['dump', '--to'], 'pgferry: --to needs a value\n'],
  ])(
    '%s: usage, exit 2, the message alone on stderr; under --json the error object with code input',
    async (_, args, message) => {
      const run = await cli(args);
      expect(run).toEqual({ code: 2, stdout: '', stderr: message });
      const json = await cli(['--json', ...args]);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.stdout)).toEqual({
        error: { code: 'input', message: message.replace(/^pgferry: /, '').trimEnd() },
      });
    },
  );

  it('a job that starts and fails: exit 1, and under --json an error object with its code', async () => {
    const args = [
      'dump',
      '--from',
      `postgres://postgres@127.0.0.1:${server(MAJOR).port}/no_such_db`,
      '--to',
      path.join(out('failed'), 'x.dump'),
    ];
    const run = await cli(args, quiet);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^pgferry: .*no_such_db/m);
    const json = await cli([...args, '--json'], quiet);
    expect(json.code).toBe(1);
    const error = (JSON.parse(json.stdout) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('connection');
    expect(error.message).toContain('no_such_db');
    expect(readdirSync(out('failed'))).toEqual([]);
  });

  it('a bare boolean takes no value: --schema-only before --to, and the dump holds no rows; exit 0', async () => {
    const file = path.join(out('bare'), 'schema.dump');
    const run = await cli(
      ['dump', '--from', quietUrl(), '--schema-only', '--to', file, '--no-cache', '--json'],
      quiet,
    );
    expect(run.stderr).not.toMatch(/^pgferry: /m);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    for (const key of Object.keys(report)) expect(key).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    const list = await promisify(execFile)(path.join(String(report['bin-dir']), 'pg_restore'), [
      '--list',
      file,
    ]);
    expect(list.stdout).toMatch(/ TABLE public t /);
    expect(list.stdout).not.toContain('TABLE DATA');
  });
});

/** Backends on `db` waiting for a lock (pg_dump's LOCK TABLE behind ours). */
async function waitingOnLock(database: string): Promise<number> {
  const rows = await sql<{ n: number }>(
    MAJOR,
    'postgres',
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = '${database}' AND wait_event_type = 'Lock'`,
  );
  return rows[0]?.n ?? 0;
}

describe.each([
  ['SIGINT to the process group, as Ctrl-C at a terminal', 'SIGINT', 130, 'directory', true],
  ['SIGINT to pgferry alone', 'SIGINT', 130, 'custom', false],
  ['SIGTERM', 'SIGTERM', 143, 'custom', false],
] as const)('%s mid-dump', (_name, signal, code, format, group) => {
  it(`exits ${code} and leaves neither the dump nor its temporary output`, async () => {
    const dir = out(`signal-${signal}-${format}-${group}`);
    const to = path.join(dir, format === 'directory' ? 'app-dir' : 'app.dump');
    // pg_dump has created its output and waits behind this lock until it is stopped: no race.
    const holder = new pg.Client({ connectionString: connUrl(MAJOR, db) });
    await holder.connect();
    await holder.query('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
    try {
      const child = spawn(
        process.execPath,
        [CLI_BUNDLE, 'dump', '--from', quietUrl(), '--to', to, '--format', format, '--json'],
        {
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env(quiet) },
          detached: group,
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      await until('pg_dump to wait on the lock', async () => (await waitingOnLock(db)) > 0, 120);
      const during = readdirSync(dir);
      expect(during).toEqual([expect.stringMatching(/\.pgferry-[0-9a-f]+$/)]);
      if (group) process.kill(-(child.pid ?? 0), signal);
      else child.kill(signal);
      expect(await exited).toBe(code);
      expect(stderr).toMatch(new RegExp(`^pgferry: stopped by ${signal}`, 'm'));
      expect((JSON.parse(stdout) as { error: { code: string } }).error.code).toBe('cancelled');
      expect(readdirSync(dir)).toEqual([]);
      expect(existsSync(to)).toBe(false);
      // pg_dump went with it: nothing waits on the lock any more.
      await until('pg_dump to end', async () => (await waitingOnLock(db)) === 0, 15);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });
});

describe('a password on the command line', () => {
  const password = (): string => testbed().password;
  const WARNING = /^warning: --from carries a password on the command line.*PGFERRY_FROM.*passfile/m;

  it('is warned about once, pointing at PGFERRY_FROM and a passfile; the dump goes on; the password is in no output', async () => {
    const run = await cli([
      'dump',
      '--from',
      connUrl(MAJOR, db),
      '--to',
      path.join(out('pw-url'), 'a.dump'),
      '--json',
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(WARNING);
    expect(run.stderr.match(/carries a password/g)).toHaveLength(1);
    expect(run.stdout + run.stderr).not.toContain(password());
  });

  it('in conninfo to a server that refuses it: warned, exit 1, the password in no output', async () => {
    const conninfo = `host=127.0.0.1 port=${server(MAJOR).port} dbname=${db} user=postgres password=wrong-${password()}`;
    const run = await cli([
      'dump',
      '--from',
      conninfo,
      '--to',
      path.join(out('pw-conninfo'), 'a.dump'),
      '--json',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(WARNING);
    expect(run.stdout + run.stderr).not.toContain(password());
  });

  it('not when it comes by PGFERRY_FROM', async () => {
    const run = await cli(['dump', '--to', path.join(out('pw-env'), 'a.dump')], {
      PGFERRY_FROM: connUrl(MAJOR, db),
    });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/carries a password/);
    expect(run.stdout + run.stderr).not.toContain(password());
  });
});
