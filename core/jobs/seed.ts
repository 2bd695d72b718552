import { InputError } from '../errors.js';
import { databaseName, describeConnection, type ConnectionSpec } from '../pg/connection.js';
import { isSameDatabase } from '../pg/same-database.js';
import { connect } from '../pg/server.js';
import type { VersionRequest } from '../pg/version.js';
import { latestKey } from '../storage/backup-layout.js';
import type { S3Bucket } from '../storage/s3-bucket.js';
import type { JobHooks } from './job-hooks.js';
import { restoreFromS3 } from './restore-s3.js';
import type { RestoreResult } from './restore.js';
import { checkSqlAfterFiles } from './sql-after.js';
import { tableCounts } from './table-counts.js';
import type { MaskingRules } from '../masking/rules.js';

export interface SeedOptions extends JobHooks {
  /** The database the backups were made of: staging must never be it. */
  source: ConnectionSpec;
  /** The staging database, replaced by the latest verified backup. */
  to: ConnectionSpec;
  bucket: S3Bucket;
  prefix: string;
  /** Whose latest backup seeds staging (a database name under the prefix). */
  database: string;
  /** Must equal the staging database's name: seeding replaces what it holds. */
  confirm?: string;
  /** Local SQL files run on staging in one transaction after the restore (anonymisation). */
  sanitizeSql: string[];
  /** How the caller names the sanitize SQL in messages (`PGFERRY_SANITIZE_SQL` in the scheduled job). */
  sanitizeInput?: string;
  jobs: number | 'auto';
  postgresVersion: VersionRequest;
  /** Build the new staging beside the old and swap it in (the default), or replace it in place. */
  swap?: boolean;
  /** masking-rules, loaded: the rows are masked on their way into staging (the backup is downloaded first). */
  maskingRules?: MaskingRules;
}

export interface SeedResult {
  location: string;
  restore: RestoreResult;
  tables: number;
  rows: number;
  sanitized: number;
}

/** The directory form `s3://bucket/<prefix>/<db>/`, which means "its latest verified backup". */
export function latestPrefix(prefix: string, database: string): string {
  return latestKey(prefix, database).replace(/latest\.json$/, '');
}

/**
 * Staging seeding: the latest verified backup of `database` restored into staging (clean, guarded by
 * `confirm`), then the sanitize SQL in one transaction. Staging that is the source itself is refused
 * before anything is read or dropped.
 */
export async function seedDatabase(o: SeedOptions): Promise<SeedResult> {
  const input = o.sanitizeInput ?? 'sanitize-sql';
  await checkSqlAfterFiles(o.sanitizeSql, input);
  if (await isSameDatabase(o.source, o.to)) {
    throw new InputError(
      'to',
      `the staging database ${describeConnection(o.to)} is the source itself; seeding would replace production data with its own backup`,
    );
  }
  if (o.sanitizeSql.length)
    o.log.info(
      `sanitizing ${databaseName(o.to)} (${o.sanitizeSql.length} file(s)) before the restored rows carry its name`,
    );
  const restore = await restoreFromS3({
    bucket: o.bucket,
    key: latestPrefix(o.prefix, o.database),
    to: o.to,
    clean: true,
    // Staging becomes the backup, nothing else: what it held beside is replaced too.
    swap: o.swap === false ? false : 'always',
    // Production's roles rarely exist on a staging server: staging objects belong to its own login,
    // and grants there are the sanitize SQL's business.
    noOwner: true,
    noPrivileges: true,
    confirm: o.confirm,
    createDatabase: true,
    jobs: o.jobs,
    // In the restore's own transaction: raw rows are never committed under the staging name.
    sqlInTransaction: { files: o.sanitizeSql, input },
    maskingRules: o.maskingRules,
    postgresVersion: o.postgresVersion,
    catalog: o.catalog,
    log: o.log,
    signal: o.signal,
    onProgress: o.onProgress,
    progressIntervalMs: o.progressIntervalMs,
  });
  const client = await connect(o.to, 'to');
  const counts = await tableCounts(client).finally(() => client.end());
  return {
    location: restore.location,
    restore,
    tables: counts.tables,
    rows: counts.rows,
    sanitized: o.sanitizeSql.length,
  };
}
