import { refuseUnknownVariables } from '../core/env-variables.js';
import type { S3Settings } from '../core/storage/s3-settings.js';
import { splitList } from '../core/options.js';
import { parseJobs } from '../core/jobs/parallelism.js';
import { parseCompression, type CompressionSpec } from '../core/pg/compression.js';
import { parseFormat } from '../core/pg/formats.js';
import { parseVersionRequest, type VersionRequest } from '../core/pg/version.js';
import { isS3Uri } from '../core/storage/location.js';
import {
  parseMirror,
  parseS3Endpoint,
  parseServerSideEncryption,
  parseVerification,
  type Verification,
} from '../core/values.js';
import { ENV_VARIABLES } from './environment.js';
import type { EventOverrides } from './event.js';
import { VariableReader, verifying } from './variable-reader.js';

export type ScheduledJobName = 'backup' | 'seed';

/** Where the source's credentials come from: never the event or a plain variable. */
export type SourceAuth =
  { kind: 'secret'; secretArn: string } | { kind: 'iam'; host: string; port: number; user: string };

export interface SeedConfig {
  secretArn: string;
  database?: string;
  fromDatabase?: string;
  confirm: string;
  sslmode: string;
  sanitizeSql: string[];
  /** Build the new staging beside the old and swap it in, or (false) replace it in place. */
  swap: boolean;
}

