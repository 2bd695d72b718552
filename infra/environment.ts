import type { JobVariableName } from '../lambda/job-variables.js';
import { maskingKeyArn } from './masking-key.js';
import type { ResolvedProps } from './resolve-props.js';

/** Where the job's objects are encrypted: the header values the job sends with each upload. */
export type ServerSideEncryption = { sse: 'AES256' } | { sse: 'aws:kms'; kmsKeyArn: string } | undefined;

export interface JobEnvironmentInputs {
  bucketName: string;
  encryption: ServerSideEncryption;
  metricsNamespace: string;
  /** `s3://bucket/key` of the sanitize SQL asset. */
  sanitizeSqlUri?: string;
}

/**
 * The job's environment: only names of lambda/job-variables.ts (a name it does not declare does not
 * compile). Only settings and ARNs: the job reads its credentials from Secrets Manager or signs an IAM
 * token at run time.
 */
export function jobEnvironment(
  p: ResolvedProps,
  inputs: JobEnvironmentInputs,
): Partial<Record<JobVariableName, string>> {
  const env: Partial<Record<JobVariableName, string>> = {};
  if (p.source.kind === 'secret') {
    env.PGFERRY_SOURCE_SECRET_ARN = p.source.secret.secretArn;
  } else {
    env.PGFERRY_SOURCE_IAM_AUTH = 'true';
    env.PGFERRY_SOURCE_HOST = p.source.endpoint;
    env.PGFERRY_SOURCE_PORT = String(p.source.port);
    env.PGFERRY_SOURCE_USER = p.source.username;
  }
  env.PGFERRY_SOURCE_SSLMODE = p.sslMode;
  if (p.sslRootCert) env.PGFERRY_SSL_ROOT_CERT = p.sslRootCert;
  env.PGFERRY_DATABASES = p.databases.join(',');
  env.PGFERRY_BUCKET = inputs.bucketName;
  env.PGFERRY_PREFIX = p.prefix;
  env.PGFERRY_POSTGRES_VERSION = p.postgresVersion;
  env.PGFERRY_FORMAT = p.format;
  env.PGFERRY_COMPRESS = p.compress;
  if (p.jobs !== undefined) env.PGFERRY_JOBS = String(p.jobs);
  env.PGFERRY_VERIFY = p.verify;
  if (p.minClientVersion !== undefined) env.PGFERRY_MIN_CLIENT_VERSION = p.minClientVersion;
  if (p.clientSource !== undefined) env.PGFERRY_CLIENT_SOURCE = p.clientSource;
  if (inputs.encryption) {
    env.PGFERRY_S3_SSE = inputs.encryption.sse;
    if (inputs.encryption.sse === 'aws:kms') env.PGFERRY_S3_KMS_KEY_ID = inputs.encryption.kmsKeyArn;
  }
  env.PGFERRY_METRICS_NAMESPACE = inputs.metricsNamespace;
  if (p.compute.kind === 'lambda') {
    env.PGFERRY_DEADLINE_MARGIN_SECONDS = String(p.compute.deadlineMarginSeconds);
  }
  if (p.seed) {
    env.PGFERRY_SEED_SECRET_ARN = p.seed.targetSecret.secretArn;
    if (p.seed.targetDatabase !== undefined) env.PGFERRY_SEED_DATABASE = p.seed.targetDatabase;
    env.PGFERRY_SEED_FROM_DATABASE = p.seed.fromDatabase;
    env.PGFERRY_SEED_CONFIRM = p.seed.confirm;
    env.PGFERRY_SEED_SSLMODE = p.seed.sslMode;
    env.PGFERRY_SWAP = String(p.seed.swap);
    if (inputs.sanitizeSqlUri) env.PGFERRY_SANITIZE_SQL = inputs.sanitizeSqlUri;
    if (p.seed.maskingRules !== undefined) env.PGFERRY_MASKING_RULES = p.seed.maskingRules;
    // The key's secret by ARN only: the key itself is read at run time, never a variable.
    const key = p.seed.maskingKey;
    if (key !== undefined) env.PGFERRY_MASKING_KEY_SECRET_ARN = maskingKeyArn(key);
  }
  return env;
}
