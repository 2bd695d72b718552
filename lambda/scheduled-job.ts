import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import os from 'node:os';
import path from 'node:path';
import { InputError, PgferryError } from '../core/errors.js';
import { backupDatabase } from '../core/jobs/backup.js';
import { seedDatabase } from '../core/jobs/seed.js';
import { withDatabase } from '../core/pg/connection.js';
import { ClientCatalog } from '../core/pg/clients/catalog.js';
import type { Progress } from '../core/pg/run.js';
import { latestKey } from '../core/storage/backup-layout.js';
import type { LatestPointer, Verification } from '../core/storage/manifest.js';
import { S3Bucket } from '../core/storage/s3-bucket.js';
import type { ScheduledJobConfig } from './config.js';
import { seedLogin, sourceLogin } from './credentials.js';
import { stdoutSink, type JsonLog } from './json-log.js';
import { Metrics, verifiedBackupMetrics } from './metrics.js';
import { localSqlFiles } from './sanitize-sql.js';
import { asMaskingVariable, jobMaskingRules, type JobCompute } from './masking-rules.js';
import { seedMasking, type SeedMasking } from './seed-masking.js';

export interface BackupSummary {
  database: string;
  location: string;
  manifest: string;
  bytes: number;
  sha256: string;
  durationSeconds: number;
  verification: Verification;
  clientVersion: string;
  serverVersion: string;
}

export interface SeedSummary {
  database: string;
  from: string;
  tables: number;
  rows: number;
  sanitizeFiles: number;
  /** Staging was built beside the old one and swapped in (PGFERRY_SWAP), not replaced in place. */
  swapped: boolean;
  /** PGFERRY_MASKING_RULES: what was masked, the leak check and the coverage report. */
  masking?: SeedMasking;
}

/** What a run returns (the Lambda's result) and logs as its last line. */
export interface ScheduledJobSummary {
  job: 'backup' | 'seed';
  ok: boolean;
  durationSeconds: number;
  backups: BackupSummary[];
  failures: { database: string; error: string }[];
  seed?: SeedSummary;
}

export interface ScheduledJobContext {
  config: ScheduledJobConfig;
  log: JsonLog;
  metrics: Metrics;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  now?: () => Date;
  /** Where the job runs (the handler says lambda): a plain PGFERRY_MASKING_KEY is refused on Lambda. */
  compute?: JobCompute;
}

/** A run that failed after doing what it could; `summary` says which databases made it. */
export class ScheduledJobError extends PgferryError {
  override readonly name = 'ScheduledJobError';
  constructor(
    message: string,
    readonly summary: ScheduledJobSummary,
  ) {
    super(message);
  }
}

/** The client tools a run may use: the staged ones, else (when allowed) downloaded into the cache. */
export function catalogFor(
  ctx: Pick<ScheduledJobContext, 'config' | 'log' | 'env' | 'signal'>,
): ClientCatalog {
  const { config } = ctx;
  return new ClientCatalog({
    log: ctx.log,
    // The pre-staged layer (or image) is the only "installed" place looked at.
    installedDirs: (major) => [path.join(config.clientsDir, String(major), 'bin')],
    downloads: config.provision,
    mirror: config.mirror,
    minClientVersion: config.minClientVersion,
    clientSource: config.clientSource,
    cacheDir: ctx.env.PGFERRY_CACHE_DIR ?? path.join(os.tmpdir(), 'pgferry', 'pg'),
    offlineHint: `stage that major into ${config.clientsDir} (the construct's postgresMajors) or set PGFERRY_PROVISION=true`,
    signal: ctx.signal,
  });
}

export function progressLogger(log: JsonLog, database: string): (p: Progress) => void {
  return (p) =>
    log.step('progress', {
      database,
      bytes: p.bytes,
      seconds: Math.round(p.elapsedMs / 1000),
      mibPerSecond: Number((p.bytesPerSecond / 1048576).toFixed(1)),
    });
}

/** Seconds since the newest verified backup of `database` finished; undefined when there is none. */
export async function latestAgeSeconds(
  bucket: S3Bucket,
  ctx: Pick<ScheduledJobContext, 'config' | 'now'>,
  database: string,
): Promise<number | undefined> {
  const latest = await bucket
    .getJson<LatestPointer>(latestKey(ctx.config.prefix, database), 'PGFERRY_BUCKET')
    .catch(() => undefined);
  if (!latest) return undefined;
  const now = (ctx.now ?? (() => new Date()))().getTime();
  return Math.max(0, Math.round((now - Date.parse(latest.finishedAt)) / 1000));
}