export interface ScheduledJobConfig {
  job: ScheduledJobName;
  source: SourceAuth;
  sourceSslmode: string;
  /** CA bundle for verify-ca / verify-full (both servers). */
  sslRootCert?: string;
  /** Empty: the source secret's `dbname`. */
  databases: string[];
  bucket: string;
  prefix: string;
  postgresVersion: VersionRequest;
  compress: CompressionSpec | 'auto';
  jobs: number | 'auto';
  verify: Verification;
  s3: S3Settings;
  clientsDir: string;
  provision: boolean;
  mirror?: string;
  seed?: SeedConfig;
  deadlineMarginSeconds: number;
  metricsNamespace: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The job's configuration from `PGFERRY_*` variables (lambda/environment.ts), with a direct
 * invocation's overrides on top. Every problem is reported at once, each named as written: the
 * variable, or `event.<field>` for an override.
 */
export function parseScheduledJobConfig(
  env: NodeJS.ProcessEnv,
  overrides: EventOverrides = {},
): ScheduledJobConfig {
  const r = new VariableReader(env, overrides);
  refuseUnknownVariables(
    env,
    ENV_VARIABLES.map((v) => v.name),
    r.problems,
    "the README's table of the job's environment",
  );
  const jobText = r.raw('PGFERRY_JOB') ?? 'backup';
  const job = jobText === 'backup' || jobText === 'seed' ? jobText : undefined;
  if (!job) r.add(r.label('PGFERRY_JOB'), `"${jobText}" is not a job; expected backup or seed`);
  const login = readSourceLogin(r);
  const sslRootCert = r.raw('PGFERRY_SSL_ROOT_CERT');
  if (verifying(login.sourceSslmode) && !sslRootCert)
    r.add(
      'PGFERRY_SSL_ROOT_CERT',
      `is required with PGFERRY_SOURCE_SSLMODE=${login.sourceSslmode}; expected the CA bundle's path`,
    );
  const databases = readDatabases(r, overrides, login.source.kind === 'iam');
  const config: ScheduledJobConfig = {
    job: job ?? 'backup',
    ...login,
    sslRootCert,
    databases,
    ...readStorage(r),
    ...readDumpValues(r),
    clientsDir: r.raw('PGFERRY_CLIENTS_DIR') ?? '/opt/pgferry/pg',
    provision: r.bool('PGFERRY_PROVISION'),
    mirror: r.parsed('PGFERRY_MIRROR', parseMirror, undefined),
    seed: job === 'seed' ? readSeed(r, sslRootCert) : undefined,
    ...readRunLimits(r),
  };
  r.problems.throwIfAny();
  return config;
}

/** How the job logs in to the source: a secret, or IAM authentication (then TLS is required). */
function readSourceLogin(r: VariableReader): Pick<ScheduledJobConfig, 'source' | 'sourceSslmode'> {
  let source: SourceAuth = { kind: 'secret', secretArn: '' };
  const iam = r.bool('PGFERRY_SOURCE_IAM_AUTH');
  if (iam) {
    if (r.raw('PGFERRY_SOURCE_SECRET_ARN'))
      r.add('PGFERRY_SOURCE_SECRET_ARN', 'cannot be combined with PGFERRY_SOURCE_IAM_AUTH=true; choose one');
    const portText = r.raw('PGFERRY_SOURCE_PORT') ?? '5432';
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : 0;
    if (port < 1 || port > 65535)
      r.add('PGFERRY_SOURCE_PORT', `"${portText}" is not a port; expected 1–65535`);
    source = {
      kind: 'iam',
      host: r.required('PGFERRY_SOURCE_HOST', 'the RDS endpoint for IAM authentication'),
      port,
      user: r.required('PGFERRY_SOURCE_USER', 'the database user granted rds_iam'),
    };
  } else if (r.raw('PGFERRY_SOURCE_SECRET_ARN') === undefined) {
    r.add(
      'PGFERRY_SOURCE_SECRET_ARN',
      'is required (or PGFERRY_SOURCE_IAM_AUTH=true); expected a Secrets Manager secret ARN',
    );
  } else {
    source = { kind: 'secret', secretArn: r.secretArn('PGFERRY_SOURCE_SECRET_ARN') };
  }
  const sourceSslmode = r.sslmode('PGFERRY_SOURCE_SSLMODE');
  if (iam && ['disable', 'allow', 'prefer'].includes(sourceSslmode))
    r.add(
      'PGFERRY_SOURCE_SSLMODE',
      `"${sourceSslmode}" cannot carry an IAM token; IAM authentication needs require or stricter`,
    );
  return { source, sourceSslmode };
}

/**
 * The databases to back up. An event's names are taken as given: splitting them on commas or
 * newlines would turn one hostile name ("a\nb") into two ordinary ones.
 */
function readDatabases(r: VariableReader, overrides: EventOverrides, iam: boolean): string[] {
  const databases = (overrides.databases ?? splitList(r.raw('PGFERRY_DATABASES')))
    .map((d) => r.database('PGFERRY_DATABASES', d))
    .filter((d): d is string => d !== undefined);
  if (iam && databases.length === 0)
    r.add(
      'PGFERRY_DATABASES',
      'is required with IAM authentication (there is no secret to name the database)',
    );
  return databases;
}

/** Where backups go: the bucket, the key prefix and the S3 settings. */
function readStorage(r: VariableReader): Pick<ScheduledJobConfig, 'bucket' | 'prefix' | 's3'> {
  const bucket = r.required('PGFERRY_BUCKET', 'the backup bucket name');
  if (bucket && !BUCKET.test(bucket))
    r.add(
      'PGFERRY_BUCKET',
      `"${bucket}" is not a bucket name; expected 3–63 lowercase letters, digits, dots and hyphens`,
    );
  const prefix = (r.raw('PGFERRY_PREFIX') ?? 'backups').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((part) => part === '..' || part === '.'))
    r.add('PGFERRY_PREFIX', `"${prefix}" must not contain . or .. segments`);
  const sse = r.parsed('PGFERRY_S3_SSE', parseServerSideEncryption, undefined);
  const kmsKeyId = r.raw('PGFERRY_S3_KMS_KEY_ID');
  if (kmsKeyId && sse !== 'aws:kms') r.add('PGFERRY_S3_KMS_KEY_ID', 'needs PGFERRY_S3_SSE=aws:kms');
  const endpoint = r.parsed('PGFERRY_S3_ENDPOINT', parseS3Endpoint, undefined);
  const s3: S3Settings = {
    endpoint,
    region: r.raw('PGFERRY_S3_REGION'),
    forcePathStyle: endpoint !== undefined,
    ...(sse === undefined ? {} : { sse }),
    kmsKeyId,
  };
  return { bucket, prefix, s3 };
}

