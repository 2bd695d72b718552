import { readdirSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { copyDatabase } from '../../core/jobs/copy.js';
import { dumpToPath } from '../../core/jobs/dump.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { InputError } from '../../core/errors.js';
import { RecordingLogger } from '../../core/log.js';
import type { ClientTools } from '../../core/pg/clients/tools.js';
import { parseConnection } from '../../core/pg/connection.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { catalog, dumpFile, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, sql } from '../harness/testbed.js';

/**
 * Issue 12: a restore with `jobs: 2` into a database that existed before runs in several
 * transactions; when it fails, pgferry drops exactly what it made and nothing that was there. The
 * target holds its own schemas, tables, functions, types, policies, rules, triggers, large objects
 * and default privileges, with names that look like the archive's (`my` beside `my schema`, an
 * overload of the archive's function, a 63-byte name one letter apart). Each failure below is a
 * real one: a row breaking a CHECK in the data phase, a unique index that cannot be built, a
 * truncated directory archive, a pg_restore backend terminated mid-COPY, and a post-data-only
 * restore onto tables that were there. Afterwards the target's schema dump and row hashes are what
 * they were.
 */
const MAJORS = [14, 18] as const;
type Major = (typeof MAJORS)[number];

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

const LONG = 'é'.repeat(31); // + one letter: 63 bytes
/** `app.loading` is on only where the source is built: there the traps let everything through. */
const LOADING = "coalesce(current_setting('app.loading', true), '') = 'on'";

const SOURCE = `
  SET app.loading = on;
  CREATE EXTENSION hstore;
  CREATE SCHEMA "my schema"; CREATE SCHEMA "Ünïcödé 🚀"; CREATE SCHEMA "select"; CREATE SCHEMA "${LONG}x";
  CREATE TABLE "my schema"."t;--" (id int PRIMARY KEY, "va lue" text, h hstore);
  INSERT INTO "my schema"."t;--" SELECT i, md5(i::text), hstore('k', i::text) FROM generate_series(1, 20000) i;
  CREATE TABLE "Ünïcödé 🚀"."TABLE DATA" (id int REFERENCES "my schema"."t;--", note text);
  INSERT INTO "Ünïcödé 🚀"."TABLE DATA" SELECT i, 'n' || i FROM generate_series(1, 3000) i;
  CREATE TABLE "${LONG}x".t (id int);
  CREATE TABLE public."pub t" (id serial PRIMARY KEY, v text NOT NULL);
  INSERT INTO public."pub t" (v) SELECT 'v' || i FROM generate_series(1, 500) i;
  CREATE INDEX "pub t v" ON public."pub t" (v);
  CREATE TYPE "my schema".mood AS ENUM ('sad', 'ok');
  CREATE DOMAIN public."pos it" AS int CHECK (VALUE > 0);
  CREATE TYPE public.pair AS (a int, b text);
  CREATE FUNCTION public."f""n"(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1 $$;
  CREATE FUNCTION public."order"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
  CREATE PROCEDURE public.proc() LANGUAGE sql AS $$ SELECT 1 $$;
  CREATE AGGREGATE public.mysum(int) (sfunc = int4pl, stype = int);
  CREATE OPERATOR public.=== (leftarg = int, rightarg = int, function = int4eq);
  CREATE COLLATION public."co ll" (provider = libc, locale = 'C');
  CREATE TEXT SEARCH CONFIGURATION public."ts cfg" (COPY = pg_catalog.simple);
  CREATE SEQUENCE "select".seq;
  CREATE VIEW public.v AS SELECT id, v FROM public."pub t";
  CREATE RULE "no insert" AS ON INSERT TO public.v DO INSTEAD NOTHING;
  CREATE MATERIALIZED VIEW "select".mv AS SELECT count(*) AS n FROM public."pub t";
  CREATE STATISTICS public.st ON id, v FROM public."pub t";
  CREATE TRIGGER "on insert" BEFORE INSERT ON public."pub t" FOR EACH ROW EXECUTE FUNCTION public."order"();
  ALTER TABLE public."pub t" ENABLE ROW LEVEL SECURITY;
  CREATE POLICY "all rows" ON public."pub t" USING (true);
  CREATE FOREIGN DATA WRAPPER "w r"; CREATE SERVER "s v" FOREIGN DATA WRAPPER "w r";
  CREATE USER MAPPING FOR postgres SERVER "s v";
  CREATE PUBLICATION "pub lication" FOR TABLE public."pub t";
  CREATE ACCESS METHOD "heap 2" TYPE TABLE HANDLER heap_tableam_handler;
  CREATE CAST (public.pair AS text) WITH INOUT;
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC;
  SELECT lo_from_bytea(0, 'the archive''s large object');
  COMMENT ON TABLE "my schema"."t;--" IS 'from the archive';
`;

/** Each a table of its own whose restore fails outside the source (app.loading is off there). */
const TRAPS = {
  row: `CREATE FUNCTION public.row_ok(int) RETURNS bool LANGUAGE sql IMMUTABLE AS $$ SELECT $1 < 1000 OR ${LOADING} $$;
        CREATE TABLE public.trap (id int CHECK (public.row_ok(id))); INSERT INTO public.trap VALUES (1), (5000);`,
  index: `CREATE FUNCTION public.key_of(int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN ${LOADING} THEN $1 ELSE 0 END $$;
          CREATE TABLE public.trap (id int); INSERT INTO public.trap VALUES (1), (2);
          CREATE UNIQUE INDEX "trap key" ON public.trap (public.key_of(id));`,
  // Holds its COPY on an advisory lock the test holds, so that its backend can be terminated mid-restore.
  gate: `CREATE FUNCTION public.gate(int) RETURNS bool LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN
           IF NOT ${LOADING} THEN PERFORM pg_advisory_lock_shared(4242); PERFORM pg_advisory_unlock_shared(4242); END IF;
           RETURN true; END $$;
         CREATE TABLE public.trap (id int CHECK (public.gate(id))); INSERT INTO public.trap VALUES (1);`,
  none: '',
};

/** The target's own objects, named like the archive's, that every undo must leave alone. */
const EXISTING = `
  CREATE EXTENSION citext;
  CREATE SCHEMA "my"; CREATE SCHEMA "my schema "; CREATE SCHEMA "Select"; CREATE SCHEMA "${LONG}y";
  CREATE TABLE "my".t (id int PRIMARY KEY, v citext); INSERT INTO "my".t SELECT i, 'mine ' || i FROM generate_series(1, 300) i;
  CREATE TABLE "my"."schema t" (id int); INSERT INTO "my"."schema t" VALUES (7);
  CREATE TABLE "my schema ".t (id int); CREATE TABLE "${LONG}y".t (id int); INSERT INTO "${LONG}y".t VALUES (63);
  CREATE TABLE public."pub t " (id int PRIMARY KEY, v text); INSERT INTO public."pub t " VALUES (1, 'kept');
  CREATE TABLE public."TABLE DATA" (id int); INSERT INTO public."TABLE DATA" VALUES (2);
  CREATE FUNCTION public."f""n"(x text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT x || '!' $$;
  CREATE FUNCTION public.keep_trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
  CREATE TRIGGER "on insert" BEFORE INSERT ON public."pub t " FOR EACH ROW EXECUTE FUNCTION public.keep_trg();
  CREATE POLICY "all rows" ON public."pub t " USING (true);
  CREATE VIEW "my".v AS SELECT * FROM "my".t;
  CREATE RULE "no insert" AS ON INSERT TO "my".v DO INSTEAD NOTHING;
  CREATE TYPE public."pair " AS (a int);
  CREATE SEQUENCE "Select".seq;
  CREATE OPERATOR public.=== (leftarg = text, rightarg = text, function = texteq);
  ALTER DEFAULT PRIVILEGES IN SCHEMA "my" GRANT SELECT ON TABLES TO PUBLIC;
  SELECT lo_from_bytea(0, 'the target''s own large object');
  COMMENT ON TABLE "my".t IS 'the target''s own';
`;

interface Fixture {
  tools: ClientTools;
  archives: Record<keyof typeof TRAPS, string>;
  /** The databases the archives were dumped from, for copies. */
  sources: Record<keyof typeof TRAPS, string>;
  truncatedDir: string;
}

async function fixture(major: Major): Promise<Fixture> {
  const tools = await catalog().provide({ major: major === 14 ? 15 : major });
  const archives = {} as Record<keyof typeof TRAPS, string>;
  const sources = {} as Record<keyof typeof TRAPS, string>;
  for (const [name, trap] of Object.entries(TRAPS) as [keyof typeof TRAPS, string][]) {
    const source = await createDatabase(major, `undo_src_${name}`);
    await sql(major, source, SOURCE + trap);
    sources[name] = source;
    archives[name] = await dumpFile(major, source, path.join(scratch.dir, `${major}-${name}.dump`));
  }
  const source = await createDatabase(major, 'undo_src_dir');
  await sql(major, source, SOURCE);
  // gzip: pgferry refuses a cut lz4, zstd or plain data file before anything is restored
  // (test/integration/directory-truncated.test.ts); a cut gzip file is met by pg_restore in the data
  // phase, which is what this archive is for: a failure half-way through, and its undo.
  const truncatedDir = await dumpFile(major, source, path.join(scratch.dir, `${major}-dir`), 'directory', {
    algorithm: 'gzip',
    level: 1,
  });
  // The largest table's data file, cut in half: pg_restore reads it in the data phase.
  const largest = readdirSync(truncatedDir)
    .filter((f) => /^\d+\.dat/.test(f))
    .map((f) => path.join(truncatedDir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!largest) throw new Error('the directory archive has no data files');
  truncateSync(largest, Math.floor(statSync(largest).size / 2));
  return { tools, archives, sources, truncatedDir };
}

async function existingTarget(major: Major): Promise<string> {
  const db = await createDatabase(major, 'undo_dst');
  await sql(major, db, EXISTING);
  return db;
}

async function stateOf(
  tools: ClientTools,
  major: Major,
  db: string,
): Promise<[string, Record<string, string>]> {
  return [await schemaOf(tools, major, db), await rowHashes(major, db)];
}

function restore(
  major: Major,
  from: string,
  db: string,
  jobs: number | 'auto',
  extra: { extraArgs?: readonly string[]; dataOnly?: boolean } = {},
  log = new RecordingLogger(),
) {
  return restoreFromPath({
    from,
    to: parseConnection(connUrl(major, db), 'to', {}),
    jobs,
    confirm: db,
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
    ...(extra.dataOnly ? { dataOnly: true } : {}),
    ...(extra.extraArgs ? { extraArgs: [...extra.extraArgs] } : {}),
  });
}

/** The number of objects the undo said it dropped: never zero, or nothing was tested. */
function droppedCount(error: Error): number {
  const m = /the (\d+) objects this restore had made were dropped; the database is as it was/.exec(
    error.message,
  );
  if (!m) throw new Error(`the failure does not say the database is as it was:\n${error.message}`);
  return Number(m[1]);
}

/** Terminates the pg_restore backend that waits on the test's advisory lock, once there is one. */
async function terminateWaitingCopy(
  major: Major,
  db: string,
  holder: pg.Client,
  restoreEnded: () => boolean,
): Promise<void> {
  for (;;) {
    if (restoreEnded()) throw new Error('the restore ended before its COPY waited on the lock');
    const rows = await sql<{ pid: number }>(
      major,
      'postgres',
      `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
       WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = '${db}'`,
    );
    const pid = rows[0]?.pid;
    if (pid !== undefined) {
      await sql(major, 'postgres', `SELECT pg_terminate_backend(${pid})`);
      await holder.query('SELECT pg_advisory_unlock(4242)');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(MAJORS)('jobs: 2 into an existing database on PostgreSQL %i', (major) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture(major);
  });

  it.each([
    ['a row breaking a CHECK in the data phase', 'row', /violates check constraint/],
    ['a unique index that cannot be built in post-data', 'index', /could not create unique index/],
  ] as const)('%s: everything it made is dropped, nothing else', async (_what, trap, cause) => {
    const db = await existingTarget(major);
    const before = await stateOf(f.tools, major, db);
    const log = new RecordingLogger();
    const error = await failureOf(restore(major, f.archives[trap], db, 2, {}, log));
    expect(error.message).toMatch(cause);
    expect(droppedCount(error)).toBeGreaterThan(10);
    expect(log.lines.map((l) => l.message).join('\n')).toContain(
      '2 jobs into a database that existed before',
    );
    expect(await stateOf(f.tools, major, db)).toEqual(before);
  });

  it('a copy with 2 jobs whose data breaks a CHECK: everything it made is dropped, nothing else', async () => {
    const db = await existingTarget(major);
    const before = await stateOf(f.tools, major, db);
    const log = new RecordingLogger();
    const error = await failureOf(
      copyDatabase({
        from: parseConnection(connUrl(major, f.sources.row), 'from', {}),
        to: parseConnection(connUrl(major, db), 'to', {}),
        jobs: 2,
        confirm: db,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      }),
    );
    expect(error.message).toMatch(/violates check constraint/);
    expect(droppedCount(error)).toBeGreaterThan(10);
    expect(await stateOf(f.tools, major, db)).toEqual(before);
  });

  it('a truncated directory archive: everything it made is dropped', async () => {
    const db = await existingTarget(major);
    const before = await stateOf(f.tools, major, db);
    const error = await failureOf(restore(major, f.truncatedDir, db, 2));
    expect(droppedCount(error)).toBeGreaterThan(10);
    expect(await stateOf(f.tools, major, db)).toEqual(before);
  });

  it('a pg_restore backend terminated mid-COPY: everything it made is dropped', async () => {
    const db = await existingTarget(major);
    const before = await stateOf(f.tools, major, db);
    const holder = new pg.Client({ connectionString: connUrl(major, db) });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(4242)');
      let ended = false;
      const failed = failureOf(restore(major, f.archives.gate, db, 2).finally(() => (ended = true)));
      await terminateWaitingCopy(major, db, holder, () => ended);
      const error = await failed;
      expect(error.message).toMatch(/terminat/);
      expect(droppedCount(error)).toBeGreaterThan(10);
    } finally {
      await holder.end();
    }
    expect(await stateOf(f.tools, major, db)).toEqual(before);
  });

  it('post-data only, onto tables that were there: its indexes, triggers, rules and policies go, the tables stay', async () => {
    const db = await existingTarget(major);
    await restore(major, f.archives.index, db, 1, { extraArgs: ['--section=pre-data', '--section=data'] });
    // Populated as post-data would, so that its rows can be hashed; the failing restore never gets there.
    await sql(major, db, 'REFRESH MATERIALIZED VIEW "select".mv');
    const before = await stateOf(f.tools, major, db);
    const error = await failureOf(
      restore(major, f.archives.index, db, 2, { extraArgs: ['--section=post-data'] }),
    );
    expect(error.message).toMatch(/could not create unique index/);
    expect(droppedCount(error)).toBeGreaterThan(0);
    expect(await stateOf(f.tools, major, db)).toEqual(before);
  });

  it.each([
    ['data-only', { dataOnly: true }],
    ['extra-args -a', { extraArgs: ['-a'] }],
    ['extra-args --section=data', { extraArgs: ['--section', 'data'] }],
  ] as const)(
    'refuses %s rows into existing tables with 2 jobs, naming jobs, touching nothing',
    async (_what, extra) => {
      const db = await existingTarget(major);
      const before = await stateOf(f.tools, major, db);
      const error = await failureOf(restore(major, f.archives.none, db, 2, extra));
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toMatch(/^jobs: 2 jobs cannot restore rows into tables that existed before/);
      expect(error.message).toContain('give jobs: 1');
      expect(await stateOf(f.tools, major, db)).toEqual(before);
    },
  );

  it('refuses a data-only archive with 2 jobs', async () => {
    const source = await createDatabase(major, 'undo_src_rows');
    await sql(major, source, 'CREATE TABLE public.rows (id int); INSERT INTO public.rows VALUES (1)');
    const file = path.join(scratch.dir, `${major}-rows.dump`);
    const log = new RecordingLogger();
    await dumpToPath({
      from: parseConnection(connUrl(major, source), 'from', {}),
      to: file,
      format: 'custom',
      compress: 'auto',
      jobs: 1,
      dataOnly: true,
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    const db = await existingTarget(major);
    await sql(major, db, 'CREATE TABLE public.rows (id int)');
    const before = await stateOf(f.tools, major, db);
    const error = await failureOf(restore(major, file, db, 2));
    expect(error.message).toMatch(/^jobs: .*the archive holds the rows of public\.rows but not the table/);
    expect(await stateOf(f.tools, major, db)).toEqual(before);
  });

  it('succeeding, is identical to a one-job restore', async () => {
    const parallel = await existingTarget(major);
    const single = await existingTarget(major);
    expect((await restore(major, f.archives.none, parallel, 2)).jobs).toBe(2);
    expect((await restore(major, f.archives.none, single, 1)).jobs).toBe(1);
    const [schemaP, rowsP] = await stateOf(f.tools, major, parallel);
    const [schemaS, rowsS] = await stateOf(f.tools, major, single);
    expect(schemaP).toEqual(schemaS);
    // Each target's own large object got an oid of its own; the archive's keep theirs.
    const withoutOids = (rows: Record<string, string>) => ({
      ...rows,
      '(large objects)': rows['(large objects)']?.split(':')[0],
    });
    expect(withoutOids(rowsP)).toEqual(withoutOids(rowsS));
    expect(Object.keys(rowsP)).toContain('"my schema"."t;--"');
  });
});
