import { sizeOnDisk } from './dump.js';
import type { JobHooks } from './job-hooks.js';
import type { Logger } from '../log.js';
import { readArchiveFacts, type ArchiveFacts } from '../pg/archive.js';
import { readDataOffsets } from '../pg/archive-toc.js';
import type { ClientTools } from '../pg/clients/tools.js';
import { databaseName, describeConnection, type ConnectionSpec } from '../pg/connection.js';
import { chooseRestoreClient, type RestoreChoice, type RestorePath } from '../pg/policy.js';
import { serverFacts, type ServerFacts } from '../pg/server.js';
import {
  ensureDatabase,
  guardTargetBeforeCreating,
  maintenanceOf,
  undoCreatedOnFailure,
} from '../pg/target-database.js';
import { InputError, PgferryError } from '../errors.js';
import { formatVersion, type VersionRequest } from '../pg/version.js';
import { applyArchive, applyOptionsOf, type ApplyOptions } from './apply-archive.js';
import { archiveContents, cleanPrelude, plainContents } from './clean.js';
import { databasePropertiesSql, propertyOptionsOf } from './database-properties.js';
import { readTocEntries, type TocEntry } from '../pg/archive-toc.js';
import { checkDirectoryData } from '../pg/directory-data.js';
import { checkTablesPresent, prepareSwap, removeLeftovers, replaceOrInPlace } from './replace-by-swap.js';
import { swapKeepsMeaning } from './swap-keeps-meaning.js';
import { refuseRestoreJobs, restoreJobs } from './parallelism.js';
import { undoOnFailure, undoPlanOf } from './undo-new-objects.js';
import { checkRulesAgainstArchive } from '../masking/archive-check.js';
import { MaskingStream } from '../masking/copy-stream.js';
import type { MaskingRules } from '../masking/rules.js';
import { LeakWatch, type LeakResult } from '../masking/leak-check.js';
import { checkMasked, type MaskingChecks } from '../masking/after-checks.js';
import type { UncoveredColumn } from '../masking/coverage.js';
import { withMasking } from './masked-jobs.js';

export interface RestoreOptions extends ApplyOptions, JobHooks {
  /** An archive file, a directory archive, or a plain `.sql` / `.sql.gz`. */
  from: string;
  to: ConnectionSpec;
  jobs: number | 'auto';
  confirm?: string;
  createDatabase?: boolean;
  allowDowngrade?: boolean;
  postgresVersion: VersionRequest;
  /** SQL files run in the restore's own transaction before it commits (sql-after, sanitize). */
  sqlInTransaction?: { files: readonly string[]; input: string };
  /**
   * With `clean`: build the new contents beside the target and swap them in (the default), or, when
   * false, drop and restore in place in one transaction (one job). `always` replaces the target whole
   * even when it holds objects the archive does not carry (a seed: staging is the backup, nothing else).
   */
  swap?: boolean | 'always';
  /** masking-rules, loaded: ruled tables' rows are rewritten on their way (masked-jobs.ts: in one script or several). */
  maskingRules?: MaskingRules;
  /** Set by a swap, which runs the leak check itself after the SQL after, right before swapping. */
  leakWatch?: LeakWatch;
}

export interface RestoreResult {
  target: ServerFacts;
  client: ClientTools;
  choice: RestoreChoice;
  archive: ArchiveFacts;
  path: RestorePath;
  jobs: number;
  /** Why fewer jobs were used than `jobs` allowed (an archive without data offsets), when so. */
  jobsReason?: string;
  createdDatabase: boolean;
  /** The target was replaced by swap: built beside it, then renamed into its place. */
  swapped?: boolean;
  /** Session settings and meta-commands dropped on the script path, e.g. `transaction_timeout (1×)`. */
  filtered: string[];
  /** With masking-rules: the rows masked and left out, by table. */
  masked?: MaskingStream['rows'];
  /** With masking-rules: the leak check, per masked column (it throws when a column leaked). */
  leakCheck?: LeakResult[];
  /** With masking-rules: personal-looking columns of the target that no rule covers (a report). */
  coverage?: UncoveredColumn[];
  durationSeconds: number;
}

