import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ArchiveFacts } from '../pg/archive.js';
import { pgRestoreArgs, psqlArgs, type ObjectFilters } from '../pg/args.js';
import { toolPath, type ClientTools } from '../pg/clients/tools.js';
import { connectionEnv, databaseName, secretsOf, type ConnectionSpec } from '../pg/connection.js';
import type { RestorePath } from '../pg/policy.js';
import { bytesReadBy } from '../pg/bytes-read.js';
import { pipelineAbort, type Progress, type RunToolOptions, runTool, settlePipeline } from '../pg/run.js';
import { InputError, ToolError } from '../errors.js';
import { psqlKnowsRestrict, ScriptFilter } from '../pg/script-filter.js';
import type { PgVersion } from '../pg/version.js';
import type { MaskingStream } from '../masking/copy-stream.js';
import { applyMaskedInParallel } from './masked-parallel.js';

/** pg_restore options a restore or copy passes through. */
export interface ApplyOptions extends ObjectFilters {
  clean?: boolean;
  schemaOnly?: boolean;
  dataOnly?: boolean;
  noOwner?: boolean;
  noPrivileges?: boolean;
  extraArgs?: string[];
  /** pg_restore 17+, the direct path only (the script paths are one transaction of pgferry's). */
  transactionSize?: number;
}

/** Only the fields pg_restore should see, from a larger options object. */
export function applyOptionsOf(o: ApplyOptions): ApplyOptions {
  const { clean, schemaOnly, dataOnly, noOwner, noPrivileges, extraArgs, schemas, excludeSchemas, tables } =
    o;
  const { transactionSize } = o;
  return {
    clean,
    schemaOnly,
    dataOnly,
    noOwner,
    noPrivileges,
    extraArgs,
    schemas,
    excludeSchemas,
    tables,
    transactionSize,
  };
}

export interface ApplyRequest {
  client: ClientTools;
  path: RestorePath;
  archive: ArchiveFacts;
  /** A file or directory archive (seekable: parallel possible), or a stream of a custom or plain dump. */
  input: { file: string } | { stream: Readable };
  target: ConnectionSpec;
  targetVersion: PgVersion;
  jobs: number;
  options: ApplyOptions;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
  /** The archive's size, for the share of it read so far (a directory archive: its files). */
  inputBytes?: number;
  /** For a stream input: the bytes of it read so far (its meter), for the progress lines. */
  inputRead?: () => number;
  /**
   * False when pgferry made the dump itself without asking for planner statistics (a copy): then
   * there are none to leave out and none to report. Unset: the archive may hold them.
   */
  statisticsInDump?: boolean;
  /** SQL run first in the same transaction (the clean step); script and psql paths only. */
  prelude?: string;
  /**
   * Must resolve before pgferry commits (e.g. the whole S3 object's SHA-256 matched its manifest);
   * script and psql paths only, where pgferry itself owns the transaction.
   */
  commitGate?: () => Promise<void>;
  /**
   * SQL run after the archive (the database's own properties, database-properties.ts): in the same
   * transaction on the script and psql paths, in one of its own right after pg_restore otherwise.
   */
  epilogue?: () => Promise<string>;
  /** Names the script in the filter's messages, e.g. "the restore script of s3://b/k". */
  label?: string;
  /**
   * SQL files (sql-after, sanitize) run after the archive in the same transaction, before pgferry's
   * commit: if one fails, the restored rows are rolled back with it, so they never appear unmasked.
   */
  after?: { files: readonly string[]; input: string };
  /**
   * Rewrites ruled tables' COPY data before the filter (masking-rules). On the direct path (several
   * jobs into a database this run made), each data worker masks with a stream of its own (masked-parallel.ts).
   */
  masking?: MaskingStream;
  /** One section of the archive, and the list of entries to restore from it (a masked parallel restore's parts). */
  only?: { section: 'pre-data' | 'data' | 'post-data'; list?: string };
}

/** Where each part of psql's input starts, to tell a psql error's line in the user's own terms. */
interface ScriptPart {
  firstLine: number;
  file?: string;
  /** What pgferry itself put there, when it is neither the archive's script nor a user's file. */
  label?: string;
}

