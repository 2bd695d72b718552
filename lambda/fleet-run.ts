import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { backupDatabase } from '../core/jobs/backup.js';
import { estimateDuration, predictDuration, type DurationEstimate } from '../core/jobs/predict-duration.js';
import { withDatabase } from '../core/pg/connection.js';
import type { LatestPointer, ObjectManifest } from '../core/storage/manifest.js';
import { latestKey } from '../core/storage/backup-layout.js';
import { S3Bucket } from '../core/storage/s3-bucket.js';
import type { ScheduledJobConfig } from './config.js';
import { sourceLogin } from './credentials.js';
import type { FleetConfig } from './fleet-config.js';
import { classifyFailure, UnitError } from './fleet-errors.js';
import { unitJobConfig, type FleetUnit } from './fleet-units.js';
import type { JsonLog } from './json-log.js';
import { Metrics, verifiedBackupMetrics, type MetricValues } from './metrics.js';
import { catalogFor, latestAgeSeconds, progressLogger, runScheduledJob } from './scheduled-job.js';

export interface UnitContext {
  fleet: FleetConfig;
  unit: FleetUnit;
  log: JsonLog;
  metrics: Metrics;
  env: NodeJS.ProcessEnv;
  /** Where the unit runs: on Lambda a run whose estimate cannot fit is refused. */
  compute: 'lambda' | 'fargate';
  signal?: AbortSignal;
}

export interface UnitPrediction {
  unit: string;
  estimateSeconds: number;
  fitsLambda: boolean;
  compute: 'lambda' | 'fargate';
}

export interface UnitDone {
  unit: string;
  outcome: 'done';
  manifestKey: string;
  durationSeconds: number;
  estimateSeconds: number;
}

/** Every metric of a unit carries the unit as its Database dimension, `<sourceId>/<db>` or the seed's id. */
class UnitMetrics extends Metrics {
  constructor(
    private readonly inner: Metrics,
    private readonly unit: string,
  ) {
    super(() => {}, '');
  }
  override emit(dimensions: Record<string, string>, values: MetricValues): void {
    this.inner.emit({ ...dimensions, Database: this.unit }, values);
  }
}

/** Whether a run of `estimateSeconds` fits this fleet's Lambda with its deadline margin. */
function fitsLambda(fleet: FleetConfig, estimateSeconds: number): boolean {
  return (
    fleet.lambdaLimitSeconds > 0 && estimateSeconds + fleet.deadlineMarginSeconds <= fleet.lambdaLimitSeconds
  );
}

function wontFit(ctx: UnitContext, estimate: DurationEstimate): UnitError {
  const f = ctx.fleet;
  const limit = f.lambdaLimitSeconds
    ? `this Lambda's ${f.lambdaLimitSeconds} s limit less its ${f.deadlineMarginSeconds} s deadline margin`
    : 'a fleet without Lambda compute';
  return new UnitError(
    'PgferryWontFit',
    `${ctx.unit.unit}: not started: the estimate is ${estimate.estimateSeconds} s (${(estimate.databaseBytes / 1048576).toFixed(1)} MiB at ${(estimate.bytesPerSecond / 1048576).toFixed(1)} MiB/s from ${estimate.basis === 'history' ? `the last ${estimate.runs} backup(s)` : 'the default rate'}), which does not fit ${limit}. Run this unit on Fargate (PgferryFleet compute: Compute.fargate(...)) or let Compute.auto() route it there, or shard the database`,
    ctx.unit.unit,
  );
}

/** A seed restores the latest verified backup: its size (from the manifest) at the restore rate. */
async function seedEstimate(bucket: S3Bucket, config: ScheduledJobConfig): Promise<DurationEstimate> {
  const database = config.seed?.fromDatabase ?? '';
  const latest = await bucket
    .getJson<LatestPointer>(latestKey(config.prefix, database), 'PGFERRY_BUCKET')
    .catch(() => undefined);
  const manifest = latest
    ? await bucket.getJson<ObjectManifest>(latest.manifest, 'PGFERRY_BUCKET').catch(() => undefined)
    : undefined;
  return estimateDuration(manifest?.databaseBytes ?? latest?.bytes ?? 0, 'restore', []);
}

/** Logs in (secret or IAM token) and estimates; every failure here happens before any upload. */
async function estimateUnit(ctx: UnitContext, config: ScheduledJobConfig, bucket: S3Bucket) {
  if (ctx.unit.job === 'seed') return { estimate: await seedEstimate(bucket, config) };
  const secrets = new SecretsManagerClient({ region: ctx.env.AWS_REGION });
  const login = await sourceLogin(config, secrets, ctx.env.AWS_REGION);
  ctx.log.mask(...login.secrets);
  const from = withDatabase(login.base, ctx.unit.database);
  const estimate = await predictDuration({
    from,
    bucket,
    prefix: config.prefix,
    verify: config.verify,
    log: ctx.log,
    signal: ctx.signal,
  });
  return { estimate, from };
}

