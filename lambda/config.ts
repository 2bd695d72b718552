import { refuseUnknownVariables } from '../core/env-variables.js';
import type { S3Settings } from '../core/storage/s3-settings.js';
import type { MinClientVersion } from '../core/pg/client-floor.js';
import type { ClientSourceName } from '../core/pg/clients/client-source.js';
import type { CompressionSpec } from '../core/pg/compression.js';
import type { VersionRequest } from '../core/pg/version.js';
import type { Verification } from '../core/values.js';
import type { EventOverrides } from './event.js';
import { checkDatabaseNames, verifying, type ScheduledJobName, type Sslmode } from './job-values.js';
import { JOB_VARIABLE_NAMES } from './job-variables.js';
import { VariableReader } from './variable-reader.js';

export type { ScheduledJobName } from './job-values.js';

/** Where the source's credentials come from: never the event or a plain variable. */
export type SourceAuth =
  { kind: 'secret'; secretArn: string } | { kind: 'iam'; host: string; port: number; user: string };

export interface SeedConfig {
  secretArn: string;
  database?: string;
  fromDatabase?: string;
  confirm: string;
  sslmode: Sslmode;
  sanitizeSql: string[];
  /** Build the new staging beside the old and swap it in, or (false) replace it in place. */
  swap: boolean;
  /** The masking rules: a path or `s3://bucket/key`. */
  maskingRules?: string;
  /** The secret whose string is the masking key (else PGFERRY_MASKING_KEY, where it is set). */
  maskingKeySecretArn?: string;
}

export interface ScheduledJobConfig {
  job: ScheduledJobName;
  source: SourceAuth;
  sourceSslmode: Sslmode;
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
  /** Backups are always streamed in the custom format; the variable is only checked. */
  format: 'custom';
  s3: S3Settings;
  clientsDir: string;
  provision: boolean;
  mirror?: string;
  /** What to do with a staged or downloaded client below the security floor. */
  minClientVersion: MinClientVersion;
  /** Which client source alone to use (`auto`: staged → cache → downloads). */
  clientSource: ClientSourceName;
  seed?: SeedConfig;
  deadlineMarginSeconds: number;
  metricsNamespace: string;
}

/**
 * The job's configuration from `PGFERRY_*` variables (declared in lambda/job-variables.ts), with a
 * direct invocation's overrides on top. Every problem is reported at once, each named as written: the
 * variable, or `event.<field>` for an override.
 */
export function parseScheduledJobConfig(
  env: NodeJS.ProcessEnv,
  overrides: EventOverrides = {},
): ScheduledJobConfig {
  const r = new VariableReader(env, overrides);
  refuseUnknownVariables(env, JOB_VARIABLE_NAMES, r.problems, "the README's table of the job's environment");
  const job = r.value('PGFERRY_JOB', 'backup');
  const login = readSourceLogin(r);
  const sslRootCert = r.value('PGFERRY_SSL_ROOT_CERT', undefined);
  if (verifying(login.sourceSslmode) && !sslRootCert)
    r.add(
      'PGFERRY_SSL_ROOT_CERT',
      `is required with PGFERRY_SOURCE_SSLMODE=${login.sourceSslmode}; expected the CA bundle's path`,
    );
  const config: ScheduledJobConfig = {
    job,
    ...login,
    sslRootCert,
    databases: readDatabases(r, overrides, login.source.kind === 'iam'),
    ...readSharedSettings(r),
    seed: job === 'seed' ? readSeed(r, sslRootCert) : undefined,
    deadlineMarginSeconds: r.value('PGFERRY_DEADLINE_MARGIN_SECONDS', 60),
  };
  r.problems.throwIfAny();
  return config;
}

/** What does not depend on which server or database: storage, client tools, dump and metrics settings. */
export function readSharedSettings(r: VariableReader) {
  return {
    ...readStorage(r),
    format: r.value('PGFERRY_FORMAT', 'custom'),
    verify: r.value('PGFERRY_VERIFY', 'list'),
    postgresVersion: r.value('PGFERRY_POSTGRES_VERSION', { kind: 'auto' }),
    compress: r.value('PGFERRY_COMPRESS', 'auto'),
    jobs: r.value('PGFERRY_JOBS', 'auto'),
    clientsDir: r.value('PGFERRY_CLIENTS_DIR', '/opt/pgferry/pg'),
    provision: r.value('PGFERRY_PROVISION', false),
    mirror: r.value('PGFERRY_MIRROR', undefined),
    minClientVersion: r.value('PGFERRY_MIN_CLIENT_VERSION', { kind: 'any' }),
    clientSource: r.value('PGFERRY_CLIENT_SOURCE', 'auto'),
    metricsNamespace: r.value('PGFERRY_METRICS_NAMESPACE', 'pgferry'),
  } satisfies Partial<ScheduledJobConfig>;
}

