import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { copyDatabase } from '../../core/jobs/copy.js';
import { restoreFromPath, type RestoreOptions } from '../../core/jobs/restore.js';
import { loadMaskingRules, parseMaskingRules } from '../../core/masking/rules.js';
import type { ClientTools } from '../../core/pg/clients/tools.js';
import { parseConnection } from '../../core/pg/connection.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { needlesInDataDir } from '../harness/data-dir-grep.js';
import { catalog, dumpFile, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, server, sql, uniqueName } from '../harness/testbed.js';

/**
 * Masking with several jobs into a database this run makes (new, or a swap's scratch): pre-data,
 * then the data by workers that each mask their share of the tables, then post-data with
 * pg_restore -j. Masking is deterministic, so jobs 2 must give exactly what jobs 1 gives — rows,
 * schema, sequence values, large objects — and a failure in one worker leaves the target as it was.
 */

const SOURCE = 16;
const TARGET = 17;
const KEY = 'parallel-key';
const token = randomBytes(6).toString('hex');
const scratch = scratchDir();
const LONG = 'T'.repeat(40) + 'ä'.repeat(11); // 62 bytes, with a two-byte character at the end
let sourceDb: string;
let custom: string;
let directory: string;
let tools: ClientTools;

/** The rules, with the rule of users.email as given. */
const rulesText = (usersEmail = 'email') => `columns:
  public.users.email: ${usersEmail}
  public.users.full_name: name
  public.users.id: { hash: { keep-format: true } }
  public.orders.user_id: { hash: { keep-format: true } }
  public.big.email: email
  '"Order Notes"."line ""1"""."ünï"': { constant: redacted }
  'public."${LONG}".secret': { hash: { keep-format: true } }
tables:
  public.audit: truncate
`;

beforeAll(async () => {
  tools = await catalog().provide({ major: TARGET });
  sourceDb = await createDatabase(SOURCE, 'pii');
  await sql(
    SOURCE,
    sourceDb,
    `CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE, full_name text);
     CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users, total numeric);
     CREATE TABLE audit (at timestamptz, who text);
     CREATE TABLE big (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text, pad text);
     CREATE SCHEMA "Order Notes";
     CREATE TABLE "Order Notes"."line ""1""" (id int, "ünï" text, plain text);
     CREATE TABLE "${LONG}" (secret text, n int);
     CREATE SEQUENCE counter START 5;
     SELECT setval('counter', 4242);
     INSERT INTO users SELECT i, 'p' || i || '.${token}@corp.test', 'Zed${token}' || i FROM generate_series(1, 400) i;
     INSERT INTO orders (user_id, total) SELECT 1 + i % 400, i FROM generate_series(1, 1200) i;
     INSERT INTO audit SELECT now(), 'audit${token}' || i FROM generate_series(1, 50) i;
     INSERT INTO big (email, pad) SELECT 'b' || i || '.${token}@corp.test', repeat('x', 60) FROM generate_series(1, 200000) i;
     INSERT INTO "Order Notes"."line ""1""" SELECT i, 'note${token}' || i || E'\\n\\\\', 'kept' || i FROM generate_series(1, 30) i;
     INSERT INTO "${LONG}" SELECT 's${token}' || i, i FROM generate_series(1, 77) i;
     SELECT lo_from_bytea(0, convert_to('large object ' || i, 'UTF8')) FROM generate_series(1, 3) i;`,
  );
  custom = await dumpFile(SOURCE, sourceDb, path.join(scratch.dir, 'pii.dump'));
  directory = await dumpFile(SOURCE, sourceDb, path.join(scratch.dir, 'pii.dir'), 'directory');
});

afterAll(() => scratch.cleanup());

const hooks = () => {
  const log = new RecordingLogger();
  return { postgresVersion: { kind: 'auto' as const }, catalog: catalog(log), log };
};
const to = (db: string) => parseConnection(connUrl(TARGET, db), 'to', {});
const rules = (usersEmail?: string) => parseMaskingRules(rulesText(usersEmail), 'rules.yml', KEY);
/** The leak check's results in column order (each worker taps its tables as they come). */
const byColumn = (r: { leakCheck?: { column: string }[] } | undefined) =>
  [...(r?.leakCheck ?? [])].sort((a, b) => a.column.localeCompare(b.column));