/**
 * The data-offset fact of a custom archive file, read from its TOC. Unreadable stays undefined
 * (one job); pg_restore itself then reports what is wrong with the archive.
 */
export async function withDataOffsets(archive: ArchiveFacts, file: string): Promise<ArchiveFacts> {
  if (archive.format !== 'custom') return archive;
  const dataOffsets = await readDataOffsets(file).catch(() => undefined);
  return dataOffsets === undefined ? archive : { ...archive, dataOffsets };
}

/** The client the version policy chooses for this archive and target server, provisioned. */
export async function restoreClientFor(
  archive: ArchiveFacts,
  server: ServerFacts,
  o: Omit<RestoreOptions, 'from'>,
): Promise<{ choice: RestoreChoice; client: ClientTools }> {
  const request = { archive, target: server.version, request: o.postgresVersion };
  const choice = await chooseRestoreClient(
    { ...request, allowDowngrade: o.allowDowngrade ?? false },
    o.catalog,
  );
  return { choice, client: await o.catalog.provideChosen(choice, o.log) };
}

/**
 * Everything a restore decides before it touches the target: the destructive-restore guard and
 * the client first, so that a refusal creates nothing (no database, no downloaded client), then the
 * target (created when missing).
 */
export async function prepareRestore(
  archive: ArchiveFacts,
  o: Omit<RestoreOptions, 'from'>,
): Promise<{ target: ServerFacts; choice: RestoreChoice; client: ClientTools; createdDatabase: boolean }> {
  const server = await serverFacts(maintenanceOf(o.to), 'to');
  await guardTargetBeforeCreating(o.to, { clean: o.clean ?? false, confirm: o.confirm });
  const { choice, client } = await restoreClientFor(archive, server, o);
  if (o.clean) await removeLeftovers(o.to, o.log);
  const createdDatabase = await ensureDatabase(o.to, o.createDatabase ?? true);
  const target = await undoCreatedOnFailure(createdDatabase, o.to, () => serverFacts(o.to, 'to'));
  return { target, choice, client, createdDatabase };
}

/**
 * `clean`: the drop statements run first in the restore's own transaction, so an archive that would
 * go straight to pg_restore goes through the script path (one job) instead.
 */
export async function cleanPlan(
  archive: ArchiveFacts,
  file: string,
  target: ServerFacts,
  path: RestorePath,
  log: Logger,
): Promise<{ prelude: string; path: RestorePath }> {
  const contents =
    archive.format === 'plain'
      ? await plainContents(file, archive)
      : await archiveContents(file, archive.format);
  if (path === 'pg_restore')
    log.info('clean: the drop and the restore run as one transaction through psql, with one job');
  return {
    prelude: cleanPrelude(contents, target.version.major),
    path: path === 'pg_restore' ? 'script' : path,
  };
}

/** The dumped database's own properties, read from the archive's TOC; plain dumps carry none. */
function archivePropertiesSql(
  archive: ArchiveFacts,
  file: string,
  o: Omit<RestoreOptions, 'from'>,
): (() => Promise<string>) | undefined {
  const format = archive.format;
  if (format === 'plain') return undefined;
  return databasePropertiesSql({
    entries: () => readTocEntries(file, format),
    target: o.to,
    options: propertyOptionsOf(o),
    log: o.log,
  });
}

/**
 * SQL after the restore runs in the restore's own transaction, which pgferry owns on the script
 * path only: then pg_restore writes the script and the restore takes one job.
 */
export function withSqlAfter(
  path: RestorePath,
  sqlAfter: RestoreOptions['sqlInTransaction'],
  log: Logger,
): RestorePath {
  if (!sqlAfter?.files.length || path !== 'pg_restore') return path;
  log.info(`${sqlAfter.input}: runs in the restore's own transaction, so the restore takes one job`);
  return 'script';
}

/** What prepareRestore settled: the target's facts, the client and whether the target was created. */
interface PreparedRestore {
  target: ServerFacts;
  choice: RestoreChoice;
  client: ClientTools;
  /** The target is new to this run (created, or a swap's scratch): a failure drops it, so any job count is all-or-nothing. */
  createdDatabase: boolean;
}

