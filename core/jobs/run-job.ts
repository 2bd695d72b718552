import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { InputError, PgferryError } from '../errors.js';
import type { Logger } from '../log.js';
import type { JobOptions } from '../options.js';
import type { ClientTools } from '../pg/client-tools.js';
import type { ClientStore } from '../pg/client-store.js';
import { chooseInstallClient } from '../pg/policy.js';
import { ClientCatalog } from '../pg/provision.js';
import type { Progress } from '../pg/run.js';
import { serverFacts } from '../pg/server.js';
import { formatVersion } from '../pg/version.js';
import { manifestKey } from '../storage/backup-layout.js';
import { formatLocation } from '../storage/location.js';
import { putJson } from '../storage/manifest.js';
import { s3Client } from '../storage/s3-client.js';
import { describeConnection } from '../pg/connection.js';
import { backupDatabase, type BackupResult } from './backup.js';
import { dumpToS3, manifestOf } from './dump-to-s3.js';
import { restoreFromS3 } from './restore-s3.js';
import { copyDatabase } from './copy.js';
import { dumpToPath } from './dump.js';
import { applyGlobals, dumpGlobals } from './globals.js';
import { countArchiveTables, countDatabaseTables, sha256File, type JobReport } from './report.js';
import { restoreFromPath } from './restore.js';
import { checkSqlAfterFiles, runSqlAfter } from './sql-after.js';

export interface JobContext {
  log: Logger;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** The Action's tool cache; elsewhere the default cache directory. */
  store?: ClientStore;
  cacheDir?: string;
  /** Explicit client bin directory (PGFERRY_BIN_DIR). */
  binDir?: string;
  /** GitHub token for the releases API. */
  token?: string;
}

export function catalogFor(options: JobOptions, ctx: JobContext): ClientCatalog {
  return new ClientCatalog({
    log: ctx.log,
    mirror: options.mirror,
    cache: options.cache,
    cacheDir: ctx.cacheDir,
    store: ctx.store,
    binDir: ctx.binDir,
    token: ctx.token,
    signal: ctx.signal,
  });
}

function version(tools: ClientTools): string {
  return formatVersion(tools.version);
}

/** The report fields every command has about its client. */
function clientFields(tools: ClientTools): Pick<JobReport, 'clientVersion' | 'clientSource' | 'binDir'> {
  return { clientVersion: version(tools), clientSource: tools.source, binDir: tools.binDir };
}

/** A dump's roles and tablespaces travel beside it, and a restore applies them first. */
export function globalsPath(archive: string): string {
  return `${archive}.globals.sql`;
}

