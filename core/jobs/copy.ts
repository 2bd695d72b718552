import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { JobHooks } from './job-hooks.js';
import type { ArchiveFacts } from '../pg/archive.js';
import type { ObjectFilters } from '../pg/args.js';
import type { ClientTools } from '../pg/clients/tools.js';
import { databaseName, describeConnection, type ConnectionSpec } from '../pg/connection.js';
import { isSameDatabase } from '../pg/same-database.js';
import {
  archiveVersionWrittenBy,
  chooseCopyClients,
  type ClientChoice,
  type RestoreChoice,
  type RestorePath,
} from '../pg/policy.js';
import { pipelineAbort, settlePipeline, type ProgressTotal } from '../pg/run.js';
import { serverFacts, type ServerFacts } from '../pg/server.js';
import {
  ensureDatabase,
  guardTargetBeforeCreating,
  maintenanceOf,
  undoCreatedOnFailure,
} from '../pg/target-database.js';
import { formatVersion, type VersionRequest } from '../pg/version.js';
import { applyArchive, applyOptionsOf, type ApplyOptions } from './apply-archive.js';
import { dumpProgressTotal, dumpSelection, streamCustomDump } from './dump-selection.js';
import { cleanPrelude, databaseContents } from './clean.js';
import { databasePropertiesSql, propertyOptionsOf, TocPrefix } from './database-properties.js';
import { readTocEntries } from '../pg/archive-toc.js';
import { dumpToPath } from './dump.js';
import { applyGlobals, dumpGlobals } from './globals.js';
import { restoreJobs } from './parallelism.js';
import { undoOnFailure, undoPlanOf } from './undo-new-objects.js';
import { withSqlAfter } from './restore.js';
import { withMasking } from './masked-jobs.js';
import { prepareSwap, removeLeftovers, replaceOrInPlace } from './replace-by-swap.js';
import { swapKeepsMeaning } from './swap-keeps-meaning.js';
import { copyParallel, parallelCopyRefusal } from './copy-parallel.js';
import { MaskingStream } from '../masking/copy-stream.js';
import { LeakWatch, type LeakResult } from '../masking/leak-check.js';
import { checkMasked, type MaskingChecks } from '../masking/after-checks.js';
import type { UncoveredColumn } from '../masking/coverage.js';
import type { MaskingRules } from '../masking/rules.js';
import { checkRulesAgainstSource } from '../masking/source-check.js';

export interface CopyOptions extends ApplyOptions, ObjectFilters, JobHooks {
  from: ConnectionSpec;
  to: ConnectionSpec;
  jobs: number | 'auto';
  globals?: boolean;
  confirm?: string;
  createDatabase?: boolean;
  allowDowngrade?: boolean;
  sqlAfter?: string[];
  postgresVersion: VersionRequest;
  /** With `clean`: build beside the target and swap in (the default), or drop and copy in place. */
  swap?: boolean;
  /** masking-rules, loaded: the rows are masked on their way (masked-jobs.ts: in one stream or several). */
  maskingRules?: MaskingRules;
  /** Set by a swap, which runs the leak check itself after the SQL after, right before swapping. */
  leakWatch?: LeakWatch;
}

export interface CopyResult {
  source: ServerFacts;
  target: ServerFacts;
  dump: { choice: ClientChoice; client: ClientTools };
  restore: { choice: RestoreChoice; client: ClientTools };
  jobs: number;
  streamed: boolean;
  createdDatabase: boolean;
  /** The target was replaced by swap: built beside it, then renamed into its place. */
  swapped?: boolean;
  filtered: string[];
  masked?: MaskingStream['rows'];
  leakCheck?: LeakResult[];
  /** With masking-rules: personal-looking columns of the target that no rule covers (a report). */
  coverage?: UncoveredColumn[];
  durationSeconds: number;
}

/** Guarantee 2: a copy onto its own source would destroy the data it reads. */
async function refuseSameDatabase(from: ConnectionSpec, to: ConnectionSpec): Promise<void> {
  if (await isSameDatabase(from, to)) {
    throw new InputError(
      'to',
      `is the source itself (${describeConnection(to)}); a copy needs a different server or database`,
    );
  }
}

/**
 * Copies a database between servers, possibly of different majors: streamed pg_dump → pg_restore with
 * one job, or through a temporary archive with a parallel restore.
 */