/**
 * The user's SQL files after the archive (read as psql reads them, transaction control refused),
 * each from the session's defaults; `line` is where the first one begins in psql's input.
 */
async function* afterFiles(
  after: ApplyRequest['after'],
  parts: ScriptPart[],
  line: number,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  for (const file of after?.files ?? []) {
    // The archive's script leaves its session settings behind (an empty search_path above all):
    // the user's SQL starts from the session's defaults, as it would on a connection of its own.
    yield Buffer.from('\nRESET ALL; SET SESSION AUTHORIZATION DEFAULT;\n');
    line += 2;
    parts.push({ firstLine: line, file });
    const checked = new ScriptFilter(USER_SQL_RULES, file);
    pipeline(createReadStream(file), checked, () => {});
    try {
      yield* checked;
    } catch (error) {
      if (!signal.aborted && after) throw new InputError(after.input, (error as Error).message);
      throw error;
    }
    line += checked.lines;
  }
}

/** Rules for a user's own SQL: nothing is filtered, transaction control and meta-commands refused. */
const USER_SQL_RULES = {
  targetServer: { major: Number.MAX_SAFE_INTEGER },
  psqlKnowsRestrict: true,
  singleTransaction: true,
  refuseAllTransactionControl: true,
};

/**
 * psql names its input `<stdin>`, a script the user never saw: say which object of the archive (from
 * pg_dump's own comments) or which file and line of the user's the error came from.
 */
function inUsersTerms(
  error: unknown,
  parts: readonly ScriptPart[],
  after: ApplyRequest['after'],
  filter: ScriptFilter,
): unknown {
  if (!(error instanceof ToolError)) return error;
  const m = /psql:<stdin>:(\d+):/.exec(error.message);
  const line = Number(m?.[1] ?? 0);
  const part = [...parts].reverse().find((p) => line >= p.firstLine);
  if (!m || !part) return error;
  if (!part.file || !after) {
    const object = part.label ?? filter.objectAt(line);
    if (!object) return error;
    const stderr = error.stderrTail.replace(m[0], `${m[0]} restoring ${object}:`);
    return new ToolError(error.tool, error.exitCode, error.signal, stderr);
  }
  const detail = error.message.slice(m.index + m[0].length).trim();
  return new InputError(
    after.input,
    `${part.file}, line ${line - part.firstLine + 1}: ${detail}; nothing was committed (the restore and the SQL roll back together)`,
  );
}

/**
 * psql's whole input: the archive's script; then — only once everything that must hold before a
 * commit has held (every producer exited 0, the commit gate passed) — the database's own properties
 * and the user's SQL, on verified data; then pgferry's own `COMMIT`. Should anything fail first,
 * psql's input errors instead, psql is stopped and the server rolls the transaction back: no
 * statement in the script can commit, the filter sees to that.
 */
async function* transactionScript(
  script: ScriptFilter,
  r: ApplyRequest,
  beforeCommit: () => Promise<void>,
  parts: ScriptPart[],
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  yield* script;
  await beforeCommit();
  // psql may have failed (and the restore with it) while this waited: nothing more to do then.
  if (signal.aborted) throw signal.reason;
  let line = script.lines + 1;
  if (r.epilogue) {
    const sql = `\n${await r.epilogue()}`;
    parts.push({
      firstLine: line + 1,
      label: "the database's own properties (owner, settings, comment, grants)",
    });
    if (signal.aborted) throw signal.reason;
    yield Buffer.from(sql);
    line += sql.split('\n').length - 1;
  }
  yield* afterFiles(r.after, parts, line, signal);
  yield Buffer.from('COMMIT;\n');
}

/**
 * Puts an archive into the target along the path the policy chose. Every path stops at the first
 * error. Single-job paths run in one transaction — pg_restore's own on the direct path, pgferry's on
 * the script and psql paths, committed only after every producer succeeded and `commitGate`
 * resolved — so a failure leaves the target as it was. Returns what the script filter dropped
 * (empty on the direct path).
 */
