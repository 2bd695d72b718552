import { copyDatabase, type CopyOptions } from '../../core/jobs/copy.js';
import { PgferryError } from '../../core/errors.js';
import { RecordingLogger } from '../../core/log.js';
import type { ClientTools } from '../../core/pg/clients/tools.js';
import { parseConnection } from '../../core/pg/connection.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { databaseProps, scratchesOf } from '../harness/database-state.js';
import { catalog } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';

/**
 * Issue 16: `copy` with jobs > 1 into a new database (or a swap's scratch) streams each table's rows
 * from the source's COPY TO into the target's COPY FROM, in one exported snapshot, with pre-data
 * before and post-data after. Its result must be the one-job copy's: same schema dump, same rows
 * (hostile names, a partitioned table, generated, identity and serial columns, a table with no
 * column to carry, inheritance, large objects, sequence values), and a worker's backend terminated
 * mid-COPY leaves the target as it was.
 */
const LONG = 'é'.repeat(31) + 'x'; // 63 bytes
const LOADING = "coalesce(current_setting('app.loading', true), '') = 'on'";

const SOURCE = `
  SET app.loading = on;
  CREATE SCHEMA "my schema"; CREATE SCHEMA "Ünïcödé 🚀"; CREATE SCHEMA "${LONG}";
  CREATE TABLE "my schema"."t;--" (id int PRIMARY KEY, "va lue" text, "Gen ""d""" int GENERATED ALWAYS AS (id * 2) STORED);
  INSERT INTO "my schema"."t;--" (id, "va lue") SELECT i, md5(i::text) || E'\\ttab\\nnl\\\\' FROM generate_series(1, 30000) i;
  CREATE TABLE "Ünïcödé 🚀"."${LONG}" (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text,
    at timestamptz, d date, f float8, iv interval, b bytea, j jsonb, arr text[]);
  INSERT INTO "Ünïcödé 🚀"."${LONG}" (note, at, d, f, iv, b, j, arr)
    SELECT 'n' || i, '2024-01-02 03:04:05.678+02'::timestamptz + i * interval '1 hour', date '2001-02-03' + i,
           i / 7.0, i * interval '1 minute 3 seconds', decode(md5(i::text), 'hex'), jsonb_build_object('k', i), ARRAY['a', NULL, 'c"d']
      FROM generate_series(1, 3000) i;
  CREATE TABLE public.parted (id int, region text, v numeric) PARTITION BY LIST (region);
  CREATE TABLE public."parted a" PARTITION OF public.parted FOR VALUES IN ('a');
  CREATE TABLE public."parted ""b""" PARTITION OF public.parted FOR VALUES IN ('b') PARTITION BY RANGE (id);
  CREATE TABLE public."parted b low" PARTITION OF public."parted ""b""" FOR VALUES FROM (0) TO (500);
  CREATE TABLE public."parted b high" PARTITION OF public."parted ""b""" FOR VALUES FROM (500) TO (MAXVALUE);
  CREATE TABLE public."parted rest" PARTITION OF public.parted DEFAULT;
  INSERT INTO public.parted SELECT i, (ARRAY['a', 'b', 'z'])[1 + i % 3], i * 1.5 FROM generate_series(1, 3000) i;
  CREATE TABLE public.ser (id serial PRIMARY KEY, v text);
  INSERT INTO public.ser (v) SELECT 'v' || i FROM generate_series(1, 77) i;
  CREATE TABLE public.nothing_to_carry (g int GENERATED ALWAYS AS (7) STORED);
  INSERT INTO public.nothing_to_carry DEFAULT VALUES; INSERT INTO public.nothing_to_carry DEFAULT VALUES;
  CREATE TABLE public.no_columns (); INSERT INTO public.no_columns DEFAULT VALUES;
  CREATE TABLE public.dropped (a int, b text, c int); ALTER TABLE public.dropped DROP COLUMN b;
  INSERT INTO public.dropped VALUES (1, 2), (3, 4);
  CREATE TABLE public.parent (x int); CREATE TABLE public.child (y int) INHERITS (public.parent);
  INSERT INTO public.parent VALUES (1); INSERT INTO public.child VALUES (2, 3);
  CREATE UNLOGGED TABLE public.unlogged (x int); INSERT INTO public.unlogged VALUES (5);
  CREATE TABLE public.refs (id int REFERENCES "my schema"."t;--" (id), n int CHECK (n > 0));
  INSERT INTO public.refs SELECT i, i FROM generate_series(1, 500) i;
  CREATE INDEX "refs n" ON public.refs (n);
  CREATE MATERIALIZED VIEW public.mv AS SELECT count(*) AS n FROM public.refs;
  CREATE SEQUENCE "my schema"."se q"; SELECT setval('"my schema"."se q"', 4242);
  SELECT lo_from_bytea(0, 'a large object'); SELECT lo_from_bytea(0, decode(repeat('ab', 100000), 'hex'));
`;

/** Sleeps in its target COPY (not where the source is built), so its backend can be terminated mid-copy. */
const GATE = `
  CREATE FUNCTION public.gate(int) RETURNS bool LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN
    IF NOT ${LOADING} THEN PERFORM pg_sleep(120); END IF;
    RETURN true; END $$;
  CREATE TABLE public.trap (id int CHECK (public.gate(id))); INSERT INTO public.trap VALUES (1);
`;

type Major = 15 | 18;

