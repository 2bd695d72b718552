import pg from 'pg';
import type { ClientTools } from '../../core/pg/clients/tools.js';
import { scratchStem } from '../../core/pg/scratch-database.js';
import { rowHashes, schemaOf } from './compare.js';
import { databaseProps, scratchesOf } from './database-state.js';
import type { ServerMajor } from './paths.js';
import { connUrl, createDatabase, sql } from './testbed.js';

/**
 * What "the target is as it was" means for the replace-by-swap tests, and the faults they inject:
 * a target's state (schema dump, row hashes, its database-level properties), the scratch databases
 * a swap into it may leave, and sources whose restore breaks or lingers at a known stage.
 */

export interface TargetState {
  schema: string;
  rows: Record<string, string>;
  props: unknown;
}

/** Schema dump, row hashes, and the database's comment, grants, connection limit and settings. */
export async function stateOf(tools: ClientTools, major: ServerMajor, db: string): Promise<TargetState> {
  const props = await databaseProps(major, db);
  return { schema: await schemaOf(tools, major, db), rows: await rowHashes(major, db), props };
}

export { scratchesOf };

/** The source of the swap tests (and, changed since, its earlier copy on the target): a few thousand rows. */
export const SOURCE_SQL = `
  CREATE SCHEMA "my schema";
  CREATE TABLE "my schema"."Order Lines" (id int PRIMARY KEY, note text);
  INSERT INTO "my schema"."Order Lines" SELECT i, 'line ' || i FROM generate_series(1, 2000) i;
  CREATE TABLE public.items (id int PRIMARY KEY, qty int CHECK (qty >= 0), note text);
  INSERT INTO public.items SELECT i, i, md5(i::text) FROM generate_series(1, 3000) i;
  CREATE INDEX ON public.items (qty);
  CREATE VIEW public.big_items AS SELECT id FROM public.items WHERE qty > 100;`;

/**
 * Added to a source, makes its restore fail in the data phase: a CHECK whose function changed after
 * the rows went in (`public.checked`).
 */
export const VIOLATING_SQL = `
  CREATE FUNCTION public.qty_ok(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
  CREATE TABLE public.checked (id int PRIMARY KEY, qty int CHECK (public.qty_ok(qty)));
  INSERT INTO public.checked SELECT i, -i FROM generate_series(1, 100) i;
  CREATE OR REPLACE FUNCTION public.qty_ok(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 >= 0';`;

/**
 * A table whose rows load slowly (its CHECK sleeps 10 ms a row, about a second for the table): a
 * restore holding `COPY public.slow` is a restore caught mid-data, without racing a fast COPY.
 */
export const SLOW_TABLE_SQL = `
  CREATE FUNCTION public.pause_ok(int) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM pg_sleep(0.01); RETURN true; END$$;
  CREATE TABLE public.slow (id int PRIMARY KEY CHECK (public.pause_ok(id)));
  INSERT INTO public.slow SELECT generate_series(1, 100);`;

/** Sessions loading the slow table into one of `db`'s scratch databases right now. */
// pg_restore's COPY, or a parallel copy worker's (copy-parallel.ts, identifiers always quoted).
const LOADING_SLOW = (db: string) =>
  `FROM pg_stat_activity WHERE left(datname, ${scratchStem(db).length}) = '${scratchStem(db)}'
     AND state = 'active' AND (query LIKE 'COPY public.slow %' OR query LIKE 'COPY "public"."slow" %')`;

/** Sessions (other than the asker's) on any of `db`'s scratch databases. */
export async function sessionsOnScratch(major: ServerMajor, db: string): Promise<number> {
  const stem = scratchStem(db);
  const rows = await sql<{ n: number }>(
    major,
    'postgres',
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE left(datname, ${stem.length}) = '${stem}' AND pid <> pg_backend_pid()`,
  );
  return rows[0]?.n ?? 0;
}

/**
 * One session on the server's maintenance database that watches `db`'s scratch databases: kept
 * open, so that each look costs a query, not a connection (the slow load lasts about a second, and a
 * loaded machine is slow to connect).
 */
export class ScratchWatch {
  private constructor(
    private readonly client: pg.Client,
    private readonly db: string,
  ) {}

  static async open(major: ServerMajor, db: string): Promise<ScratchWatch> {
    const client = new pg.Client({ connectionString: connUrl(major, 'postgres') });
    client.on('error', () => {});
    await client.connect();
    return new ScratchWatch(client, db);
  }

  /** The client ports (TCP) of the sessions loading the slow table right now; none when it is not. */
  async loaderPorts(): Promise<number[]> {
    const { rows } = await this.client.query<{ port: number }>(
      `SELECT client_port AS port ${LOADING_SLOW(this.db)}`,
    );
    return rows.map((r) => r.port);
  }

  /** While the slow table is loading, ends every client session on the scratch databases; how many. */
  async terminateIfLoading(): Promise<number> {
    const stem = scratchStem(this.db);
    const { rows } = await this.client.query<{ n: number }>(
      `WITH loading AS (SELECT 1 ${LOADING_SLOW(this.db)})
       SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE EXISTS (SELECT 1 FROM loading) AND left(datname, ${stem.length}) = '${stem}'
          AND backend_type = 'client backend'`,
    );
    return rows[0]?.n ?? 0;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}

/**
 * Watches `db`'s scratch databases; once the slow table is loading there, ends every client session
 * on them (the target-side connection lost mid-restore). `stop()` says how many it ended.
 */
export async function terminateMidRestore(
  major: ServerMajor,
  db: string,
): Promise<{ stop: () => Promise<number> }> {
  const watch = await ScratchWatch.open(major, db);
  let ended = 0;
  let looking: Promise<unknown> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    looking = watch
      .terminateIfLoading()
      .then((n) => (ended += n))
      .catch(() => {})
      .finally(() => (busy = false));
  }, 10);
  return {
    stop: async () => {
      clearInterval(timer);
      await looking;
      await watch.close();
      return ended;
    },
  };
}

/**
 * A role for the targets' database grants, made once per server (roles are server-wide; a concurrent
 * CREATE ROLE of the same name fails on the catalog's unique index rather than as a duplicate).
 */
export async function readerRole(major: ServerMajor): Promise<string> {
  const role = 'pgferry_matrix_reader';
  await sql(
    major,
    'postgres',
    `DO $$BEGIN CREATE ROLE ${role}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$`,
  );
  return role;
}

/**
 * A target holding an earlier copy of `sourceSql`, changed since, with database-level properties of
 * its own (comment, a setting, a connection limit, grants): what a destructive run must not half-touch.
 */
export async function earlierCopy(
  major: ServerMajor,
  sourceSql: string,
  prefix = 'swap_tgt',
): Promise<string> {
  const db = await createDatabase(major, prefix);
  await sql(major, db, sourceSql);
  await sql(
    major,
    db,
    `UPDATE public.items SET qty = 0 WHERE id % 3 = 0; DELETE FROM public.items WHERE id > 1500`,
  );
  const role = await readerRole(major);
  await sql(
    major,
    'postgres',
    `COMMENT ON DATABASE ${db} IS 'staging, do not touch'; ALTER DATABASE ${db} SET work_mem = '7MB';
     ALTER DATABASE ${db} CONNECTION LIMIT 40; REVOKE CONNECT ON DATABASE ${db} FROM PUBLIC;
     GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO ${role}`,
  );
  return db;
}