/**
 * Restores an archive or plain dump into the target with a client the version policy chose; stops at
 * the first error, and a single-job restore runs in one transaction so that a failure changes nothing.
 * A `clean` restore of a whole-database archive is built beside the target and swapped in
 * (replace-by-swap.ts) unless `swap` is false.
 */
export async function restoreFromPath(o: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const archive = await readArchiveFacts(o.from)
    .then((facts) => withDataOffsets(facts, o.from))
    .catch((error: unknown) => {
      throw error instanceof PgferryError ? new InputError('from', error.message) : error;
    });
  refuseRestoreJobs(archive.format, o.jobs);
  if (o.maskingRules) await checkRulesAgainstArchive(o.maskingRules, archive, o.from);
  // A directory archive's TOC is read once: for its data-file check and, when clean, for the swap.
  const toc = archive.format === 'directory' ? await readTocEntries(o.from, 'directory') : undefined;
  if (toc) await checkDirectoryData(o.from, toc);
  const swapEntries = await swapArchiveEntries(archive, o.from, o, toc);
  if (swapEntries) return restoreBySwap(archive, swapEntries, o, started);
  const prepared = await prepareRestore(archive, o);
  return undoCreatedOnFailure(prepared.createdDatabase, o.to, () =>
    applyRestore(archive, o, prepared, started),
  );
}

/**
 * The archive's TOC when this restore replaces the target by swap: `clean`, `swap` not false, and an
 * archive of the whole database. pg_dump writes the DATABASE entry only when it dumped everything
 * (no --schema or --table selection, not data-only); a partial archive, a plain dump or a restore
 * that selects objects itself replaces only what it carries, in place.
 */
async function swapArchiveEntries(
  archive: ArchiveFacts,
  file: string,
  o: RestoreOptions,
  /** The archive's TOC when it was read already. */
  read?: TocEntry[],
): Promise<TocEntry[] | undefined> {
  if (!o.clean || o.swap === false) return undefined;
  const inPlace = (why: string): undefined => {
    o.log.info(`clean: ${why}, so it drops and restores only what it carries, in place`);
    return undefined;
  };
  if (archive.format === 'plain') return inPlace('a plain dump carries no table of contents to build from');
  if (o.dataOnly) return inPlace('a data-only restore replaces rows, not the database');
  if (o.schemas?.length || o.excludeSchemas?.length || o.tables?.length)
    return inPlace('this restore selects schemas or tables');
  const entries = read ?? (await readTocEntries(file, archive.format));
  if (!entries.some((e) => e.desc === 'DATABASE'))
    return inPlace('the archive is a partial dump (made with a schema or table selection, or data only)');
  return entries;
}

/**
 * clean + swap: guards, the swap's lock and privileges, then the client, all before anything is
 * created; the restore itself runs into the scratch database as into a new one (in parallel where
 * the archive allows), the SQL after it there too, and only then is it swapped in.
 */
async function restoreBySwap(
  archive: ArchiveFacts,
  entries: readonly TocEntry[],
  o: RestoreOptions,
  started: number,
): Promise<RestoreResult> {
  const server = await serverFacts(maintenanceOf(o.to), 'to');
  const exists = await guardTargetBeforeCreating(o.to, { clean: true, confirm: o.confirm });
  if (!exists && o.createDatabase === false) await ensureDatabase(o.to, false);
  const inPlace = async (): Promise<RestoreResult> => {
    const prepared = await prepareRestore(archive, o);
    return undoCreatedOnFailure(prepared.createdDatabase, o.to, () =>
      applyRestore(archive, o, prepared, started),
    );
  };
  if (!(await swapKeepsMeaning(o, exists, entries))) return inPlace();
  const session = await prepareSwap(o.to, exists, 'swap');
  const { choice, client } = await restoreClientFor(archive, server, o).catch(async (error: unknown) => {
    await session.close();
    throw error;
  });
  o.log.info(
    `clean: building the new ${databaseName(o.to)} beside the target and swapping it in once it is complete (swap: false restores in place)`,
  );
  const request = {
    session,
    client,
    log: o.log,
    signal: o.signal,
    check: (built: ConnectionSpec) => checkTablesPresent(entries, built),
    keepClean: o.swap !== 'always',
    sqlAfter: o.sqlInTransaction,
    targetExisted: exists,
    started,
  };
  const rules = o.maskingRules;
  const leakWatch = rules ? new LeakWatch() : undefined;
  let checks: MaskingChecks | undefined;
  const lastCheck = async (built: ConnectionSpec) => {
    if (rules && leakWatch) checks = await checkMasked(leakWatch, rules, built, o.log);
  };
  const build = async (built: ConnectionSpec): Promise<RestoreResult> => {
    const target = await serverFacts(built, 'to');
    const into = {
      ...o,
      to: built,
      clean: false,
      confirm: undefined,
      sqlInTransaction: undefined,
      leakWatch,
    };
    return applyRestore(archive, into, { target, choice, client, createdDatabase: true }, started);
  };
  const result = await replaceOrInPlace({ ...request, lastCheck }, build, inPlace);
  return result.swapped && checks ? { ...result, ...checks } : result;
}