export async function applyArchive(r: ApplyRequest): Promise<string[]> {
  const left = statisticsLeftOut(r);
  if (r.path === 'pg_restore' && r.masking) {
    const filtered = await applyMaskedInParallel(r, { direct: applyDirect, script: applyScript });
    return [...left, ...filtered];
  }
  if (r.path === 'pg_restore') {
    await applyDirect(r);
    return left;
  }
  return [...left, ...(await applyScript(r))];
}

/** Planner statistics are restored by functions PostgreSQL 18 added: an older target cannot take them. */
const STATISTICS_SINCE = 18;

function leavesOutStatistics(r: ApplyRequest): boolean {
  return r.targetVersion.major < STATISTICS_SINCE && r.client.version.major >= STATISTICS_SINCE;
}

/**
 * What `--no-statistics` leaves out of an archive for an older target, as the report names it:
 * only an archive pg_dump 18+ wrote can hold statistics (its TOC entries are STATISTICS DATA).
 */
function statisticsLeftOut(r: ApplyRequest): string[] {
  if (!leavesOutStatistics(r) || r.path === 'psql' || r.statisticsInDump === false) return [];
  if ((r.archive.dumpVersion?.major ?? 0) < STATISTICS_SINCE) return [];
  return [
    `statistics (pg_restore --no-statistics: PostgreSQL ${r.targetVersion.major} cannot take the planner statistics of a PostgreSQL ${r.archive.dumpVersion?.major ?? STATISTICS_SINCE} dump; run ANALYZE after the restore)`,
  ];
}

/** What every tool of a restore is run with: the target's connection. */
function toolCommon(r: ApplyRequest) {
  return { env: connectionEnv(r.target), secrets: secretsOf(r.target) };
}

/**
 * Progress reporting for the one tool that reads the archive (not for psql after pg_restore, nor
 * the epilogue): the bytes of the archive read so far, against its size when it is known.
 */
function archiveProgress(
  r: ApplyRequest,
  measure: (pid: number | undefined) => number | undefined,
): Pick<RunToolOptions, 'onProgress' | 'progressIntervalMs' | 'meter'> {
  if (!r.onProgress) return {};
  const total = r.inputBytes ? { bytes: r.inputBytes, of: 'the archive', estimate: false } : undefined;
  return {
    onProgress: r.onProgress,
    progressIntervalMs: r.progressIntervalMs,
    meter: { counts: 'read', measure, ...(total ? { total } : {}) },
  };
}

/** What pg_restore has read: of a file, its process's own count; of a stream, the stream's meter. */
function pgRestoreReads(r: ApplyRequest): (pid: number | undefined) => number | undefined {
  return inputFile(r) !== undefined ? bytesReadBy : () => r.inputRead?.();
}

/** pg_restore's options from the request's (clean always with IF EXISTS, stop at the first error). */
function restoreOptionsOf(r: ApplyRequest) {
  const { clean, ...rest } = r.options;
  return {
    ...rest,
    clean,
    ifExists: clean,
    exitOnError: true,
    clientMajor: r.client.version.major,
    ...(leavesOutStatistics(r) ? { statistics: false } : {}),
    ...(r.only ? { section: r.only.section, useList: r.only.list } : {}),
  };
}

const inputFile = (r: ApplyRequest): string | undefined => ('file' in r.input ? r.input.file : undefined);
const inputStream = (r: ApplyRequest): Readable | undefined =>
  'stream' in r.input ? r.input.stream : undefined;

/** The direct path: pg_restore into the database (one transaction with one job), then the epilogue. */
async function applyDirect(r: ApplyRequest): Promise<void> {
  if (r.prelude || r.commitGate || r.after?.files.length || r.masking)
    throw new Error('a prelude, a commit gate, SQL after or masking needs the script path');
  const common = toolCommon(r);
  await runTool({
    ...common,
    ...archiveProgress(r, pgRestoreReads(r)),
    signal: r.signal,
    file: toolPath(r.client, 'pg_restore'),
    args: pgRestoreArgs({
      ...restoreOptionsOf(r),
      dbname: databaseName(r.target),
      file: inputFile(r),
      jobs: r.jobs,
      // transaction-size commits every N objects instead (undone on failure, undo-new-objects.ts).
      singleTransaction: r.jobs === 1 && r.options.transactionSize === undefined,
    }),
    stdin: inputStream(r),
    stdout: 'ignore',
  });
  const sql = r.epilogue ? await r.epilogue() : '';
  if (sql === '') return;
  await runTool({
    ...common,
    signal: r.signal,
    file: toolPath(r.client, 'psql'),
    args: psqlArgs({ file: '-', onErrorStop: true, quiet: true, singleTransaction: true }),
    stdin: Readable.from([Buffer.from(sql)]),
    stdout: 'ignore',
  });
}

