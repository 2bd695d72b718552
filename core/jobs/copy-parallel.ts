import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { PgferryError } from '../errors.js';
import { pgDumpArgs } from '../pg/args.js';
import { toolPath } from '../pg/clients/tools.js';
import { connectionEnv, secretsOf } from '../pg/connection.js';
import { exportSnapshot } from '../pg/exported-snapshot.js';
import { pipelineAbort, runTool, settlePipeline } from '../pg/run.js';
import { withClient } from '../pg/server.js';
import { applyArchive } from './apply-archive.js';
import type { CopyOptions, CopyPlan } from './copy.js';
import { applyRequestOf } from './copy.js';
import { databasePropertiesSql, propertyOptionsOf, quoteIdent, TocPrefix } from './database-properties.js';
import { dumpSelection, streamCustomDump, type DumpSelection } from './dump-selection.js';
import { tableSizes } from './shard-plan.js';
import { TableCopySession, type TableToCopy } from './table-copy.js';

/**
 * Why a copy with several jobs cannot stream table by table and goes through a temporary archive
 * instead; undefined when it can. The streamed path commits each table on its own, so it needs a
 * target that a failure may simply drop (created by this run, or a swap's scratch), and the whole
 * database as pg_dump would take it, since pgferry itself picks the tables.
 */
export async function parallelCopyRefusal(o: CopyOptions, plan: CopyPlan): Promise<string | undefined> {
  if (!plan.createdDatabase)
    return 'the target database existed before this copy (its restore must be undone object by object on failure)';
  if (plan.masking) return 'masking rules are given';
  if (plan.restorePath !== 'pg_restore') return 'the restore goes through a script';
  const s = dumpSelection(o);
  const picked = [s.schemas, s.excludeSchemas, s.tables, s.excludeTables, s.excludeTableData, s.extraArgs];
  if (picked.some((list) => (list?.length ?? 0) > 0) || s.filter?.rules.length)
    return 'the copy selects schemas or tables (or passes pg_dump arguments)';
  if (s.schemaOnly || s.dataOnly || s.sequenceData) return 'the copy takes the schema or the rows only';
  if (s.statistics) return 'planner statistics are asked for';
  const configTables = await withClient(o.from, 'from', (c) =>
    c.query<{ n: string }>(
      'SELECT count(*) AS n FROM pg_catalog.pg_extension WHERE array_length(extconfig, 1) > 0',
    ),
  );
  if (Number(configTables.rows[0]?.n ?? 0) > 0)
    return "an extension of the source has configuration tables (their rows are the extension's own to select)";
  return undefined;
}

/**
 * Several jobs, no temporary archive for the rows: one snapshot exported on the source and held to
 * the end; pre-data streamed through the restore path; the rows of each table, largest first, by
 * `jobs` workers each piping the source's COPY TO into the target's COPY FROM, beside them large
 * objects (the rest of pg_dump's data section); sequence values; post-data (indexes, constraints,
 * triggers) from a small schema-only archive on local disk, dumped while pre-data and the rows go
 * in, restored with `pg_restore -j`. The target is new (parallelCopyRefusal): on failure the caller
 * drops it.
 */