/** The predict phase: how long the unit should take and where it can run. */
export async function predictUnit(ctx: UnitContext): Promise<UnitPrediction> {
  const config = unitJobConfig(ctx.fleet, ctx.unit);
  const bucket = await S3Bucket.open(config.s3, config.bucket, ctx.env);
  try {
    const { estimate } = await estimateUnit(ctx, config, bucket);
    const fits = fitsLambda(ctx.fleet, estimate.estimateSeconds);
    const prediction: UnitPrediction = {
      unit: ctx.unit.unit,
      estimateSeconds: estimate.estimateSeconds,
      fitsLambda: fits,
      compute: fits ? 'lambda' : 'fargate',
    };
    ctx.log.step('predict', { ...prediction, databaseBytes: estimate.databaseBytes, basis: estimate.basis });
    return prediction;
  } catch (error) {
    const failure = classifyFailure(ctx.unit.unit, error, true);
    ctx.log.failed('predict', failure);
    throw failure;
  }
}

/** The run phase: estimate, refuse on Lambda what cannot fit, then back up (or seed) the unit. */
export async function runUnit(ctx: UnitContext): Promise<UnitDone> {
  const config = unitJobConfig(ctx.fleet, ctx.unit);
  const bucket = await S3Bucket.open(config.s3, config.bucket, ctx.env);
  const metrics = new UnitMetrics(ctx.metrics, ctx.unit.unit);
  const started = Date.now();
  let beforeDump = true;
  try {
    const { estimate, from } = await estimateUnit(ctx, config, bucket);
    ctx.log.step('estimate', { unit: ctx.unit.unit, estimateSeconds: estimate.estimateSeconds });
    if (ctx.compute === 'lambda' && !fitsLambda(ctx.fleet, estimate.estimateSeconds))
      throw wontFit(ctx, estimate);
    beforeDump = false;
    if (ctx.unit.job === 'seed') return await runSeedUnit(ctx, config, metrics, estimate, started);
    if (!from) throw new Error('a backup unit without its source connection');
    const { manifest, manifestUri } = await backupDatabase({
      from,
      bucket,
      prefix: config.prefix,
      verify: config.verify,
      compress: config.compress,
      postgresVersion: config.postgresVersion,
      jobs: config.jobs,
      catalog: catalogFor({ ...ctx, config }),
      log: ctx.log,
      signal: ctx.signal,
      onProgress: progressLogger(ctx.log, ctx.unit.unit),
      estimateSeconds: estimate.estimateSeconds,
    });
    metrics.emit({ Job: 'backup' }, verifiedBackupMetrics(manifest));
    const done: UnitDone = {
      unit: ctx.unit.unit,
      outcome: 'done',
      manifestKey: manifestUri.slice(`s3://${bucket.name}/`.length),
      durationSeconds: manifest.durationSeconds,
      estimateSeconds: estimate.estimateSeconds,
    };
    ctx.log.step('run', { ...done });
    return done;
  } catch (error) {
    const failure = classifyFailure(ctx.unit.unit, error, beforeDump);
    ctx.log.failed('run', failure);
    if (ctx.unit.job === 'backup') {
      const age = await latestAgeSeconds(bucket, { config }, ctx.unit.database);
      metrics.emit(
        { Job: 'backup' },
        {
          Success: 0,
          Failure: 1,
          VerifiedBackups: 0,
          DurationSeconds: (Date.now() - started) / 1000,
          LatestVerifiedBackupAgeSeconds: age,
        },
      );
    }
    throw failure;
  }
}

/** A seed runs through the single job's own seed path, its metrics under the seed's unit. */
async function runSeedUnit(
  ctx: UnitContext,
  config: ScheduledJobConfig,
  metrics: Metrics,
  estimate: DurationEstimate,
  started: number,
): Promise<UnitDone> {
  const summary = await runScheduledJob({
    config,
    log: ctx.log,
    metrics,
    env: ctx.env,
    signal: ctx.signal,
    // On Lambda the masking key comes from its secret only, as in the single job's handler.
    compute: ctx.compute === 'lambda' ? 'lambda' : 'task',
  });
  const location = summary.seed?.from ?? '';
  return {
    unit: ctx.unit.unit,
    outcome: 'done',
    // The backup the seed restored: its manifest sits beside it.
    manifestKey: location ? `${location.replace(/^s3:\/\/[^/]+\//, '')}.json` : '',
    durationSeconds: (Date.now() - started) / 1000,
    estimateSeconds: estimate.estimateSeconds,
  };
}