/** How the job logs in to the source: a secret, or IAM authentication (then TLS is required). */
function readSourceLogin(r: VariableReader): Pick<ScheduledJobConfig, 'source' | 'sourceSslmode'> {
  let source: SourceAuth = { kind: 'secret', secretArn: '' };
  const iam = r.value('PGFERRY_SOURCE_IAM_AUTH', false);
  if (iam) {
    if (r.raw('PGFERRY_SOURCE_SECRET_ARN'))
      r.add('PGFERRY_SOURCE_SECRET_ARN', 'cannot be combined with PGFERRY_SOURCE_IAM_AUTH=true; choose one');
    source = {
      kind: 'iam',
      host: r.required('PGFERRY_SOURCE_HOST', 'the RDS endpoint for IAM authentication') ?? '',
      port: r.value('PGFERRY_SOURCE_PORT', 0),
      user: r.required('PGFERRY_SOURCE_USER', 'the database user granted rds_iam') ?? '',
    };
  } else if (r.raw('PGFERRY_SOURCE_SECRET_ARN') === undefined) {
    r.add(
      'PGFERRY_SOURCE_SECRET_ARN',
      'is required (or PGFERRY_SOURCE_IAM_AUTH=true); expected a Secrets Manager secret ARN',
    );
  } else {
    source = { kind: 'secret', secretArn: r.value('PGFERRY_SOURCE_SECRET_ARN', undefined) ?? '' };
  }
  const sourceSslmode = r.value('PGFERRY_SOURCE_SSLMODE', 'require');
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
  const databases =
    overrides.databases === undefined
      ? r.value('PGFERRY_DATABASES', [])
      : (r.problems.collect(() => checkDatabaseNames(overrides.databases ?? [], 'event.databases')) ?? []);
  if (iam && databases.length === 0 && r.raw('PGFERRY_DATABASES') === undefined)
    r.add(
      'PGFERRY_DATABASES',
      'is required with IAM authentication (there is no secret to name the database)',
    );
  return databases;
}

/** Where backups go: the bucket, the key prefix and the S3 settings. */
function readStorage(r: VariableReader): Pick<ScheduledJobConfig, 'bucket' | 'prefix' | 's3'> {
  const bucket = r.required('PGFERRY_BUCKET', 'the backup bucket name') ?? '';
  const prefix = r.value('PGFERRY_PREFIX', 'backups');
  const sse = r.value('PGFERRY_S3_SSE', undefined);
  const kmsKeyId = r.value('PGFERRY_S3_KMS_KEY_ID', undefined);
  if (kmsKeyId && sse !== 'aws:kms') r.add('PGFERRY_S3_KMS_KEY_ID', 'needs PGFERRY_S3_SSE=aws:kms');
  const endpoint = r.value('PGFERRY_S3_ENDPOINT', undefined);
  const s3: S3Settings = {
    endpoint,
    region: r.value('PGFERRY_S3_REGION', undefined),
    forcePathStyle: endpoint !== undefined,
    ...(sse === undefined ? {} : { sse }),
    kmsKeyId,
  };
  return { bucket, prefix, s3 };
}

/** seed: the staging server, the guard, the sanitize SQL and how staging is replaced. */
function readSeed(r: VariableReader, sslRootCert: string | undefined): SeedConfig {
  const seed: SeedConfig = {
    secretArn: r.required('PGFERRY_SEED_SECRET_ARN', 'a Secrets Manager secret ARN') ?? '',
    database: r.value('PGFERRY_SEED_DATABASE', undefined),
    fromDatabase: r.value('PGFERRY_SEED_FROM_DATABASE', undefined),
    confirm:
      r.required('PGFERRY_SEED_CONFIRM', "the staging database's name (seeding replaces its contents)") ?? '',
    sslmode: r.value('PGFERRY_SEED_SSLMODE', 'require'),
    sanitizeSql: r.value('PGFERRY_SANITIZE_SQL', []),
    swap: r.value('PGFERRY_SWAP', true),
    maskingRules: r.value('PGFERRY_MASKING_RULES', undefined),
    maskingKeySecretArn: r.value('PGFERRY_MASKING_KEY_SECRET_ARN', undefined),
  };
  if (seed.maskingKeySecretArn && !seed.maskingRules)
    r.add(
      'PGFERRY_MASKING_KEY_SECRET_ARN',
      'is set without PGFERRY_MASKING_RULES; nothing would use the key',
    );

  if (verifying(seed.sslmode) && !sslRootCert)
    r.add(
      'PGFERRY_SSL_ROOT_CERT',
      `is required with PGFERRY_SEED_SSLMODE=${seed.sslmode}; expected the CA bundle's path`,
    );
  return seed;
}