/** The restore proper, into a target prepareRestore (or a swap) settled. */
async function applyRestore(
  archive: ArchiveFacts,
  o: RestoreOptions,
  { target, choice, client, createdDatabase }: PreparedRestore,
  started: number,
): Promise<RestoreResult> {
  const clean = o.clean ? await cleanPlan(archive, o.from, target, choice.path, o.log) : undefined;
  const path = withMasking(
    withSqlAfter(clean?.path ?? choice.path, o.sqlInTransaction, o.log),
    o.maskingRules,
    o.log,
    { archive, jobs: o.jobs, createdDatabase, options: applyOptionsOf(o) },
  );
  const leaks = o.maskingRules ? (o.leakWatch ?? new LeakWatch()) : undefined;
  const masking = o.maskingRules ? new MaskingStream(o.maskingRules, leaks?.tap) : undefined;
  const { jobs, reason: jobsReason } = restoreJobs(archive, path, o.jobs, true, !createdDatabase);
  if (jobsReason !== undefined) {
    // Asked for by number, fewer jobs is worth a warning (it lands in the report); auto just says so.
    if (typeof o.jobs === 'number') {
      o.log.warn(jobsReason);
      choice.warnings.push(jobsReason);
    } else o.log.info(jobsReason);
  }
  if (o.transactionSize !== undefined && path !== 'pg_restore') {
    const why = `transaction-size does nothing here: this restore goes through a script in one transaction of pgferry's own`;
    o.log.warn(why);
    choice.warnings.push(why);
  }
  o.log.info(
    `restoring into ${describeConnection(o.to)} with ${path === 'psql' ? 'psql' : 'pg_restore'} ${formatVersion(client.version)} (${choice.reason}), ${jobs} job(s)`,
  );
  const undo = await undoOnFailure({ ...undoPlanOf(o, archive, target), path, jobs, createdDatabase });
  const filtered = await applyArchive({
    client,
    path,
    archive,
    input: { file: o.from },
    target: o.to,
    targetVersion: target.version,
    jobs,
    options: { ...applyOptionsOf(o), clean: false },
    prelude: clean?.prelude,
    after: o.sqlInTransaction,
    masking,
    epilogue: archivePropertiesSql(archive, o.from, o),
    signal: o.signal,
    onProgress: o.onProgress,
    inputBytes: sizeOnDisk(o.from),
    progressIntervalMs: o.progressIntervalMs,
  }).catch(undo);
  // Under a swap the checks run on the built database after the SQL after (lastCheck).
  const checks =
    o.maskingRules && leaks && !o.leakWatch ? await checkMasked(leaks, o.maskingRules, o.to, o.log) : {};
  if (filtered.length) {
    o.log.warn(`filtered from the script for PostgreSQL ${target.version.major}: ${filtered.join(', ')}`);
  }
  const durationSeconds = (Date.now() - started) / 1000;
  return {
    target,
    client,
    choice,
    archive,
    path,
    jobs,
    ...(jobsReason !== undefined ? { jobsReason } : {}),
    createdDatabase,
    filtered,
    ...(masking ? { masked: masking.rows, ...checks } : {}),
    durationSeconds,
  };
}