/** Runs one command of the contract and reports in the contract's terms. */
export async function runJob(options: JobOptions, ctx: JobContext): Promise<JobReport> {
  const catalog = catalogFor(options, ctx);
  const common = { catalog, log: ctx.log, signal: ctx.signal, onProgress: ctx.onProgress };
  const started = Date.now();
  switch (options.command) {
    case 'install': {
      const server = options.source ? await serverFacts(options.source, 'from') : undefined;
      const choice = await chooseInstallClient(server?.version, options.postgresVersion, catalog);
      choice.warnings.forEach((w) => ctx.log.warn(w));
      const tools = await catalog.provide(choice.version);
      return {
        command: 'install',
        ...clientFields(tools),
        serverVersion: server?.versionText,
        durationSeconds: (Date.now() - started) / 1000,
        reason: choice.reason,
        warnings: choice.warnings,
        filtered: [],
      };
    }
    case 'dump': {
      const destination = options.destination;
      if (!options.source || !destination) throw new PgferryError('dump needs from and to');
      if (destination.kind === 's3') return dumpToS3Job(options, ctx, catalog, destination, started);
      const result = await dumpToPath({ ...options, ...common, from: options.source, to: destination.path });
      if (options.globals) {
        const globals = globalsPath(destination.path);
        // An existing file keeps its mode through writeFile: chmod first, so the roles are never readable.
        await chmod(globals, 0o600).catch(() => {});
        await writeFile(globals, await dumpGlobals(result.client, options.source, ctx.signal), {
          mode: 0o600,
        });
      }
      // The file's hash and its table count are independent reads: done side by side.
      const [sha256, tables] = await Promise.all([
        sha256File(destination.path),
        result.format === 'plain' ? undefined : countArchiveTables(destination.path, result.format),
      ]);
      return {
        command: 'dump',
        ...clientFields(result.client),
        serverVersion: result.server.versionText,
        location: formatLocation(destination),
        bytes: result.bytes,
        sha256,
        format: result.format,
        archiveVersion: result.archive.archiveVersion,
        durationSeconds: (Date.now() - started) / 1000,
        tocEntries: result.archive.tocEntries,
        tables,
        reason: result.choice.reason,
        warnings: result.choice.warnings,
        filtered: [],
      };
    }
    case 'restore': {
      const archive = options.archive;
      if (!archive || !options.target) throw new PgferryError('restore needs from and to');
      await checkSqlAfterFiles(options.sqlAfter);
      if (archive.kind === 'file' && !existsSync(archive.path))
        throw new InputError('from', `${archive.path} does not exist`);
      const globals = archive.kind === 'file' ? globalsPath(archive.path) : undefined;
      const withGlobals = globals !== undefined && existsSync(globals);
      // sql-after commits with the restore, unless roles from a globals file must come in between.
      const sqlInTransaction = withGlobals ? undefined : { files: options.sqlAfter, input: 'sql-after' };
      const result =
        archive.kind === 's3'
          ? await restoreFromS3({
              ...options,
              ...common,
              sqlInTransaction,
              to: options.target,
              s3: s3Client(options.s3),
              settings: options.s3,
              bucket: archive.bucket,
              key: archive.key,
            })
          : {
              ...(await restoreFromPath({
                ...options,
                ...common,
                sqlInTransaction,
                from: archive.path,
                to: options.target,
              })),
              location: archive.path,
            };
      if (globals && withGlobals) {
        ctx.log.info(`applying roles and tablespaces from ${globals}`);
        await applyGlobals(
          result.client,
          options.target,
          result.target.version,
          await readFile(globals, 'utf8'),
          ctx.signal,
        );
      }
      if (withGlobals) await runSqlAfter(result.client, options.target, options.sqlAfter, ctx.signal);
      return {
        command: 'restore',
        ...clientFields(result.client),
        serverVersion: result.target.versionText,
        location: result.location,
        format: result.archive.format,
        archiveVersion: result.archive.archiveVersion,
        durationSeconds: (Date.now() - started) / 1000,
        tocEntries: result.archive.tocEntries,
        tables: await countDatabaseTables(options.target),
        reason: result.choice.reason,
        warnings: result.choice.warnings,
        filtered: result.filtered,
      };
    }
    case 'copy': {
      if (!options.source || !options.target) throw new PgferryError('copy needs from and to');
      await checkSqlAfterFiles(options.sqlAfter);
      const result = await copyDatabase({ ...options, ...common, from: options.source, to: options.target });
      return {
        command: 'copy',
        ...clientFields(result.restore.client),
        serverVersion: result.target.versionText,
        format: 'custom',
        durationSeconds: (Date.now() - started) / 1000,
        tables: await countDatabaseTables(options.target),
        reason: `dump: ${result.dump.choice.reason}; restore: ${result.restore.choice.reason}`,
        warnings: [...result.dump.choice.warnings, ...result.restore.choice.warnings],
        filtered: result.filtered,
      };
    }
    case 'backup':
      return backupJob(options, ctx, catalog, started);
  }
}