/** Everything a restore put into the database: schema, rows and large objects, sequence values. */
async function contentsOf(db: string) {
  const sequences = await sql<{ name: string; last: string }>(
    TARGET,
    db,
    `SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS last FROM pg_sequences ORDER BY 1`,
  );
  return { schema: await schemaOf(tools, TARGET, db), rows: await rowHashes(TARGET, db), sequences };
}

/** pg_restore processes of this process's own restoring a share of the data (`--section=data`). */
function dataWorkers(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const ppid = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1];
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return (
          Number(ppid) === process.pid &&
          argv.includes('--section=data') &&
          argv.some((a) => a.startsWith('--use-list='))
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function databaseExists(db: string): Promise<boolean> {
  const rows = await sql(TARGET, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${db}'`);
  return rows.length > 0;
}

const restore = (db: string, jobs: number, extra: Partial<RestoreOptions> = {}) =>
  restoreFromPath({ from: custom, to: to(db), jobs, maskingRules: rules(), ...hooks(), ...extra });

test.each(['custom', 'directory'] as const)(
  'a %s archive restored with jobs 2 into a new database gives exactly what jobs 1 gives',
  async (format) => {
    const from = format === 'custom' ? custom : directory;
    const one = uniqueName('one');
    const two = uniqueName('two');
    const log = new RecordingLogger();
    const serial = await restore(one, 1, { from });
    const parallel = await restore(two, 2, { from, log, catalog: catalog(log) });
    expect(serial).toMatchObject({ path: 'script', jobs: 1 });
    expect(parallel).toMatchObject({ path: 'pg_restore', jobs: 2, createdDatabase: true });
    expect(log.lines.map((l) => l.message).join('\n')).toContain(
      'masked on their way through one script per job',
    );
    expect(parallel.masked).toEqual(serial.masked);
    expect(parallel.masked?.get('public.big')).toStrictEqual({
      masked: 200000,
      truncated: 0,
      kept: 200000,
      filtered: 0,
    });
    expect(parallel.masked?.get('public.audit')).toStrictEqual({
      masked: 0,
      truncated: 50,
      kept: 0,
      filtered: 0,
    });
    expect(byColumn(parallel)).toEqual(byColumn(serial));
    expect(parallel.leakCheck?.length).toBe(6);
    const contents = await contentsOf(two);
    expect(contents).toEqual(await contentsOf(one));
    expect(contents.rows['public.users']).toMatch(/^400:/);
    expect(contents.rows['public.audit']).toBe('0:d41d8cd98f00b204e9800998ecf8427e');
    expect(contents.rows['(large objects)']).toMatch(/^3:/);
    expect(contents.sequences).toEqual([
      { name: 'public.big_id_seq', last: '200000' },
      { name: 'public.counter', last: '4242' },
      { name: 'public.orders_id_seq', last: '1200' },
    ]);
    // Masked, not copied: no raw value in the target's files (heap, indexes, WAL).
    await sql(TARGET, two, 'CHECKPOINT');
    expect([...needlesInDataDir(server(TARGET).dataDir, [token])]).toEqual([]);
  },
);

test('a clean restore with jobs 2 builds the scratch in parallel and swaps it in, as jobs 1 does', async () => {
  const results = [];
  const contents = [];
  for (const jobs of [1, 2]) {
    const db = await createDatabase(TARGET, 'staging');
    await sql(TARGET, db, 'CREATE TABLE previous (id int); INSERT INTO previous VALUES (1)');
    results.push(await restore(db, jobs, { clean: true, confirm: db, swap: 'always' }));
    contents.push(await contentsOf(db));
  }
  expect(results.map((r) => [r.jobs, r.swapped, r.path])).toEqual([
    [1, true, 'script'],
    [2, true, 'pg_restore'],
  ]);
  expect(contents[1]).toEqual(contents[0]);
  expect(byColumn(results[1])).toEqual(byColumn(results[0]));
});

test('into a database that was there before, jobs 2 masks through one script and says why', async () => {
  const db = await createDatabase(TARGET, 'staging');
  const log = new RecordingLogger();
  const result = await restore(db, 2, { log, catalog: catalog(log) });
  expect(result).toMatchObject({ path: 'script', jobs: 1 });
  expect(log.lines.map((l) => l.message).join('\n')).toContain(
    'masking-rules: the rows are masked on their way through one script, with one job (the target database existed before this restore',
  );
});

test('a masked copy with jobs 2 into a new database gives what jobs 1 gives', async () => {
  const targets = [uniqueName('copy1'), uniqueName('copy2')];
  const results = [];
  for (const [i, target] of targets.entries())
    results.push(
      await copyDatabase({
        from: parseConnection(connUrl(SOURCE, sourceDb), 'from', {}),
        to: to(target),
        jobs: i + 1,
        maskingRules: rules(),
        ...hooks(),
      }),
    );
  expect(results.map((r) => [r.jobs, r.streamed])).toEqual([
    [1, true],
    [2, false],
  ]);
  expect(results[1]?.masked).toEqual(results[0]?.masked);
  expect(byColumn(results[1])).toEqual(byColumn(results[0]));
  expect(await contentsOf(targets[1] as string)).toEqual(await contentsOf(targets[0] as string));
});

describe('a failure in one worker', () => {
  // A constant on a UNIQUE column: the second masked row of users breaks the constraint in its worker.
  const broken = () => rules('{ constant: same@example.com }');

  test('a bad row drops the new database', async () => {
    const db = uniqueName('bad');
    const error = await failureOf(restore(db, 2, { maskingRules: broken() }));
    expect(error.message).toMatch(/users_email_key.*is duplicated/s);
    expect(await databaseExists(db)).toBe(false);
  });

  test('a bad row in a swap leaves the original untouched', async () => {
    const db = await createDatabase(TARGET, 'staging');
    await sql(TARGET, db, 'CREATE TABLE previous (id int); INSERT INTO previous VALUES (1), (2)');
    const before = await contentsOf(db);
    const error = await failureOf(
      restore(db, 2, { clean: true, confirm: db, swap: 'always', maskingRules: broken() }),
    );
    expect(error.message).toMatch(/users_email_key.*is duplicated/s);
    expect(await contentsOf(db)).toEqual(before);
  });

  test('a data worker killed mid-stream stops the others and drops the new database', async () => {
    const db = uniqueName('killed');
    const running = restore(db, 2);
    let killed: number | undefined;
    const firstSeen = new Map<number, number>();
    // The data workers' pg_restore processes are this process's own children; the one streaming
    // longest (the big table's) is killed once it has run for a while.
    for (let tries = 0; tries < 3000 && killed === undefined; tries++) {
      for (const pid of dataWorkers()) {
        const since = firstSeen.get(pid) ?? Date.now();
        firstSeen.set(pid, since);
        if (Date.now() - since > 300) {
          process.kill(pid, 'SIGKILL');
          killed = pid;
          break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const error = await failureOf(running);
    expect(killed).toBeDefined();
    expect(error.message).toMatch(/^pg_restore/);
    expect(await databaseExists(db)).toBe(false);
  });

  test('a leak check that fails with jobs 2 fails as with jobs 1, and drops the new database', async () => {
    const file = path.join(scratch.dir, 'leaky.yml');
    writeFileSync(file, rulesText('{ regex: { pattern: "^nomatch", replace: "x" } }'));
    const messages = [];
    for (const jobs of [1, 2]) {
      const db = uniqueName('leaky');
      const error = await failureOf(restore(db, jobs, { maskingRules: await loadMaskingRules(file, KEY) }));
      messages.push(error.message);
      expect(await databaseExists(db)).toBe(false);
    }
    expect(messages[0]).toBe(
      'leak check: public.users.email (regex) holds 400 value(s) of the source; the masking rules do not mask what they claim to (values are not shown)',
    );
    expect(messages[1]).toBe(messages[0]);
  });
});