export async function copyDatabase(o: CopyOptions): Promise<CopyResult> {
  const started = Date.now();
  const source = await serverFacts(o.from, 'from');
  // Guards and clients are settled before anything is created: a refusal leaves the target untouched.
  const server = await serverFacts(maintenanceOf(o.to), 'to');
  await refuseSameDatabase(o.from, o.to);
  if (o.maskingRules) await checkRulesAgainstSource(o.maskingRules, o.from);
  const exists = await guardTargetBeforeCreating(o.to, { clean: o.clean ?? false, confirm: o.confirm });
  const choice = await chooseCopyClients(
    source.version,
    server.version,
    o.postgresVersion,
    o.allowDowngrade ?? false,
    o.catalog,
  );
  [...choice.dump.warnings, ...choice.restore.warnings].forEach((w) => o.log.warn(w));
  const swap = swapsWholeDatabase(o) && (await swapKeepsMeaning(o, exists, { source: o.from }));
  if (swap && !exists && o.createDatabase === false) await ensureDatabase(o.to, false);
  const session = swap ? await prepareSwap(o.to, exists, 'swap') : undefined;
  const clients = await provideClients(o, choice).catch(async (error: unknown) => {
    await session?.close();
    throw error;
  });
  const inPlace = async (): Promise<CopyResult> => {
    if (o.clean) await removeLeftovers(o.to, o.log);
    const createdDatabase = await ensureDatabase(o.to, o.createDatabase ?? true);
    return undoCreatedOnFailure(createdDatabase, o.to, () =>
      copyInto(o, { source, choice, ...clients, createdDatabase, started }),
    );
  };
  if (!session) return inPlace();
  o.log.info(
    `clean: building the new ${databaseName(o.to)} beside the target and swapping it in once it is complete (swap: false copies in place)`,
  );
  const request = {
    session,
    client: clients.restore,
    log: o.log,
    signal: o.signal,
    keepClean: true,
    sqlAfter: { files: o.sqlAfter ?? [], input: 'sql-after' },
    targetExisted: exists,
    started,
  };
  const rules = o.maskingRules;
  const leakWatch = rules ? new LeakWatch() : undefined;
  let checks: MaskingChecks | undefined;
  const lastCheck = async (built: ConnectionSpec) => {
    if (rules && leakWatch) checks = await checkMasked(leakWatch, rules, built, o.log);
  };
  const result = await replaceOrInPlace(
    { ...request, lastCheck },
    (built) =>
      copyInto(
        { ...o, to: built, clean: false, sqlAfter: [], leakWatch },
        { source, choice, ...clients, createdDatabase: true, started },
      ),
    inPlace,
  );
  return result.swapped && checks ? { ...result, ...checks } : result;
}

/**
 * clean of a copy of the whole database (pg_dump picks no schema or table, not data-only): built
 * beside the target and swapped in, unless `swap` is false. A selection replaces only what it
 * carries, in place.
 */
function swapsWholeDatabase(o: CopyOptions): boolean {
  if (!o.clean || o.swap === false) return false;
  if (
    o.dataOnly ||
    o.schemas?.length ||
    o.tables?.length ||
    o.excludeSchemas?.length ||
    o.excludeTables?.length
  ) {
    o.log.info(
      'clean: this copy selects schemas or tables (or rows only), so it replaces only what it carries, in place',
    );
    return false;
  }
  return true;
}

async function provideClients(
  o: CopyOptions,
  choice: { dump: ClientChoice; restore: RestoreChoice },
): Promise<{ dump: ClientTools; restore: ClientTools }> {
  return {
    dump: await o.catalog.provide(choice.dump.version),
    restore: await o.catalog.provide(choice.restore.version),
  };
}

interface CopySettled {
  source: ServerFacts;
  choice: { dump: ClientChoice; restore: RestoreChoice };
  dump: ClientTools;
  restore: ClientTools;
  /** The target is new to this run (created, or a swap's scratch): any job count is all-or-nothing. */
  createdDatabase: boolean;
  started: number;
}

