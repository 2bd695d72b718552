import { stat } from 'node:fs/promises';
import type { JobHooks } from './job-hooks.js';
import type { Logger } from '../log.js';
import { readArchiveFacts, type ArchiveFacts } from '../pg/archive.js';
import type { ClientTools } from '../pg/client-tools.js';
import { describeConnection, type ConnectionSpec } from '../pg/connection.js';
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
import { readTocEntries } from '../pg/archive-toc.js';
import { defaultJobs } from './dump.js';

export interface RestoreOptions extends ApplyOptions, JobHooks {
  /** An archive file, a directory archive, or a plain `.sql` / `.sql.gz`. */
  from: string;
  to: ConnectionSpec;
  jobs: number | 'auto';
  confirm?: string;
  createDatabase?: boolean;
  allowDowngrade?: boolean;
  postgresVersion: VersionRequest;
}

export interface RestoreResult {
  target: ServerFacts;
  client: ClientTools;
  choice: RestoreChoice;
  archive: ArchiveFacts;
  path: RestorePath;
  jobs: number;
  createdDatabase: boolean;
  /** Session settings and meta-commands dropped on the script path, e.g. `transaction_timeout (1×)`. */
  filtered: string[];
  durationSeconds: number;
}

/** Parallel restore needs a seekable custom file or a directory archive, on the direct path. */
export function restoreJobs(
  archive: ArchiveFacts,
  path: RestorePath,
  jobs: number | 'auto',
  seekable: boolean,
): number {
  const parallelOk =
    seekable && path === 'pg_restore' && (archive.format === 'custom' || archive.format === 'directory');
  if (!parallelOk) return 1;
  return jobs === 'auto' ? defaultJobs() : jobs;
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
  const choice = await chooseRestoreClient(
    {
      archive,
      target: server.version,
      request: o.postgresVersion,
      allowDowngrade: o.allowDowngrade ?? false,
    },
    o.catalog,
  );
  choice.warnings.forEach((w) => o.log.warn(w));
  const client = await o.catalog.provide(choice.version);
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
 * Restores an archive or plain dump into the target with a client the version policy chose; stops at
 * the first error, and a single-job restore runs in one transaction so that a failure changes nothing.
 */
export async function restoreFromPath(o: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const archive = await readArchiveFacts(o.from).catch((error: unknown) => {
    throw error instanceof PgferryError ? new InputError('from', error.message) : error;
  });
  const { target, choice, client, createdDatabase } = await prepareRestore(archive, o);
  return undoCreatedOnFailure(createdDatabase, o.to, async () => {
    const clean = o.clean ? await cleanPlan(archive, o.from, target, choice.path, o.log) : undefined;
    const path = clean?.path ?? choice.path;
    const jobs = restoreJobs(archive, path, o.jobs, true);
    o.log.info(
      `restoring into ${describeConnection(o.to)} with ${path === 'psql' ? 'psql' : 'pg_restore'} ${formatVersion(client.version)} (${choice.reason}), ${jobs} job(s)`,
    );
    const inputSize = (await stat(o.from)).size;
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
      epilogue: archivePropertiesSql(archive, o.from, o),
      signal: o.signal,
      onProgress: o.onProgress && ((p) => o.onProgress?.({ ...p, bytes: p.bytes || inputSize })),
      progressIntervalMs: o.progressIntervalMs,
    });
    if (filtered.length) {
      o.log.warn(`filtered from the script for PostgreSQL ${target.version.major}: ${filtered.join(', ')}`);
    }
    const durationSeconds = (Date.now() - started) / 1000;
    return { target, client, choice, archive, path, jobs, createdDatabase, filtered, durationSeconds };
  });
}
