import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { PgferryError } from '../errors.js';
import type { Logger } from '../log.js';
import type { JobOptions } from '../options.js';
import type { ClientTools } from '../pg/client-tools.js';
import type { ClientStore } from '../pg/client-store.js';
import { chooseInstallClient } from '../pg/policy.js';
import { ClientCatalog } from '../pg/provision.js';
import type { Progress } from '../pg/run.js';
import { serverFacts } from '../pg/server.js';
import { formatVersion } from '../pg/version.js';
import { formatLocation } from '../storage/location.js';
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
        clientVersion: version(tools),
        clientSource: tools.source,
        serverVersion: server?.versionText,
        binDir: tools.binDir,
        durationSeconds: (Date.now() - started) / 1000,
        reason: choice.reason,
        warnings: choice.warnings,
        filtered: [],
      };
    }
    case 'dump': {
      const destination = options.destination;
      if (!options.source || !destination) throw new PgferryError('dump needs from and to');
      if (destination.kind !== 'file')
        throw new PgferryError('to: s3:// destinations need the S3 storage support');
      const result = await dumpToPath({ ...options, ...common, from: options.source, to: destination.path });
      if (options.globals) {
        await writeFile(
          globalsPath(destination.path),
          await dumpGlobals(result.client, options.source, ctx.signal),
          { mode: 0o600 },
        );
      }
      return {
        command: 'dump',
        clientVersion: version(result.client),
        clientSource: result.client.source,
        serverVersion: result.server.versionText,
        binDir: result.client.binDir,
        location: formatLocation(destination),
        bytes: result.bytes,
        sha256: await sha256File(destination.path),
        format: result.format,
        archiveVersion: result.archive.archiveVersion,
        durationSeconds: (Date.now() - started) / 1000,
        tocEntries: result.archive.tocEntries,
        tables:
          result.format === 'plain' ? undefined : await countArchiveTables(result.client, destination.path),
        reason: result.choice.reason,
        warnings: result.choice.warnings,
        filtered: [],
      };
    }
    case 'restore': {
      const archive = options.archive;
      if (!archive || !options.target) throw new PgferryError('restore needs from and to');
      if (archive.kind !== 'file') throw new PgferryError('from: s3:// sources need the S3 storage support');
      if (!existsSync(archive.path)) throw new PgferryError(`from: ${archive.path} does not exist`);
      await checkSqlAfterFiles(options.sqlAfter);
      const result = await restoreFromPath({ ...options, ...common, from: archive.path, to: options.target });
      const globals = globalsPath(archive.path);
      if (existsSync(globals)) {
        ctx.log.info(`applying roles and tablespaces from ${globals}`);
        await applyGlobals(
          result.client,
          options.target,
          result.target.version,
          await readFile(globals, 'utf8'),
          ctx.signal,
        );
      }
      await runSqlAfter(result.client, options.target, options.sqlAfter, ctx.signal);
      return {
        command: 'restore',
        clientVersion: version(result.client),
        clientSource: result.client.source,
        serverVersion: result.target.versionText,
        binDir: result.client.binDir,
        location: formatLocation(archive),
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
        clientVersion: version(result.restore.client),
        clientSource: result.restore.client.source,
        serverVersion: result.target.versionText,
        binDir: result.restore.client.binDir,
        format: 'custom',
        durationSeconds: (Date.now() - started) / 1000,
        tables: await countDatabaseTables(options.target),
        reason: `dump: ${result.dump.choice.reason}; restore: ${result.restore.choice.reason}`,
        warnings: [...result.dump.choice.warnings, ...result.restore.choice.warnings],
        filtered: result.filtered,
      };
    }
    case 'backup':
      throw new PgferryError('backup needs the S3 storage support');
  }
}