/** What the copy settled before any row moves: clients, target, archive facts, path and jobs. */
export interface CopyPlan {
  dumpClient: ClientTools;
  restoreClient: ClientTools;
  target: ServerFacts;
  archive: ArchiveFacts;
  restorePath: RestorePath;
  prelude?: string;
  after?: { files: string[]; input: string };
  /** The restore side's options: the selection was made by pg_dump, so it applies all it is given. */
  apply: ApplyOptions;
  jobs: number;
  createdDatabase: boolean;
  /** What the streamed dump's bytes compare with, when it can be estimated. */
  dumpTotal?: ProgressTotal;
  /** masking-rules: the stream that masks and the leak check's tap on it. */
  masking?: MaskingStream;
  leaks?: LeakWatch;
}

/** The copy proper, into a target that exists (created, the swap's scratch or the user's own). */
async function copyInto(o: CopyOptions, settled: CopySettled): Promise<CopyResult> {
  const { source, choice, createdDatabase, started } = settled;
  const plan = await planCopy(o, settled);
  const filtered = await (plan.jobs === 1 ? copyStreamed(o, plan) : copyWithJobs(o, plan));
  // Under a swap the checks run on the built database after the SQL after (lastCheck).
  const checks =
    o.maskingRules && plan.leaks && !o.leakWatch
      ? await checkMasked(plan.leaks, o.maskingRules, o.to, o.log)
      : {};
  if (filtered.length)
    o.log.warn(
      `filtered from the script for PostgreSQL ${plan.target.version.major}: ${filtered.join(', ')}`,
    );
  return {
    source,
    target: plan.target,
    dump: { choice: choice.dump, client: plan.dumpClient },
    restore: { choice: choice.restore, client: plan.restoreClient },
    jobs: plan.jobs,
    streamed: plan.jobs === 1,
    createdDatabase,
    filtered,
    ...(plan.masking ? { masked: plan.masking.rows, ...checks } : {}),
    durationSeconds: (Date.now() - started) / 1000,
  };
}

async function planCopy(o: CopyOptions, settled: CopySettled): Promise<CopyPlan> {
  const { source, choice, createdDatabase } = settled;
  const dumpClient = settled.dump;
  const restoreClient = settled.restore;
  const target = await serverFacts(o.to, 'to');
  o.log.info(
    `copying ${describeConnection(o.from)} (PostgreSQL ${formatVersion(source.version)}) → ${describeConnection(o.to)} (PostgreSQL ${formatVersion(target.version)}) with pg_dump ${formatVersion(dumpClient.version)} and pg_restore ${formatVersion(restoreClient.version)}`,
  );
  if (o.globals) {
    o.log.info('copying roles and tablespaces (without passwords) first');
    const globals = await dumpGlobals(dumpClient, o.from, o.signal);
    await applyGlobals(restoreClient, o.to, target.version, globals, o.signal);
  }
  const archive: ArchiveFacts = {
    format: 'custom',
    archiveVersion: archiveVersionWrittenBy(dumpClient.version.major),
    compression: 'none',
    serverVersion: source.version,
    dumpVersion: dumpClient.version,
    // With more than one job pgferry dumps to a file of its own, so pg_dump records the offsets.
    dataOffsets: 'set',
  };
  // clean: drops run first in the restore's own transaction, which needs the script path.
  const prelude = o.clean
    ? cleanPrelude(await databaseContents(o.from, o.schemas ?? []), target.version.major)
    : undefined;
  const after = o.sqlAfter?.length ? { files: o.sqlAfter, input: 'sql-after' } : undefined;
  const restorePath = withMasking(
    withSqlAfter(
      prelude && choice.restore.path === 'pg_restore' ? 'script' : choice.restore.path,
      after,
      o.log,
    ),
    o.maskingRules,
    o.log,
    // The restore side runs all the copy's dump made; extra-args are pg_dump's.
    { archive, jobs: o.jobs, createdDatabase, options: { ...applyOptionsOf(o), extraArgs: [] } },
  );
  const leaks = o.maskingRules ? (o.leakWatch ?? new LeakWatch()) : undefined;
  const masking = o.maskingRules ? new MaskingStream(o.maskingRules, leaks?.tap) : undefined;
  const { jobs, reason: jobsReason } = restoreJobs(archive, restorePath, o.jobs, true, !createdDatabase);
  if (jobsReason !== undefined) {
    if (typeof o.jobs === 'number') o.log.warn(jobsReason);
    else o.log.info(jobsReason);
  }
  const apply = { ...applyOptionsOf(o), clean: false, schemas: [], tables: [], extraArgs: [] };
  if (jobs === 1) o.log.info('streaming pg_dump straight into the restore (one job, no intermediate file)');
  return {
    dumpClient,
    restoreClient,
    target,
    archive,
    restorePath,
    prelude,
    after,
    apply,
    jobs,
    createdDatabase,
    masking,
    leaks,
    dumpTotal: await dumpProgressTotal(o.from, o, { algorithm: 'none' }, o.onProgress),
  };
}

