import pg from 'pg';
import { errorCode } from '../../core/errors.js';
import { cloneDatabase, type CloneRequest } from '../../core/jobs/clone/clone.js';
import { RecordingLogger, type Logger } from '../../core/log.js';
import { parseConnection, type ConnectionSpec } from '../../core/pg/connection.js';
import { rowHashes } from '../harness/compare.js';
import { failureOf } from '../harness/failure.js';
import type { ServerMajor } from '../harness/paths.js';
import { connUrl, sql, testbed, uniqueName } from '../harness/testbed.js';

/**
 * clone: copies of a seeded database on its own server, by CREATE DATABASE … TEMPLATE. Every copy
 * holds the template's rows, whatever the names; a session on the template is refused in words,
 * quickly; a copy elsewhere is refused before anything is made; a failure midway (a cancel, a
 * rename the server refuses) drops what the run made and leaves the databases that existed alone;
 * and on 15+ the copies are made by FILE_COPY, which the WAL shows.
 */

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;
// pg's own URL parser decodes with decodeURI, which leaves %2C as it is: a comma stays raw.
const inUrl = (db: string): string => encodeURIComponent(db).replace(/%2C/g, ',');
const spec = (major: ServerMajor, db: string, url = connUrl(major, inUrl(db))): ConnectionSpec =>
  parseConnection(url, 'test', {});

/** A hostile stem made unique per test, padded to PostgreSQL's 63 bytes where asked. */
function hostile(stem: string, bytes?: number): string {
  const name = `${stem} ${uniqueName('x')}`;
  return bytes === undefined ? name : name + 'z'.repeat(bytes - Buffer.byteLength(name));
}

const SEED_SQL = `
  CREATE SCHEMA "my schema";
  CREATE TABLE "my schema"."Order ""Lines""" (id int PRIMARY KEY, note text);
  INSERT INTO "my schema"."Order ""Lines""" SELECT i, 'line ' || i FROM generate_series(1, 3000) i;
  CREATE TABLE public."select" (id int PRIMARY KEY, qty int);
  INSERT INTO public."select" SELECT i, i * 2 FROM generate_series(1, 3000) i;`;

async function databases(major: ServerMajor, names: string[]): Promise<string[]> {
  const rows = await sql<{ datname: string }>(
    major,
    'postgres',
    `SELECT datname FROM pg_database WHERE datname IN (${names.map((n) => `'${n.replace(/'/g, "''")}'`).join(', ')}) ORDER BY 1`,
  );
  return rows.map((r) => r.datname);
}

async function scratchCount(major: ServerMajor): Promise<number> {
  const rows = await sql<{ n: number }>(
    major,
    'postgres',
    `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'pgferry\\_swap\\_%'`,
  );
  return rows[0]?.n ?? 0;
}

async function seeded(major: ServerMajor, stem: string): Promise<string> {
  const name = hostile(stem);
  await sql(major, 'postgres', `CREATE DATABASE ${q(name)}`);
  await sql(major, inUrl(name), SEED_SQL);
  return name;
}

function request(
  major: ServerMajor,
  from: string,
  to: string[],
  more: Partial<CloneRequest> = {},
): CloneRequest {
  return {
    source: spec(major, from),
    copies: to.map((t) => spec(major, t)),
    clean: false,
    confirm: [],
    markTemplate: false,
    log: new RecordingLogger(),
    ...more,
  };
}