function copy(
  from: Major,
  source: string,
  to: Major,
  target: string,
  jobs: number,
  log: RecordingLogger,
  extra: Partial<CopyOptions> = {},
) {
  return copyDatabase({
    from: parseConnection(connUrl(from, source), 'from', {}),
    to: parseConnection(connUrl(to, target), 'to', {}),
    jobs,
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
    ...extra,
  });
}

const messages = (log: RecordingLogger): string => log.lines.map((l) => l.message).join('\n');
const STREAMED = /copying the rows of \d+ table\(s\) with 2 workers/;

async function sequences(major: Major, db: string): Promise<unknown[]> {
  return sql(
    major,
    db,
    `SELECT format('%I.%I', schemaname, sequencename) AS s, last_value FROM pg_sequences ORDER BY 1`,
  );
}

describe.each([
  [15, 18],
  [18, 18],
] as const)('copy with jobs 2, PostgreSQL %i → %i', (from, to) => {
  let source: string;
  let tools: ClientTools;
  beforeAll(async () => {
    source = await createDatabase(from, 'pcopy_src');
    await sql(from, source, SOURCE);
    // The source's own DateStyle must not change how the rows read on the target.
    await sql(from, 'postgres', `ALTER DATABASE ${source} SET DateStyle = 'SQL, DMY'`);
    tools = await catalog().provide({ major: to });
  });

  it('gives the same database as jobs 1', async () => {
    const one = uniqueName('pcopy_one');
    const two = uniqueName('pcopy_two');
    const log = new RecordingLogger();
    await copy(from, source, to, one, 1, new RecordingLogger());
    const result = await copy(from, source, to, two, 2, log);
    expect(messages(log)).toMatch(STREAMED);
    expect(messages(log)).not.toContain('temporary archive');
    expect(result.jobs).toBe(2);
    expect(await schemaOf(tools, to, two)).toEqual(await schemaOf(tools, to, one));
    const hashes = await rowHashes(to, two);
    expect(hashes).toEqual(await rowHashes(to, one));
    expect(Object.keys(hashes).length).toBeGreaterThan(12);
    expect(hashes['public.no_columns']).toMatch(/^1:/);
    expect(hashes['public.nothing_to_carry']).toMatch(/^2:/);
    expect(hashes['(large objects)']).toMatch(/^2:/);
    if (from === to) expect(hashes).toEqual(await rowHashes(from, source));
    expect(await sequences(to, two)).toEqual(await sequences(to, one));
    expect(await sequences(to, two)).toContainEqual({ s: '"my schema"."se q"', last_value: '4242' });
    expect(await databaseProps(to, two)).toEqual(await databaseProps(to, one));
    // The identity and serial columns go on from the source's values.
    const [next] = await sql<{ id: number }>(
      to,
      two,
      `INSERT INTO "Ünïcödé 🚀"."${LONG}" (note) VALUES ('new') RETURNING id`,
    );
    expect(next?.id).toBe(3001);
  });
});

describe('a worker whose backend is terminated mid-COPY (18 → 18)', () => {
  let source: string;
  beforeAll(async () => {
    source = await createDatabase(18, 'pcopy_gate');
    await sql(18, source, SOURCE + GATE);
  });

  /** Terminates the target backend sleeping in the gate, once there is one. */
  async function terminateSleepingCopy(ended: () => boolean): Promise<void> {
    for (;;) {
      if (ended()) throw new Error('the copy ended before its COPY slept in the gate');
      const rows = await sql<{ pid: number }>(
        18,
        'postgres',
        `SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE 'COPY %trap%'`,
      );
      const pid = rows[0]?.pid;
      if (pid !== undefined) {
        await sql(18, 'postgres', `SELECT pg_terminate_backend(${pid})`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function withGateHeld(run: () => Promise<unknown>): Promise<Error> {
    let ended = false;
    const copying = run().finally(() => (ended = true));
    const failed = failureOf(copying);
    await terminateSleepingCopy(() => ended);
    return failed;
  }

  it('into a new database: the database is dropped again', async () => {
    const target = uniqueName('pcopy_killed');
    const log = new RecordingLogger();
    const error = await withGateHeld(() => copy(18, source, 18, target, 2, log));
    expect(error.message).toMatch(/copying the rows of "public"\."trap": .*terminat/i);
    // A failure of the engine's own, told as such (not "unexpected error").
    expect(error).toBeInstanceOf(PgferryError);
    expect(messages(log)).toMatch(STREAMED);
    const left = await sql(18, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${target}'`);
    expect(left).toEqual([]);
  });

  it('replacing a database by swap: the target is as it was, no scratch is left', async () => {
    const target = await createDatabase(18, 'pcopy_swap');
    // The source's objects with rows of its own: a swap keeps its meaning (swap-keeps-meaning.ts).
    await sql(18, target, `${SOURCE}; UPDATE public.ser SET v = 'the target''s own' WHERE id = 1;`);
    const tools = await catalog().provide({ major: 18 });
    const before = [await schemaOf(tools, 18, target), await rowHashes(18, target)];
    const log = new RecordingLogger();
    const error = await withGateHeld(() =>
      copy(18, source, 18, target, 2, log, { clean: true, confirm: target }),
    );
    expect(error.message).toMatch(/terminat/i);
    expect(messages(log)).toMatch(STREAMED);
    expect([await schemaOf(tools, 18, target), await rowHashes(18, target)]).toEqual(before);
    expect(await scratchesOf(18, target)).toEqual([]);
  });
});