async function runBackups(ctx: ScheduledJobContext, summary: ScheduledJobSummary): Promise<void> {
  const { config, log, metrics } = ctx;
  const secrets = new SecretsManagerClient({ region: ctx.env.AWS_REGION });
  const login = await sourceLogin(config, secrets, ctx.env.AWS_REGION);
  log.mask(...login.secrets);
  const databases = config.databases.length
    ? config.databases
    : login.defaultDatabase
      ? [login.defaultDatabase]
      : [];
  if (databases.length === 0) {
    throw new PgferryError(
      'PGFERRY_DATABASES: is required because the source secret names no dbname; expected database names',
    );
  }
  log.step('plan', { databases, bucket: config.bucket, prefix: config.prefix, verify: config.verify });
  const bucket = await S3Bucket.open(config.s3, config.bucket, ctx.env);
  const catalog = catalogFor(ctx);
  for (const database of databases) {
    if (ctx.signal?.aborted) {
      summary.failures.push({ database, error: 'not started: the run was stopped' });
      continue;
    }
    const dimensions = { Job: 'backup', Database: database };
    const started = Date.now();
    log.step('backup', { database, state: 'started' });
    try {
      const { manifest, manifestUri } = await backupDatabase({
        from: withDatabase(login.base, database),
        bucket,
        prefix: config.prefix,
        verify: config.verify,
        compress: config.compress,
        postgresVersion: config.postgresVersion,
        jobs: config.jobs,
        catalog,
        log,
        signal: ctx.signal,
        onProgress: progressLogger(log, database),
        now: ctx.now,
      });
      const result: BackupSummary = {
        database,
        location: `s3://${manifest.bucket}/${manifest.key}`,
        manifest: manifestUri,
        bytes: manifest.bytes,
        sha256: manifest.sha256,
        durationSeconds: manifest.durationSeconds,
        verification: manifest.verification,
        clientVersion: manifest.clientVersion,
        serverVersion: manifest.serverVersion,
      };
      summary.backups.push(result);
      log.step('backup', { ...result, state: 'verified' });
      metrics.emit(dimensions, verifiedBackupMetrics(manifest));
    } catch (error) {
      const message = (error as Error).message;
      summary.failures.push({ database, error: message });
      log.failed('backup', error);
      metrics.emit(dimensions, {
        Success: 0,
        Failure: 1,
        VerifiedBackups: 0,
        DurationSeconds: (Date.now() - started) / 1000,
        LatestVerifiedBackupAgeSeconds: await latestAgeSeconds(bucket, ctx, database),
      });
    }
  }
}

/** The engine names its inputs as the CLI does; here they are the seed's variables. */
function asSeedInputError(error: unknown): Error {
  const names: Record<string, string> = {
    confirm: 'PGFERRY_SEED_CONFIRM',
    to: 'PGFERRY_SEED_DATABASE',
    from: 'PGFERRY_SEED_FROM_DATABASE',
    swap: 'PGFERRY_SWAP',
  };
  if (error instanceof InputError && names[error.input])
    return new InputError(names[error.input] ?? error.input, error.problem);
  return asMaskingVariable(error) as Error;
}