describe.each([14, 18] as const)('clone on PostgreSQL %i', (major) => {
  it('makes 4 copies holding the rows of the template, under hostile names (63 bytes too), and marks it', async () => {
    const from = await seeded(major, 'seed "ü" select');
    const to = [hostile('copy one'), hostile('cöpy "2"', 63), hostile('3,three'), hostile('4 😀')];
    expect(Buffer.byteLength(to[1] ?? '')).toBe(63);
    const result = await cloneDatabase(request(major, from, to, { markTemplate: true }));
    expect(result.databases).toEqual(to);
    expect(result.strategy).toBe(major >= 15 ? 'FILE_COPY' : 'copy');
    const expected = await rowHashes(major, inUrl(from));
    expect(Object.keys(expected)).toHaveLength(3);
    for (const copy of to) expect(await rowHashes(major, inUrl(copy))).toEqual(expected);
    const [marked] = await sql<{ datistemplate: boolean }>(
      major,
      'postgres',
      `SELECT datistemplate FROM pg_database WHERE datname = '${from.replace(/'/g, "''")}'`,
    );
    expect(marked?.datistemplate).toBe(true);
  });

  it('refuses, quickly and in words, while another session is connected to the template; makes nothing', async () => {
    const from = await seeded(major, 'busy seed');
    const to = [hostile('busy copy a'), hostile('busy copy b')];
    const worker = new pg.Client({ connectionString: connUrl(major, inUrl(from)) });
    await worker.connect();
    try {
      const started = Date.now();
      const error = await failureOf(cloneDatabase(request(major, from, to)));
      expect(errorCode(error)).toBe('busy');
      expect(error.message).toContain(`from: "${from}"`);
      expect(error.message).toContain('has 1 other session connected');
      expect(error.message).not.toContain(testbed().password);
      // CREATE DATABASE itself would wait 5 s for the session to go, then fail less clearly.
      expect(Date.now() - started).toBeLessThan(4500);
    } finally {
      await worker.end();
    }
    expect(await databases(major, to)).toEqual([]);
  });

  it('a cancel after the second of four copies drops the two it made', async () => {
    const from = await seeded(major, 'cancel seed');
    const to = [1, 2, 3, 4].map((i) => hostile(`cancelled ${i}`));
    const stop = new AbortController();
    const log: Logger = {
      debug() {},
      warn() {},
      info: (message) => {
        if (message.includes('(2/4)')) stop.abort();
      },
    };
    const error = await failureOf(cloneDatabase(request(major, from, to, { log, signal: stop.signal })));
    expect(errorCode(error)).toBe('cancelled');
    expect(await databases(major, to)).toEqual([]);
  });

  it('a replacement the server refuses midway (a copy owned by another role) leaves every database as it was', async () => {
    const cloner = uniqueName('cloner');
    const other = uniqueName('other');
    const password = uniqueName('pw');
    await sql(
      major,
      'postgres',
      `CREATE ROLE ${cloner} LOGIN CREATEDB PASSWORD '${password}'; CREATE ROLE ${other}`,
    );
    const from = hostile('owned seed');
    await sql(major, 'postgres', `CREATE DATABASE ${q(from)} OWNER ${cloner}`);
    await sql(major, inUrl(from), SEED_SQL);
    const fresh = hostile('fresh copy');
    const theirs = hostile('their copy');
    await sql(major, 'postgres', `CREATE DATABASE ${q(theirs)} OWNER ${other}`);
    await sql(major, inUrl(theirs), 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$earlier$$)');
    const before = await rowHashes(major, inUrl(theirs));
    const scratches = await scratchCount(major);
    const as = (db: string) =>
      spec(
        major,
        db,
        `postgres://${cloner}:${password}@127.0.0.1:${new URL(connUrl(major)).port}/${inUrl(db)}`,
      );
    const error = await failureOf(
      cloneDatabase({
        ...request(major, from, []),
        source: as(from),
        copies: [as(fresh), as(theirs)],
        clean: true,
        confirm: [theirs],
      }),
    );
    expect(error.message).toMatch(/must be owner/);
    expect(await databases(major, [fresh])).toEqual([]);
    expect(await rowHashes(major, inUrl(theirs))).toEqual(before);
    expect(await scratchCount(major)).toBe(scratches);
  });

  it('replaces existing copies only with clean and confirm naming each, and then all of them', async () => {
    const from = await seeded(major, 'replace seed');
    const to = [hostile('old a'), hostile('old b')];
    for (const t of to) await sql(major, 'postgres', `CREATE DATABASE ${q(t)}`);
    await sql(major, inUrl(to[0] ?? ''), 'CREATE TABLE stale (id int)');
    const stale = await rowHashes(major, inUrl(to[0] ?? ''));
    const refused = await failureOf(cloneDatabase(request(major, from, to)));
    expect(refused.message).toMatch(/^to: ".*" already exist; to replace them, set clean: true/);
    const half = await failureOf(
      cloneDatabase(request(major, from, to, { clean: true, confirm: [to[0] ?? ''] })),
    );
    expect(half.message).toContain(`confirm: clean replaces "${to[1]}", which confirm does not name`);
    const stray = await failureOf(
      cloneDatabase(request(major, from, to, { clean: true, confirm: [...to, 'prod'] })),
    );
    expect(stray.message).toContain('confirm: "prod" is not an existing copy this clone replaces');
    expect(await rowHashes(major, inUrl(to[0] ?? ''))).toEqual(stale);

    const result = await cloneDatabase(request(major, from, to, { clean: true, confirm: to }));
    expect(result.replaced).toEqual(to);
    const expected = await rowHashes(major, inUrl(from));
    for (const copy of to) expect(await rowHashes(major, inUrl(copy))).toEqual(expected);
  });

  it('two runs into the same new copies at once: one makes them all, the other fails and drops none of them', async () => {
    const from = await seeded(major, 'race seed');
    const to = [hostile('race a'), hostile('race b'), hostile('race c')];
    const runs = await Promise.allSettled([
      cloneDatabase(request(major, from, to)),
      cloneDatabase(request(major, from, to)),
    ]);
    expect(runs.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await databases(major, to)).toEqual([...to].sort());
    const expected = await rowHashes(major, inUrl(from));
    for (const copy of to) expect(await rowHashes(major, inUrl(copy))).toEqual(expected);
  });

  it('refuses a copy on another server, the template as its own copy, and a name given twice', async () => {
    const from = await seeded(major, 'elsewhere seed');
    const near = hostile('near copy');
    const elsewhere = hostile('far copy');
    const otherMajor: ServerMajor = major === 14 ? 18 : 14;
    const error = await failureOf(
      cloneDatabase({
        ...request(major, from, [near]),
        copies: [spec(major, near), spec(otherMajor, elsewhere)],
      }),
    );
    expect(errorCode(error)).toBe('input');
    expect(error.message).toMatch(/^to: postgres@127\.0\.0\.1:\d+\/.* is not on the server of from/);
    expect(await databases(major, [near])).toEqual([]);
    expect(await databases(otherMajor, [elsewhere])).toEqual([]);
    expect((await failureOf(cloneDatabase(request(major, from, [near, from])))).message).toContain(
      'is the database cloned (from)',
    );
    expect((await failureOf(cloneDatabase(request(major, from, [near, near])))).message).toContain(
      'is named more than once',
    );
  });
});