async function dumpToS3Job(
  options: JobOptions,
  ctx: JobContext,
  catalog: ClientCatalog,
  destination: { bucket: string; key: string },
  started: number,
): Promise<JobReport> {
  if (!options.source) throw new InputError('from', 'is required');
  if (!destination.key || destination.key.endsWith('/')) {
    throw new InputError(
      'to',
      `s3://${destination.bucket}/${destination.key} is a prefix; a dump needs an object key (use backup for a prefix)`,
    );
  }
  if (options.format !== 'custom') {
    throw new InputError(
      'format',
      `a dump streamed to S3 is written in the custom format, not ${options.format}`,
    );
  }
  const s3 = s3Client(options.s3);
  const result = await dumpToS3({
    ...options,
    from: options.source,
    s3,
    settings: options.s3,
    bucket: destination.bucket,
    key: destination.key,
    input: 'to',
    catalog,
    log: ctx.log,
    signal: ctx.signal,
    onProgress: ctx.onProgress,
  });
  // Every object pgferry writes has a manifest a restore can check. A dump goes where the caller
  // said, replacing what was there (as a dump to a file does), so its manifest replaces the old one.
  const location = `s3://${destination.bucket}/${destination.key}`;
  const manifest = manifestKey(destination.key);
  await putJson(s3, options.s3, destination.bucket, manifest, manifestOf(result, destination), 'to').catch(
    (error: unknown) => {
      throw new PgferryError(
        `the dump was stored at ${location}, but its manifest was not (${(error as Error).message}); a restore refuses the object until a dump writes both`,
        { cause: error },
      );
    },
  );
  return {
    command: 'dump',
    ...clientFields(result.client),
    serverVersion: result.server.versionText,
    location,
    manifest: `s3://${destination.bucket}/${manifest}`,
    bytes: result.bytes,
    sha256: result.sha256,
    format: 'custom',
    archiveVersion: result.archive.archiveVersion,
    durationSeconds: (Date.now() - started) / 1000,
    tocEntries: result.archive.tocEntries,
    reason: result.choice.reason,
    warnings: result.choice.warnings,
    filtered: [],
  };
}

/** Each database of `from` in turn; all are attempted, and the run fails if any failed. */
async function backupJob(
  options: JobOptions,
  ctx: JobContext,
  catalog: ClientCatalog,
  started: number,
): Promise<JobReport> {
  const destination = options.destination;
  if (destination?.kind !== 's3')
    throw new InputError('to', 'backup stores to S3; expected an s3://bucket/prefix/ URI');
  const s3 = s3Client(options.s3);
  const done: BackupResult[] = [];
  const failures: string[] = [];
  for (const from of options.sources) {
    try {
      done.push(
        await backupDatabase({
          ...options,
          from,
          s3,
          settings: options.s3,
          bucket: destination.bucket,
          prefix: destination.key,
          catalog,
          log: ctx.log,
          signal: ctx.signal,
          onProgress: ctx.onProgress,
        }),
      );
    } catch (error) {
      if (options.sources.length === 1) throw error;
      failures.push((error as Error).message);
      ctx.log.warn(`backup of ${describeConnection(from)} failed: ${(error as Error).message}`);
    }
  }
  if (failures.length)
    throw new PgferryError(
      `${failures.length} of ${options.sources.length} backups failed:\n${failures.join('\n')}`,
    );
  const first = done[0];
  if (!first) throw new InputError('from', 'names no database to back up');
  return {
    command: 'backup',
    ...clientFields(first.client),
    serverVersion: first.manifest.serverVersion,
    location: done.map((d) => `s3://${d.manifest.bucket}/${d.manifest.key}`).join('\n'),
    bytes: done.reduce((sum, d) => sum + d.manifest.bytes, 0),
    sha256: done.map((d) => d.manifest.sha256).join('\n'),
    format: 'custom',
    archiveVersion: first.manifest.archiveVersion,
    durationSeconds: (Date.now() - started) / 1000,
    tocEntries: first.manifest.tocEntries,
    manifest: done.map((d) => d.manifestUri).join('\n'),
    reason: [...new Set(done.map((d) => d.reason))].join('; '),
    warnings: [],
    filtered: [],
  };
}