/**
 * What writes the script into the filter: a plain dump read (and gunzipped) straight in, or
 * pg_restore writing an archive as SQL. Returns the producers to wait for before the commit, and,
 * for a plain dump read by pgferry itself, how much of it has been read (psql's progress).
 */
function startScriptProducers(
  r: ApplyRequest,
  filter: ScriptFilter,
  signal: AbortSignal,
): { producers: Promise<unknown>[]; plainRead?: () => number | undefined } {
  const file = inputFile(r);
  const stream = inputStream(r);
  // Masking sits before the filter: raw rows never get further than this process's memory.
  const masking = r.masking;
  if (masking) pipeline(masking, filter, () => {});
  const sink = masking ?? filter;
  if (r.path === 'psql') {
    const fromFile = stream ? undefined : createReadStream(file ?? '');
    const raw: Readable = stream ?? fromFile ?? Readable.from([]);
    // pipeline() carries a read or gunzip error to the filter, and so to psql's input.
    const stages = r.archive.compression === 'gzip' ? [raw, createGunzip()] : [raw];
    pipeline([...stages, sink], () => {});
    const plainRead = fromFile ? () => fromFile.bytesRead : () => r.inputRead?.();
    return { producers: [], plainRead };
  }
  const args = pgRestoreArgs({
    ...restoreOptionsOf(r),
    transactionSize: undefined,
    file,
    jobs: 1,
    toStdout: true,
    singleTransaction: true,
  });
  const tool = toolPath(r.client, 'pg_restore');
  const progress = archiveProgress(r, pgRestoreReads(r));
  return {
    producers: [
      runTool({ ...toolCommon(r), ...progress, signal, file: tool, args, stdin: stream, stdout: sink }),
    ],
  };
}

/** The script and psql paths: the filtered script into psql, in pgferry's own transaction. */
async function applyScript(r: ApplyRequest): Promise<string[]> {
  const rules = {
    targetServer: r.targetVersion,
    psqlKnowsRestrict: psqlKnowsRestrict(r.client.version),
    singleTransaction: true,
  };
  const filter = new ScriptFilter(rules, r.label ?? 'the restore script');
  const { controller, signal } = pipelineAbort(r.signal);
  const { producers, plainRead } = startScriptProducers(r, filter, signal);
  const producersDone = Promise.all(producers);
  producersDone.catch(() => {});
  const parts: ScriptPart[] = [{ firstLine: 1 }];
  let scriptEnded: () => void = () => {};
  const scriptDone = new Promise<void>((resolve) => (scriptEnded = resolve));
  const beforeCommit = async (): Promise<void> => {
    await producersDone;
    await r.commitGate?.();
  };
  const script = (async function* () {
    try {
      yield* transactionScript(filter, r, beforeCommit, parts, signal);
    } finally {
      scriptEnded();
    }
  })();
  const consumer = runTool({
    ...toolCommon(r),
    ...(plainRead ? archiveProgress(r, plainRead) : {}),
    signal,
    file: toolPath(r.client, 'psql'),
    args: psqlArgs({
      file: '-',
      onErrorStop: true,
      quiet: true,
      before: ['BEGIN', ...(r.prelude ? [r.prelude] : [])],
    }),
    stdin: Readable.from(script),
    stdout: 'ignore',
  });
  // Whichever side fails first stops the other; the cause is what gets reported.
  await settlePipeline(controller, [...producers, consumer]).catch(async (error: unknown) => {
    // Work the script was still doing (the properties' catalog query) ends before the failure is told.
    await Promise.race([scriptDone, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    throw inUsersTerms(error, parts, r.after, filter);
  });
  return filter.summary();
}
