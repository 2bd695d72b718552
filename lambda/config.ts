import { refuseUnknownVariables } from '../core/env-variables.js';
import { InputProblems } from '../core/errors.js';
import type { S3Settings } from '../core/storage/s3-settings.js';
import { splitList } from '../core/options.js';
import { parseJobs } from '../core/jobs/parallelism.js';
import { parseCompression, type CompressionSpec } from '../core/pg/compression.js';
import { parseFormat } from '../core/pg/formats.js';
import { parseVersionRequest, type VersionRequest } from '../core/pg/version.js';
import { databaseNameProblem } from '../core/storage/database-name.js';
import { isS3Uri } from '../core/storage/location.js';
import {
  parseBoolean,
  parseMirror,
  parseS3Endpoint,
  parseServerSideEncryption,
  parseVerification,
  type Verification,
} from '../core/values.js';
import { ENV_VARIABLES } from './environment.js';
import type { EventOverrides } from './event.js';

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

const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
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
  const problems = new InputProblems();
  refuseUnknownVariables(
    env,
    ENV_VARIABLES.map((v) => v.name),
    problems,
    "the README's table of the job's environment",
  );
  const fromEvent: Record<string, string | undefined> = {
    PGFERRY_JOB: overrides.job,
    PGFERRY_DATABASES: overrides.databases?.join(','),
    PGFERRY_VERIFY: overrides.verify,
    PGFERRY_COMPRESS: overrides.compress,
    PGFERRY_POSTGRES_VERSION: overrides.postgresVersion,
    PGFERRY_JOBS: overrides.jobs,
  };
  const eventField: Record<string, string> = {
    PGFERRY_JOB: 'event.job',
    PGFERRY_DATABASES: 'event.databases',
    PGFERRY_VERIFY: 'event.verify',
    PGFERRY_COMPRESS: 'event.compress',
    PGFERRY_POSTGRES_VERSION: 'event.postgresVersion',
    PGFERRY_JOBS: 'event.jobs',
  };
  const label = (name: string): string => (fromEvent[name] !== undefined ? (eventField[name] ?? name) : name);
  const raw = (name: string): string | undefined => {
    const value = fromEvent[name] ?? env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const bool = (name: string): boolean =>
    problems.collect(() => parseBoolean(raw(name), label(name), false)) ?? false;
  const required = (name: string, what: string): string => {
    const v = raw(name);
    if (v === undefined) problems.add(name, `is required; expected ${what}`);
    return v ?? '';
  };
  const secretArn = (name: string): string => {
    const v = required(name, 'a Secrets Manager secret ARN');
    if (v && !SECRET_ARN.test(v))
      problems.add(
        name,
        'is not a Secrets Manager secret ARN; expected arn:aws:secretsmanager:<region>:<account>:secret:<name>',
      );
    return v;
  };
  const sslmode = (name: string): string => {
    const v = raw(name) ?? 'require';
    if (!SSLMODES.includes(v))
      problems.add(name, `"${v}" is not an sslmode; expected one of ${SSLMODES.join(', ')}`);
    return v;
  };
  const database = (name: string, value: string): string | undefined => {
    // Database names become key segments and metric dimensions: the one rule of core/.
    const problem = databaseNameProblem(value);
    if (problem === undefined) return value;
    problems.add(label(name), problem);
    return undefined;
  };

  const jobText = raw('PGFERRY_JOB') ?? 'backup';
  const job = jobText === 'backup' || jobText === 'seed' ? jobText : undefined;
  if (!job) problems.add(label('PGFERRY_JOB'), `"${jobText}" is not a job; expected backup or seed`);

  let source: SourceAuth = { kind: 'secret', secretArn: '' };
  const iam = bool('PGFERRY_SOURCE_IAM_AUTH');
  if (iam) {
    if (raw('PGFERRY_SOURCE_SECRET_ARN'))
      problems.add(
        'PGFERRY_SOURCE_SECRET_ARN',
        'cannot be combined with PGFERRY_SOURCE_IAM_AUTH=true; choose one',
      );
    const portText = raw('PGFERRY_SOURCE_PORT') ?? '5432';
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : 0;
    if (port < 1 || port > 65535)
      problems.add('PGFERRY_SOURCE_PORT', `"${portText}" is not a port; expected 1–65535`);
    source = {
      kind: 'iam',
      host: required('PGFERRY_SOURCE_HOST', 'the RDS endpoint for IAM authentication'),
      port,
      user: required('PGFERRY_SOURCE_USER', 'the database user granted rds_iam'),
    };
  } else if (raw('PGFERRY_SOURCE_SECRET_ARN') === undefined) {
    problems.add(
      'PGFERRY_SOURCE_SECRET_ARN',
      'is required (or PGFERRY_SOURCE_IAM_AUTH=true); expected a Secrets Manager secret ARN',
    );
  } else {
    source = { kind: 'secret', secretArn: secretArn('PGFERRY_SOURCE_SECRET_ARN') };
  }
  const sourceSslmode = sslmode('PGFERRY_SOURCE_SSLMODE');
  if (iam && ['disable', 'allow', 'prefer'].includes(sourceSslmode))
    problems.add(
      'PGFERRY_SOURCE_SSLMODE',
      `"${sourceSslmode}" cannot carry an IAM token; IAM authentication needs require or stricter`,
    );

  const sslRootCert = raw('PGFERRY_SSL_ROOT_CERT');
  const verifying = (mode: string): boolean => mode === 'verify-ca' || mode === 'verify-full';
  if (verifying(sourceSslmode) && !sslRootCert)
    problems.add(
      'PGFERRY_SSL_ROOT_CERT',
      `is required with PGFERRY_SOURCE_SSLMODE=${sourceSslmode}; expected the CA bundle's path`,
    );

  // An event's names are taken as given: splitting them on commas or newlines would turn one
  // hostile name ("a\nb") into two ordinary ones.
  const databases = (overrides.databases ?? splitList(raw('PGFERRY_DATABASES')))
    .map((d) => database('PGFERRY_DATABASES', d))
    .filter((d): d is string => d !== undefined);
  if (iam && databases.length === 0)
    problems.add(
      'PGFERRY_DATABASES',
      'is required with IAM authentication (there is no secret to name the database)',
    );

  const bucket = required('PGFERRY_BUCKET', 'the backup bucket name');
  if (bucket && !BUCKET.test(bucket))
    problems.add(
      'PGFERRY_BUCKET',
      `"${bucket}" is not a bucket name; expected 3–63 lowercase letters, digits, dots and hyphens`,
    );
  const prefix = (raw('PGFERRY_PREFIX') ?? 'backups').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((part) => part === '..' || part === '.'))
    problems.add('PGFERRY_PREFIX', `"${prefix}" must not contain . or .. segments`);

  const format = problems.collect(() => parseFormat(raw('PGFERRY_FORMAT'), 'PGFERRY_FORMAT'));
  if (format && format !== 'custom')
    problems.add(
      'PGFERRY_FORMAT',
      `"${format}" cannot be streamed to S3; backups are written in the custom format`,
    );
  const verify =
    problems.collect(() => parseVerification(raw('PGFERRY_VERIFY'), label('PGFERRY_VERIFY'))) ?? 'list';

  const sse = problems.collect(() => parseServerSideEncryption(raw('PGFERRY_S3_SSE'), 'PGFERRY_S3_SSE'));
  const kmsKeyId = raw('PGFERRY_S3_KMS_KEY_ID');
  if (kmsKeyId && sse !== 'aws:kms') problems.add('PGFERRY_S3_KMS_KEY_ID', 'needs PGFERRY_S3_SSE=aws:kms');
  const endpoint = problems.collect(() => parseS3Endpoint(raw('PGFERRY_S3_ENDPOINT'), 'PGFERRY_S3_ENDPOINT'));

  const marginText = raw('PGFERRY_DEADLINE_MARGIN_SECONDS') ?? '60';
  const margin = /^\d{1,4}$/.test(marginText) ? Number(marginText) : 0;
  if (margin < 1)
    problems.add(
      'PGFERRY_DEADLINE_MARGIN_SECONDS',
      `"${marginText}" is not a number of seconds; expected a whole number ≥ 1`,
    );

  const namespace = raw('PGFERRY_METRICS_NAMESPACE') ?? 'pgferry';
  if (!/^[A-Za-z0-9._/#:-]{1,255}$/.test(namespace) || namespace.startsWith('AWS/'))
    problems.add('PGFERRY_METRICS_NAMESPACE', `"${namespace}" is not a custom CloudWatch namespace`);

  const mirror = problems.collect(() => parseMirror(raw('PGFERRY_MIRROR'), 'PGFERRY_MIRROR'));

  let seed: SeedConfig | undefined;
  if (job === 'seed') {
    const sanitizeSql = splitList(raw('PGFERRY_SANITIZE_SQL'));
    for (const file of sanitizeSql) {
      if (isS3Uri(file) && !/^s3:\/\/[^/]+\/.+[^/]$/.test(file))
        problems.add(
          'PGFERRY_SANITIZE_SQL',
          `"${file}" is not an object; expected s3://bucket/key.sql or a path`,
        );
    }
    const seedDb = raw('PGFERRY_SEED_DATABASE');
    const fromDb = raw('PGFERRY_SEED_FROM_DATABASE');
    seed = {
      secretArn: secretArn('PGFERRY_SEED_SECRET_ARN'),
      database: seedDb === undefined ? undefined : database('PGFERRY_SEED_DATABASE', seedDb),
      fromDatabase: fromDb === undefined ? undefined : database('PGFERRY_SEED_FROM_DATABASE', fromDb),
      confirm: required(
        'PGFERRY_SEED_CONFIRM',
        "the staging database's name (seeding replaces its contents)",
      ),
      sslmode: sslmode('PGFERRY_SEED_SSLMODE'),
      sanitizeSql,
      swap: problems.collect(() => parseBoolean(raw('PGFERRY_SWAP'), 'PGFERRY_SWAP', true)) ?? true,
    };
    if (verifying(seed.sslmode) && !sslRootCert)
      problems.add(
        'PGFERRY_SSL_ROOT_CERT',
        `is required with PGFERRY_SEED_SSLMODE=${seed.sslmode}; expected the CA bundle's path`,
      );
  }

  const config: ScheduledJobConfig = {
    job: job ?? 'backup',
    source,
    sourceSslmode,
    sslRootCert,
    databases,
    bucket,
    prefix,
    postgresVersion: problems.collect(() =>
      parseVersionRequest(raw('PGFERRY_POSTGRES_VERSION'), label('PGFERRY_POSTGRES_VERSION')),
    ) ?? { kind: 'auto' },
    compress:
      problems.collect(() => parseCompression(raw('PGFERRY_COMPRESS'), label('PGFERRY_COMPRESS'))) ?? 'auto',
    jobs: problems.collect(() => parseJobs(raw('PGFERRY_JOBS'), label('PGFERRY_JOBS'))) ?? 'auto',
    verify,
    s3: {
      endpoint,
      region: raw('PGFERRY_S3_REGION'),
      forcePathStyle: endpoint !== undefined,
      ...(sse === undefined ? {} : { sse }),
      kmsKeyId,
    },
    clientsDir: raw('PGFERRY_CLIENTS_DIR') ?? '/opt/pgferry/pg',
    provision: bool('PGFERRY_PROVISION'),
    mirror,
    seed,
    deadlineMarginSeconds: margin,
    metricsNamespace: namespace,
  };
  problems.throwIfAny();
  return config;
}