/**
 * One job: no intermediate file, pg_dump's output goes straight into the restore. The dump's TOC is
 * kept as it streams by, for the source database's own properties.
 */
async function copyStreamed(o: CopyOptions, plan: CopyPlan): Promise<string[]> {
  const pipe = new TocPrefix('the copy stream');
  const { controller, signal } = pipelineAbort(o.signal);
  const dump = streamCustomDump({
    client: plan.dumpClient,
    from: o.from,
    selection: o,
    compression: { algorithm: 'none' },
    stdout: pipe,
    signal,
    onProgress: o.onProgress,
    progressIntervalMs: o.progressIntervalMs,
    counts: 'streamed',
    total: plan.dumpTotal,
  });
  const restore = applyArchive({
    ...applyRequestOf(o, plan),
    input: { stream: pipe },
    epilogue: databasePropertiesSql({
      entries: async () => pipe.entries(o.log),
      target: o.to,
      options: propertyOptionsOf(o),
      log: o.log,
    }),
    signal,
  });
  const [, filtered] = await settlePipeline(controller, [dump, restore] as const);
  return filtered;
}

/**
 * Several jobs: table by table, straight from the source into the target (copy-parallel.ts), or,
 * where that cannot be, through a temporary archive; the log says why.
 */
async function copyWithJobs(o: CopyOptions, plan: CopyPlan): Promise<string[]> {
  const refusal = await parallelCopyRefusal(o, plan);
  if (refusal === undefined) return copyParallel(o, plan);
  o.log.info(`dumping to a temporary archive, then restoring with ${plan.jobs} jobs: ${refusal}`);
  return copyThroughArchive(o, plan);
}

/**
 * Several jobs: pg_dump writes a temporary archive, which pg_restore reads in parallel. Into a
 * database that existed before, a failure drops every object the restore made (undo-new-objects.ts).
 */
async function copyThroughArchive(o: CopyOptions, plan: CopyPlan): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-copy-'));
  try {
    const file = path.join(dir, `copy-${randomBytes(4).toString('hex')}.dump`);
    await dumpToPath({
      ...dumpSelection(o),
      from: o.from,
      to: file,
      format: 'custom',
      compress: { algorithm: 'none' },
      jobs: 1,
      postgresVersion: { kind: 'major', major: plan.dumpClient.version.major },
      catalog: o.catalog,
      log: o.log,
      signal: o.signal,
      onProgress: o.onProgress,
      progressIntervalMs: o.progressIntervalMs,
    });
    const undo = await undoOnFailure({
      ...undoPlanOf({ ...plan.apply, from: file, to: o.to, log: o.log }, plan.archive, plan.target),
      path: plan.restorePath,
      jobs: plan.jobs,
      createdDatabase: plan.createdDatabase,
    });
    return await applyArchive({
      ...applyRequestOf(o, plan),
      input: { file },
      epilogue: databasePropertiesSql({
        entries: () => readTocEntries(file, 'custom'),
        target: o.to,
        options: propertyOptionsOf(o),
        log: o.log,
      }),
      signal: o.signal,
      onProgress: o.onProgress,
      progressIntervalMs: o.progressIntervalMs,
    }).catch(undo);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The parts of the restore request both ways of copying share. */
export function applyRequestOf(o: CopyOptions, plan: CopyPlan) {
  const { statistics } = dumpSelection(o);
  return {
    client: plan.restoreClient,
    path: plan.restorePath,
    archive: plan.archive,
    target: o.to,
    targetVersion: plan.target.version,
    jobs: plan.jobs,
    options: plan.apply,
    prelude: plan.prelude,
    after: plan.after,
    statisticsInDump: statistics !== undefined && statistics !== false,
    masking: plan.masking,
  };
}