/** How backups are dumped and checked, with the engine's own parsers. */
function readDumpValues(
  r: VariableReader,
): Pick<ScheduledJobConfig, 'postgresVersion' | 'compress' | 'jobs' | 'verify'> {
  const format = r.parsed('PGFERRY_FORMAT', parseFormat, undefined);
  if (format && format !== 'custom')
    r.add('PGFERRY_FORMAT', `"${format}" cannot be streamed to S3; backups are written in the custom format`);
  const verify = r.parsed('PGFERRY_VERIFY', parseVerification, 'list' as Verification);
  return {
    postgresVersion: r.parsed('PGFERRY_POSTGRES_VERSION', parseVersionRequest, {
      kind: 'auto',
    } as VersionRequest),
    compress: r.parsed('PGFERRY_COMPRESS', parseCompression, 'auto' as CompressionSpec | 'auto'),
    jobs: r.parsed('PGFERRY_JOBS', parseJobs, 'auto' as number | 'auto'),
    verify,
  };
}

/** seed: the staging server, the guard, the sanitize SQL and how staging is replaced. */
function readSeed(r: VariableReader, sslRootCert: string | undefined): SeedConfig {
  const sanitizeSql = splitList(r.raw('PGFERRY_SANITIZE_SQL'));
  for (const file of sanitizeSql) {
    if (isS3Uri(file) && !/^s3:\/\/[^/]+\/.+[^/]$/.test(file))
      r.add('PGFERRY_SANITIZE_SQL', `"${file}" is not an object; expected s3://bucket/key.sql or a path`);
  }
  const seedDb = r.raw('PGFERRY_SEED_DATABASE');
  const fromDb = r.raw('PGFERRY_SEED_FROM_DATABASE');
  const seed: SeedConfig = {
    secretArn: r.secretArn('PGFERRY_SEED_SECRET_ARN'),
    database: seedDb === undefined ? undefined : r.database('PGFERRY_SEED_DATABASE', seedDb),
    fromDatabase: fromDb === undefined ? undefined : r.database('PGFERRY_SEED_FROM_DATABASE', fromDb),
    confirm: r.required(
      'PGFERRY_SEED_CONFIRM',
      "the staging database's name (seeding replaces its contents)",
    ),
    sslmode: r.sslmode('PGFERRY_SEED_SSLMODE'),
    sanitizeSql,
    swap: r.bool('PGFERRY_SWAP', true),
  };
  if (verifying(seed.sslmode) && !sslRootCert)
    r.add(
      'PGFERRY_SSL_ROOT_CERT',
      `is required with PGFERRY_SEED_SSLMODE=${seed.sslmode}; expected the CA bundle's path`,
    );
  return seed;
}

/** The Lambda deadline margin and the metrics namespace. */
function readRunLimits(
  r: VariableReader,
): Pick<ScheduledJobConfig, 'deadlineMarginSeconds' | 'metricsNamespace'> {
  const marginText = r.raw('PGFERRY_DEADLINE_MARGIN_SECONDS') ?? '60';
  const margin = /^\d{1,4}$/.test(marginText) ? Number(marginText) : 0;
  if (margin < 1)
    r.add(
      'PGFERRY_DEADLINE_MARGIN_SECONDS',
      `"${marginText}" is not a number of seconds; expected a whole number ≥ 1`,
    );
  const namespace = r.raw('PGFERRY_METRICS_NAMESPACE') ?? 'pgferry';
  if (!/^[A-Za-z0-9._/#:-]{1,255}$/.test(namespace) || namespace.startsWith('AWS/'))
    r.add('PGFERRY_METRICS_NAMESPACE', `"${namespace}" is not a custom CloudWatch namespace`);
  return { deadlineMarginSeconds: margin, metricsNamespace: namespace };
}