async function runSeed(ctx: ScheduledJobContext, summary: ScheduledJobSummary): Promise<void> {
  const { config, log, metrics } = ctx;
  const seed = config.seed;
  if (!seed) throw new PgferryError('PGFERRY_SEED_SECRET_ARN: is required for the seed job');
  const secrets = new SecretsManagerClient({ region: ctx.env.AWS_REGION });
  const bucket = await S3Bucket.open(config.s3, config.bucket, ctx.env);
  // First: bad rules refuse before any server is reached, let alone staging.
  const maskingRules = await jobMaskingRules(seed, bucket, secrets, ctx.env, log, ctx.compute);
  const source = await sourceLogin(config, secrets, ctx.env.AWS_REGION);
  log.mask(...source.secrets);
  const staging = await seedLogin(config, secrets);
  log.mask(...staging.secrets);
  const from = seed.fromDatabase ?? config.databases[0] ?? source.defaultDatabase;
  if (!from)
    throw new PgferryError(
      'PGFERRY_SEED_FROM_DATABASE: is required (no PGFERRY_DATABASES and the source secret names no dbname)',
    );
  const database = seed.database ?? staging.defaultDatabase;
  if (!database)
    throw new PgferryError('PGFERRY_SEED_DATABASE: is required because the staging secret names no dbname');
  log.step('plan', {
    from,
    to: database,
    bucket: config.bucket,
    prefix: config.prefix,
    ...(seed.maskingRules ? { maskingRules: seed.maskingRules } : {}),
  });
  const started = Date.now();
  const sql = await localSqlFiles(seed.sanitizeSql, bucket, ctx.signal);
  try {
    const result = await seedDatabase({
      source: withDatabase(source.base, from),
      to: withDatabase(staging.base, database),
      bucket,
      prefix: config.prefix,
      database: from,
      confirm: seed.confirm,
      sanitizeSql: sql.files,
      sanitizeInput: 'PGFERRY_SANITIZE_SQL',
      jobs: config.jobs,
      swap: seed.swap,
      maskingRules,
      postgresVersion: config.postgresVersion,
      catalog: catalogFor(ctx),
      log,
      signal: ctx.signal,
      onProgress: progressLogger(log, database),
    });
    summary.seed = {
      database,
      from: result.location,
      tables: result.tables,
      rows: result.rows,
      sanitizeFiles: result.sanitized,
      swapped: result.restore.swapped === true,
      ...(maskingRules ? { masking: seedMasking(maskingRules.file, result.restore) } : {}),
    };
    log.step('seed', { ...summary.seed, state: 'done' });
    metrics.emit(
      { Job: 'seed', Database: database },
      { Success: 1, Failure: 0, DurationSeconds: (Date.now() - started) / 1000 },
    );
    // By job only: the construct's alarm cannot know a staging database named by its secret.
    if (summary.seed.masking)
      metrics.emit({ Job: 'seed' }, { UncoveredColumns: summary.seed.masking.coverage.length });
  } catch (caught) {
    const error = asSeedInputError(caught);
    summary.failures.push({ database, error: error.message });
    log.failed('seed', error);
    metrics.emit(
      { Job: 'seed', Database: database },
      { Success: 0, Failure: 1, DurationSeconds: (Date.now() - started) / 1000 },
    );
  } finally {
    await sql.cleanup();
  }
}

/** Configuration that does not parse is a failed run too: logged, and counted so the alarm sees it. */
export function reportConfigFailure(env: NodeJS.ProcessEnv, log: JsonLog, error: unknown): void {
  log.failed('config', error);
  new Metrics(stdoutSink, env.PGFERRY_METRICS_NAMESPACE || 'pgferry').emit(
    { Job: env.PGFERRY_JOB || 'backup' },
    { Success: 0, Failure: 1 },
  );
}

/**
 * One scheduled run: `backup` (every configured database: dump → S3 → verify → manifest → latest)
 * or `seed` (latest verified backup → staging → sanitize). Metrics and a summary line are written
 * whatever happens; a run with any failure throws, so the Lambda's error metric and alarm fire.
 */
export async function runScheduledJob(ctx: ScheduledJobContext): Promise<ScheduledJobSummary> {
  const started = Date.now();
  const summary: ScheduledJobSummary = {
    job: ctx.config.job,
    ok: false,
    durationSeconds: 0,
    backups: [],
    failures: [],
  };
  let fatal: unknown;
  try {
    if (ctx.config.job === 'seed') await runSeed(ctx, summary);
    else await runBackups(ctx, summary);
  } catch (error) {
    fatal = error;
    summary.failures.push({ database: '*', error: (error as Error).message });
    ctx.log.failed(ctx.config.job, error);
  }
  summary.durationSeconds = (Date.now() - started) / 1000;
  summary.ok = summary.failures.length === 0;
  ctx.metrics.emit(
    { Job: ctx.config.job },
    { Success: summary.ok ? 1 : 0, Failure: summary.ok ? 0 : 1, DurationSeconds: summary.durationSeconds },
  );
  ctx.log.step('summary', { ...summary });
  if (!summary.ok) {
    const lines = summary.failures.map((f) => (f.database === '*' ? f.error : `${f.database}: ${f.error}`));
    throw new ScheduledJobError(
      fatal && summary.failures.length === 1
        ? (lines[0] ?? 'failed')
        : `${ctx.config.job} failed for ${summary.failures.length} database(s):\n${lines.join('\n')}`,
      summary,
    );
  }
  return summary;
}