export async function copyParallel(o: CopyOptions, plan: CopyPlan): Promise<string[]> {
  const snapshot = await exportSnapshot(o.from);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-copy-'));
  try {
    // post-data reads only the catalog of the snapshot: dumped while the rows move.
    const postData = path.join(dir, 'post-data.dump');
    const { controller, signal } = pipelineAbort(o.signal);
    const s = { ...o, signal };
    const toc = new TocPrefix('the copy stream');
    const [pre] = await settlePipeline(controller, [
      streamSection(s, plan, snapshot.id, 'pre-data', toc),
      dumpPostData(s, plan, snapshot.id, postData),
    ] as const);
    const tables = await tablesToCopy(snapshot.client);
    const encoding = await sourceEncoding(snapshot.client);
    o.log.info(
      `copying the rows of ${tables.length} table(s) with ${plan.jobs} workers, each COPY straight from the source into the target (one snapshot, no intermediate file)`,
    );
    // Large objects (the rest of the data section) go in beside the tables' rows.
    const [, data] = await settlePipeline(controller, [
      copyTables(s, plan, { snapshot: snapshot.id, encoding, tables }),
      streamSection(s, plan, snapshot.id, 'data'),
    ] as const);
    await setSequences(o, await sequenceValues(snapshot.client));
    const post = await restorePostData(o, plan, postData, toc);
    return [...new Set([...pre, ...data, ...post])];
  } finally {
    await snapshot.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** What pg_dump is given for every section: the copy's own object options, nothing that selects. */
function sectionSelection(o: CopyOptions, snapshot: string, extra: string[]): DumpSelection {
  const { noOwner, noPrivileges, noPolicies, statistics } = dumpSelection(o);
  return {
    noOwner,
    noPrivileges,
    noPolicies,
    statistics,
    extraArgs: [`--snapshot=${snapshot}`, ...extra],
  };
}

/**
 * pre-data, or the data section without any table's rows (sequence values, large objects),
 * streamed from pg_dump into the restore, in one transaction.
 */
async function streamSection(
  o: CopyOptions,
  plan: CopyPlan,
  snapshot: string,
  section: 'pre-data' | 'data',
  toc?: TocPrefix,
): Promise<string[]> {
  const pipe = toc ?? new TocPrefix('the copy stream');
  const { controller, signal } = pipelineAbort(o.signal);
  // `*.*` matches every table of every schema: their rows are the workers' work.
  const extra = section === 'data' ? ['--section=data', '--exclude-table-data=*.*'] : ['--section=pre-data'];
  const dump = streamCustomDump({
    client: plan.dumpClient,
    from: o.from,
    selection: sectionSelection(o, snapshot, extra),
    compression: { algorithm: 'none' },
    stdout: pipe,
    signal,
  });
  const restore = applyArchive({ ...applyRequestOf(o, plan), jobs: 1, input: { stream: pipe }, signal });
  const [, filtered] = await settlePipeline(controller, [dump, restore] as const);
  return filtered;
}

/** post-data to a temporary archive (schema only: a few kilobytes per index, so local disk is fine). */
async function dumpPostData(o: CopyOptions, plan: CopyPlan, snapshot: string, file: string): Promise<void> {
  await runTool({
    file: toolPath(plan.dumpClient, 'pg_dump'),
    args: pgDumpArgs({
      ...sectionSelection(o, snapshot, ['--section=post-data']),
      clientMajor: plan.dumpClient.version.major,
      format: 'custom',
      compression: { algorithm: 'none' },
      file,
    }),
    env: connectionEnv(o.from),
    secrets: secretsOf(o.from),
    stdout: 'ignore',
    signal: o.signal,
  });
}

/** post-data restored with `jobs` jobs, then the database's own properties (from pre-data's TOC). */
function restorePostData(o: CopyOptions, plan: CopyPlan, file: string, toc: TocPrefix): Promise<string[]> {
  return applyArchive({
    ...applyRequestOf(o, plan),
    input: { file },
    epilogue: databasePropertiesSql({
      entries: async () => toc.entries(o.log),
      target: o.to,
      options: propertyOptionsOf(o),
      log: o.log,
    }),
    signal: o.signal,
  });
}

interface SequenceValue {
  name: string;
  last_value: string;
  is_called: boolean;
}

/**
 * The sequences pg_dump would set (not an extension's own) and their values, as pg_dump reads
 * them: `--exclude-table-data` leaves sequence values out of the data section along with the rows.
 */
async function sequenceValues(client: pg.Client): Promise<SequenceValue[]> {
  const { rows } = await client.query<{ schema: string; name: string }>(`
    SELECT n.nspname AS schema, c.relname AS name
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'S' AND c.relpersistence <> 't'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_temp%'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                        WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY 1, 2`);
  const values: SequenceValue[] = [];
  for (const r of rows) {
    const name = `${quoteIdent(r.schema)}.${quoteIdent(r.name)}`;
    const { rows: v } = await client.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value::text AS last_value, is_called FROM ${name}`,
    );
    if (v[0]) values.push({ name, ...v[0] });
  }
  return values;
}

/** `setval` on the target for each sequence, in one transaction. */
async function setSequences(o: CopyOptions, values: readonly SequenceValue[]): Promise<void> {
  if (values.length === 0) return;
  await withClient(o.to, 'to', async (c) => {
    await c.query('BEGIN');
    for (const v of values)
      await c.query('SELECT pg_catalog.setval($1::regclass, $2::bigint, $3::boolean)', [
        v.name,
        v.last_value,
        v.is_called,
      ]);
    await c.query('COMMIT');
  }).catch((error: unknown) => {
    if (error instanceof PgferryError) throw error;
    throw new PgferryError(`setting the sequences' values on the target: ${(error as Error).message}`, {
      cause: error,
    });
  });
}

