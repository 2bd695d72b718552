import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import { readArchiveFacts, type ArchiveFacts } from '../pg/archive.js';
import { pgRestoreArgs, psqlArgs, type ObjectFilters } from '../pg/args.js';
import { toolPath, type ClientTools } from '../pg/client-tools.js';
import {
  connectionEnv,
  databaseName,
  describeConnection,
  secretsOf,
  type ConnectionSpec,
} from '../pg/connection.js';
import { chooseRestoreClient, type RestoreChoice, type RestorePath } from '../pg/policy.js';
import type { ClientCatalog } from '../pg/provision.js';
import { runTool, type Progress } from '../pg/run.js';
import { needsFilter, psqlKnowsRestrict, ScriptFilter } from '../pg/script-filter.js';
import { serverFacts, type ServerFacts } from '../pg/server.js';
import { checkDestructiveRestore, ensureDatabase } from '../pg/target-database.js';
import type { VersionRequest } from '../pg/version.js';
import { defaultJobs } from './dump.js';

export interface RestoreOptions extends ObjectFilters {
  /** An archive file, a directory archive, or a plain `.sql` / `.sql.gz`. */
  from: string;
  to: ConnectionSpec;
  jobs: number | 'auto';
  clean?: boolean;
  confirm?: string;
  createDatabase?: boolean;
  allowDowngrade?: boolean;
  postgresVersion: VersionRequest;
  schemaOnly?: boolean;
  dataOnly?: boolean;
  noOwner?: boolean;
  noPrivileges?: boolean;
  extraArgs?: string[];
  catalog: ClientCatalog;
  log: Logger;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
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

/** Parallel restore needs a seekable custom file or a directory archive. */
function restoreJobs(archive: ArchiveFacts, path: RestorePath, jobs: number | 'auto'): number {
  const parallelOk = path === 'pg_restore' && (archive.format === 'custom' || archive.format === 'directory');
  if (!parallelOk) return 1;
  return jobs === 'auto' ? defaultJobs() : jobs;
}

/**
 * Restores an archive or plain dump into the target with a client the version policy chose; stops at
 * the first error, and a single-job restore runs in one transaction so that a failure changes nothing.
 */
export async function restoreFromPath(o: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const archive = await readArchiveFacts(o.from);
  const createdDatabase = await ensureDatabase(o.to, o.createDatabase ?? true);
  const target = await serverFacts(o.to, 'to');
  checkDestructiveRestore({
    database: target.database,
    clean: o.clean ?? false,
    hasUserTables: target.hasUserTables,
    confirm: o.confirm,
  });
  const choice = await chooseRestoreClient(
    {
      archive,
      target: target.version,
      request: o.postgresVersion,
      allowDowngrade: o.allowDowngrade ?? false,
    },
    o.catalog,
  );
  choice.warnings.forEach((w) => o.log.warn(w));
  const client = await o.catalog.provide(choice.version);
  const jobs = restoreJobs(archive, choice.path, o.jobs);
  o.log.info(
    `restoring into ${describeConnection(o.to)} with ${choice.path === 'psql' ? 'psql' : 'pg_restore'} ${client.version.major}.${client.version.minor ?? '?'} (${choice.reason}), ${jobs} job(s)`,
  );

  const env = connectionEnv(o.to);
  const secrets = secretsOf(o.to);
  const common = { env, secrets, signal: o.signal, onProgress: o.onProgress };
  let filtered: string[] = [];
  if (choice.path === 'pg_restore') {
    const inputSize = (await stat(o.from)).size;
    await runTool({
      ...common,
      file: toolPath(client, 'pg_restore'),
      args: pgRestoreArgs({
        ...o,
        clientMajor: client.version.major,
        dbname: databaseName(o.to),
        file: o.from,
        jobs,
        singleTransaction: jobs === 1,
        exitOnError: true,
        ifExists: o.clean,
      }),
      stdout: 'ignore',
      measureBytes: () => inputSize,
    });
  } else {
    const rules = { targetServer: target.version, psqlKnowsRestrict: psqlKnowsRestrict(client.version) };
    const filter = new ScriptFilter(rules);
    const controller = new AbortController();
    const signal = o.signal ? AbortSignal.any([o.signal, controller.signal]) : controller.signal;
    let source: Readable;
    let producer: Promise<unknown> = Promise.resolve();
    if (choice.path === 'psql') {
      const raw = createReadStream(o.from);
      source = archive.compression === 'gzip' ? raw.pipe(createGunzip()) : raw;
      if (needsFilter(rules, archive.dumpVersion)) source = source.pipe(filter);
    } else {
      source = filter;
      producer = runTool({
        ...common,
        signal,
        file: toolPath(client, 'pg_restore'),
        args: pgRestoreArgs({
          ...o,
          clientMajor: client.version.major,
          file: o.from,
          jobs: 1,
          toStdout: true,
          exitOnError: true,
          ifExists: o.clean,
        }),
        stdout: filter,
      });
    }
    const consumer = runTool({
      ...common,
      signal,
      file: toolPath(client, 'psql'),
      args: psqlArgs({ file: '-', onErrorStop: true, singleTransaction: true, quiet: true }),
      stdin: source,
      stdout: 'ignore',
    });
    // Whichever side fails first stops the other, and its error is the one reported.
    await Promise.all(
      [producer, consumer].map((p) => p.catch((e: unknown) => (controller.abort(e), Promise.reject(e)))),
    );
    filtered = filter.summary();
    if (filtered.length)
      o.log.warn(`filtered from the script for PostgreSQL ${target.version.major}: ${filtered.join(', ')}`);
  }
  return {
    target,
    client,
    choice,
    archive,
    path: choice.path,
    jobs,
    createdDatabase,
    filtered,
    durationSeconds: (Date.now() - started) / 1000,
  };
}
