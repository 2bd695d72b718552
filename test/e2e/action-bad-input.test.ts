import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { failure, runAction, runnerDirs } from '../harness/action-runner.js';
import { scratchDir } from '../harness/engine.js';
import type { ServerMajor } from '../harness/paths.js';
import { freePort } from '../harness/servers.js';
import { connUrl, mirrorUrl, sql, testbed, uniqueName } from '../harness/testbed.js';

/**
 * Guarantee 6 (bad input) through the committed Action bundle: bad input fails the step with one `::error::`
 * that names the input as written and says what was expected, sets no output and shows no password.
 */

type Inputs = Record<string, string>;

const scratch = scratchDir();
afterAll(() => scratch.cleanup());
const dirs = runnerDirs();

/** A new empty directory for one case, so "nothing was written" is easy to check. */
function freshDir(): string {
  const dir = path.join(scratch.dir, uniqueName('case'));
  mkdirSync(dir);
  return dir;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The message's line about one input: `name: …` alone, or `  - name: …` among several problems. */
function problem(input: string, says: RegExp): RegExp {
  return new RegExp(`^(?:\\s*- )?${escapeRegExp(input)}: .*${says.source}`, 'm');
}

function secrets(): string[] {
  const { password } = testbed();
  return [password, encodeURIComponent(password)];
}

/**
 * Runs the Action and expects a clean refusal: exit code 1, an `::error::` message matching every
 * pattern, no outputs, nothing put on PATH and no password anywhere a person could see.
 */
async function expectRejected(inputs: Inputs, ...patterns: RegExp[]): Promise<string> {
  const run = await runAction({ mirror: mirrorUrl(), ...inputs }, dirs);
  const message = failure(run);
  expect(run.code).toBe(1);
  for (const pattern of patterns) expect(message).toMatch(pattern);
  expect(run.outputs).toEqual({});
  expect(run.path).toEqual([]);
  for (const secret of secrets()) expect(run.everything).not.toContain(secret);
  return message;
}

function without(inputs: Inputs, name: string): Inputs {
  return Object.fromEntries(Object.entries(inputs).filter(([key]) => key !== name));
}

async function databaseExists(major: ServerMajor, name: string): Promise<boolean> {
  const rows = await sql(major, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${name}'`);
  return rows.length > 0;
}

/** A URL of another database system, carrying the test bed's password to prove it is never shown. */
function mysqlUrl(): string {
  return `mysql://root:${encodeURIComponent(testbed().password)}@127.0.0.1:3306/app`;
}

/** Inputs that would work, for the cases that spoil one of them. */
const valid = {
  dump: (): Inputs => ({ command: 'dump', from: connUrl(15), to: path.join(freshDir(), 'db.dump') }),
  restore: (): Inputs => ({
    command: 'restore',
    from: path.join(scratch.dir, 'never-read.dump'),
    to: connUrl(15, uniqueName('bad_input')),
  }),
  copy: (): Inputs => ({ command: 'copy', from: connUrl(15), to: connUrl(16, uniqueName('bad_input')) }),
};

describe('action: bad input', () => {
  it.each([
    ['an unknown command', { command: 'explode' }, /"explode" is not a command; expected install, dump/],
    ['no command', {}, /is required; expected install, dump, restore, copy, backup or clone/],
  ])('refuses %s', async (_, inputs: Inputs, says) => {
    await expectRejected(inputs, problem('command', says));
  });

  it.each(
    (['dump', 'restore', 'copy'] as const).flatMap((command) =>
      (['from', 'to'] as const).map((missing) => [command, missing] as const),
    ),
  )('refuses %s without %s', async (command, missing) => {
    await expectRejected(
      without(valid[command](), missing),
      problem(missing, new RegExp(`is required for ${command}; expected`)),
    );
  });

  it.each<[string, () => Inputs, string, RegExp]>([
    [
      'a file path as a dump source',
      () => ({ ...valid.dump(), from: '/tmp/x.dump' }),
      'from',
      /dump needs a database here.*expected a postgres:\/\/ URL or conninfo/,
    ],
    [
      'a database URL as a restore source',
      () => ({ ...valid.restore(), from: connUrl(15) }),
      'from',
      /restore needs an archive path.* here, not a database/,
    ],
    [
      'a path as a restore target',
      () => ({ ...valid.restore(), to: path.join(scratch.dir, 'target') }),
      'to',
      /restore needs a database here.*expected a postgres:\/\/ URL or conninfo/,
    ],
    [
      'a mysql:// URL as a dump source',
      () => ({ ...valid.dump(), from: mysqlUrl() }),
      'from',
      /expected postgres:\/\/ or postgresql:\/\//,
    ],
    [
      'a mysql:// URL as a dump destination',
      () => ({ ...valid.dump(), to: mysqlUrl() }),
      'to',
      /dump needs a file path or an s3:\/\/ URI here/,
    ],
    [
      'a mysql:// URL as a restore source',
      () => ({ ...valid.restore(), from: mysqlUrl() }),
      'from',
      /restore needs an archive path/,
    ],
  ])('refuses %s', async (_, inputs, input, says) => {
    await expectRejected(inputs(), problem(input, says));
  });

  it.each<[string, () => Inputs, string, RegExp]>([
    ['format: zip', () => ({ ...valid.dump(), format: 'zip' }), 'format', /expected custom, directory, tar/],
    [
      'compress: brotli',
      () => ({ ...valid.dump(), compress: 'brotli' }),
      'compress',
      /"brotli" is not a compression; expected auto, none, gzip/,
    ],
    ['jobs: 0', () => ({ ...valid.dump(), jobs: '0' }), 'jobs', /expected auto or a whole number/],
    [
      'postgres-version: banana',
      () => ({ ...valid.dump(), 'postgres-version': 'banana' }),
      'postgres-version',
      /"banana" is not a version; expected auto, a major/,
    ],
    [
      'clean: yes on a restore',
      () => ({ ...valid.restore(), clean: 'yes' }),
      'clean',
      /"yes" is not a boolean; expected true or false/,
    ],
    [
      'schema-only: yes on a dump',
      () => ({ ...valid.dump(), 'schema-only': 'yes' }),
      'schema-only',
      /"yes" is not a boolean; expected true or false/,
    ],
    [
      'clean: true on a dump',
      () => ({ ...valid.dump(), clean: 'true' }),
      'clean',
      /does not apply to dump \(it is for restore, copy, clone\)/,
    ],
  ])('refuses %s', async (_, inputs, input, says) => {
    await expectRejected(inputs(), problem(input, says));
  });

  it('reports every bad input in one message', async () => {
    const message = await expectRejected(
      { ...valid.dump(), format: 'zip', jobs: '0', 'postgres-version': 'banana' },
      /^3 input problems:/,
      problem('format', /"zip"/),
      problem('jobs', /"0"/),
      problem('postgres-version', /"banana"/),
    );
    expect(message.split('\n').filter((line) => line.startsWith('  - '))).toHaveLength(3);
  });

  it('refuses zstd for a PostgreSQL 15 server, whose pg_dump 15 has no zstd, and writes nothing', async () => {
    const dir = freshDir();
    const to = path.join(dir, 'db.dump');
    await expectRejected(
      { command: 'dump', from: connUrl(15), to, compress: 'zstd' },
      problem('compress', /zstd needs pg_dump 16 or newer.*pg_dump 15/),
    );
    expect(existsSync(to)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a directory-format dump into a non-empty directory and leaves it as it was', async () => {
    const to = freshDir();
    writeFileSync(path.join(to, 'keep.txt'), 'precious');
    await expectRejected(
      { command: 'dump', from: connUrl(15), to, format: 'directory' },
      problem('to', /is not an empty directory; the directory format needs a new or empty directory/),
    );
    expect(readdirSync(to)).toEqual(['keep.txt']);
    expect(readdirSync(path.dirname(to)).filter((name) => name.includes(path.basename(to)))).toEqual([
      path.basename(to),
    ]);
  });

  describe('restore from something that is not a readable archive', () => {
    function textFile(): string {
      const file = path.join(freshDir(), 'notes.txt');
      writeFileSync(file, 'shopping list\n- milk\n- eggs\n');
      return file;
    }

    it.each<[string, () => string, (from: string) => RegExp]>([
      [
        'a text file',
        textFile,
        (from) => new RegExp(`${escapeRegExp(from)} is not a PostgreSQL dump: expected`),
      ],
      [
        'a missing path',
        () => path.join(scratch.dir, 'missing.dump'),
        () => problem('from', /does not exist/),
      ],
      [
        'a directory without toc.dat',
        freshDir,
        (from) => new RegExp(`${escapeRegExp(from)} is a directory without toc\\.dat`),
      ],
    ])('refuses %s without touching the target', async (_, make, says) => {
      const from = make();
      const target = uniqueName('bad_input');
      await expectRejected({ command: 'restore', from, to: connUrl(15, target) }, says(from));
      expect(await databaseExists(15, target)).toBe(false);
    });
  });

  // A format no known pg_restore reads is not a dead end (the major that wrote it reads it), but
  // with no such client to be had here it is refused, saying what it needs.
  describe('an archive newer than any pg_restore here can read (format 1.17)', () => {
    async function restoreFuture(): Promise<string> {
      const from = path.join(freshDir(), 'future.dump');
      writeFileSync(from, futureArchive());
      const target = uniqueName('bad_input');
      await expectRejected(
        { command: 'restore', from, to: connUrl(18, target) },
        /no PostgreSQL client of major 19 or newer can be had for restoring into a PostgreSQL 18 server \(the archive, format 1\.17.*, needs pg_restore 19 or newer\)/,
      );
      return target;
    }

    it('is refused, saying it needs pg_restore 19 or newer, which cannot be had', async () => {
      await restoreFuture();
    });

    // Known product bug: the restore creates the missing target database before it finds that no
    // client can read the archive, and leaves it behind. Make this a plain `it` once that is fixed.
    it('leaves no target database behind', async () => {
      const target = await restoreFuture();
      expect(await databaseExists(18, target)).toBe(false);
    });
  });

  describe('with a valid dump', () => {
    const dump = path.join(scratch.dir, 'small.dump');
    beforeAll(async () => {
      const run = await runAction(
        { command: 'dump', from: connUrl(15), to: dump, mirror: mirrorUrl() },
        dirs,
      );
      expect(failure(run)).toBe('(no ::error:: line)');
    });

    it('fails fast on an unreachable target, naming to and host:port but not the password', async () => {
      const port = await freePort();
      const to = `postgres://postgres:${encodeURIComponent(testbed().password)}@127.0.0.1:${port}/x`;
      const started = Date.now();
      await expectRejected(
        { command: 'restore', from: dump, to },
        new RegExp(`^to\\b.*127\\.0\\.0\\.1:${port}`),
        /connection refused/,
      );
      expect(Date.now() - started).toBeLessThan(20_000);
    });
  });
});

/** Writes pg_dump's WriteInt: a sign byte, then four bytes least significant first. */
function int(value: number): Buffer {
  const out = Buffer.alloc(5);
  out[0] = value < 0 ? 1 : 0;
  out.writeUInt32LE(Math.abs(value), 1);
  return out;
}

function str(text: string): Buffer {
  return Buffer.concat([int(Buffer.byteLength(text)), Buffer.from(text)]);
}

/**
 * A custom-format header as a pg_dump of the future might write it: archive version 1.17 (no
 * released pg_restore reads past 1.16), from an 18 server so that it is no downgrade for an 18 target.
 */
function futureArchive(): Buffer {
  const creationTime = [0, 0, 12, 1, 0, 125, 0]; // sec, min, hour, mday, mon, year - 1900, isdst
  return Buffer.concat([
    Buffer.from('PGDMP', 'latin1'),
    Buffer.from([1, 17, 0]), // archive version 1.17.0
    Buffer.from([4, 8, 1]), // intSize, offSize, format: custom
    Buffer.from([0]), // compression: none
    ...creationTime.map(int),
    str('app'),
    str('18.0'),
    str('19.0'),
    int(0), // TOC entries
  ]);
}