/** The source database's encoding, which both sides' COPY speak (as pg_dump's script does). */
async function sourceEncoding(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ e: string }>(
    'SELECT pg_catalog.pg_encoding_to_char(encoding) AS e FROM pg_catalog.pg_database WHERE datname = current_database()',
  );
  return rows[0]?.e ?? 'UTF8';
}

/** The tables pg_dump would write rows for, largest first, with their columns, read in the snapshot. */
async function tablesToCopy(client: pg.Client): Promise<TableToCopy[]> {
  const sizes = await tableSizes(client);
  const { rows } = await client.query<{ schema: string; name: string; columns: string[] }>(`
    SELECT n.nspname AS schema, c.relname AS name,
           array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum > 0) AS columns
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_catalog.pg_attribute a
        ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           -- attgenerated is new in 12; read through jsonb so that 10 and 11 sources work too
           AND coalesce(to_jsonb(a) ->> 'attgenerated', '') = ''
     WHERE c.relkind = 'r'
     GROUP BY 1, 2`);
  const columns = new Map(rows.map((r) => [`${r.schema}\0${r.name}`, r.columns ?? []]));
  return sizes.map((t) => ({ ...t, columns: columns.get(`${t.schema}\0${t.name}`) ?? [] }));
}

/**
 * `jobs` workers take tables from one queue, largest first. The first failure (a killed backend, a
 * row the target refuses, the run aborted) ends every session, so no worker carries on.
 */
async function copyTables(
  o: CopyOptions,
  plan: CopyPlan,
  work: { snapshot: string; encoding: string; tables: TableToCopy[] },
): Promise<void> {
  const queue = [...work.tables];
  const sessions: TableCopySession[] = [];
  let failure: unknown;
  let bytes = 0;
  const started = Date.now();
  const fail = (error: unknown): void => {
    failure ??= error;
    for (const s of sessions) void s.close();
  };
  const onAbort = (): void => fail(o.signal?.reason ?? new Error('the copy was aborted'));
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = o.onProgress
    ? setInterval(() => {
        const elapsedMs = Date.now() - started;
        o.onProgress?.({
          bytes,
          elapsedMs,
          bytesPerSecond: elapsedMs > 0 ? (bytes * 1000) / elapsedMs : 0,
          counts: 'streamed',
          measured: true,
          ...(plan.dumpTotal ? { total: plan.dumpTotal } : {}),
        });
      }, o.progressIntervalMs ?? 10_000)
    : undefined;
  const worker = async (): Promise<void> => {
    if (queue.length === 0) return;
    const session = await TableCopySession.open({ from: o.from, to: o.to, ...work });
    sessions.push(session);
    try {
      for (let t = queue.shift(); t && failure === undefined; t = queue.shift()) {
        const table = t;
        await session
          .copy(table, (n) => (bytes += n))
          .catch((error: unknown) => {
            throw (
              failure ??
              new PgferryError(`copying the rows of ${quoted(table)}: ${(error as Error).message}`, {
                cause: error,
              })
            );
          });
      }
    } finally {
      await session.close();
    }
  };
  try {
    const count = Math.max(1, Math.min(plan.jobs, queue.length));
    await Promise.all(Array.from({ length: count }, () => worker().catch((error: unknown) => fail(error))));
    await Promise.all(sessions.map((s) => s.close()));
    if (failure !== undefined) throw failure;
  } finally {
    if (timer) clearInterval(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

function quoted(t: TableToCopy): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}