describe('clone on PostgreSQL 15+ copies files rather than WAL-logging every block', () => {
  async function walBytes(major: ServerMajor, work: () => Promise<unknown>): Promise<number> {
    const lsn = async () =>
      (await sql<{ l: string }>(major, 'postgres', 'SELECT pg_current_wal_lsn()::text AS l'))[0]?.l ?? '';
    const start = await lsn();
    await work();
    const end = await lsn();
    const [row] = await sql<{ d: string }>(
      major,
      'postgres',
      `SELECT pg_wal_lsn_diff('${end}', '${start}') AS d`,
    );
    return Number(row?.d);
  }

  it.each([15, 18] as const)(
    'on %i the WAL grows by a fraction of the template, where WAL_LOG writes all of it',
    async (major) => {
      const from = await seeded(major, 'wal seed');
      await sql(
        major,
        inUrl(from),
        `CREATE TABLE big AS SELECT i, repeat('x', 200) AS pad FROM generate_series(1, 60000) i`,
      );
      await sql(major, 'postgres', 'CHECKPOINT');
      const [size] = await sql<{ b: string }>(major, 'postgres', `SELECT pg_database_size('${from}') AS b`);
      const bytes = Number(size?.b);
      expect(bytes).toBeGreaterThan(15_000_000);
      // The measure can tell the two apart: WAL_LOG, asked for by hand, writes at least the data.
      const logged = hostile('wal logged');
      const byWal = await walBytes(major, () =>
        sql(major, 'postgres', `CREATE DATABASE ${q(logged)} TEMPLATE ${q(from)} STRATEGY = WAL_LOG`),
      );
      expect(byWal).toBeGreaterThan(bytes * 0.8);
      const copy = hostile('file copied');
      const byClone = await walBytes(major, () => cloneDatabase(request(major, from, [copy])));
      expect(byClone).toBeLessThan(bytes * 0.1);
    },
  );
});
