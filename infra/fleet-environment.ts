import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { JobVariableName } from '../lambda/job-variables.js';
import type { ServerSideEncryption } from './environment.js';
import { maskingKeyArn } from './masking-key.js';
import type { ResolvedFleet, ResolvedFleetSeed, ResolvedFleetSource } from './fleet-resolve.js';

/** The fleet's own variables, beside the single job's shared settings (the unit entry reads them). */
export const FLEET_VARIABLE = 'PGFERRY_FLEET';
export const FLEET_FARGATE_VARIABLE = 'PGFERRY_FLEET_FARGATE';
/** Set per run on the Fargate task by the state machine's container overrides. */
export const FLEET_UNIT_VARIABLE = 'PGFERRY_FLEET_UNIT';
export const FLEET_JOB_VARIABLE = 'PGFERRY_FLEET_JOB';

type FleetVariableName =
  | JobVariableName
  | typeof FLEET_VARIABLE
  | typeof FLEET_FARGATE_VARIABLE
  | typeof FLEET_UNIT_VARIABLE
  | typeof FLEET_JOB_VARIABLE;
export type FleetEnvironment = Partial<Record<FleetVariableName, string>>;

export interface FleetEnvironmentInputs {
  bucketName: string;
  encryption: ServerSideEncryption;
  metricsNamespace: string;
  /** `s3://bucket/key` of each seed's sanitize SQL asset, by seed id. */
  sanitizeSqlUris: Record<string, string>;
}

function sourceJson(s: ResolvedFleetSource): Record<string, unknown> {
  const a = s.access;
  return {
    id: s.id,
    ...(a.kind === 'secret'
      ? { secretArn: a.secret.secretArn }
      : {
          endpoint: a.endpoint,
          port: a.port,
          iamAuth: { username: a.username, resourceId: a.resourceId },
        }),
    sslMode: s.sslMode,
    ...(s.sslRootCert ? { sslRootCert: s.sslRootCert } : {}),
    databases: s.databases,
  };
}

function seedJson(s: ResolvedFleetSeed, sanitizeSql: string | undefined): Record<string, unknown> {
  return {
    id: s.id,
    from: s.from,
    secretArn: s.targetSecret.secretArn,
    database: s.targetDatabase,
    confirm: s.confirm,
    sslMode: s.sslMode,
    ...(s.sslRootCert ? { sslRootCert: s.sslRootCert } : {}),
    swap: s.swap,
    ...(sanitizeSql ? { sanitizeSql } : {}),
    ...(s.maskingRules !== undefined ? { maskingRules: s.maskingRules } : {}),
    ...(s.maskingKey !== undefined ? { maskingKeySecretArn: maskingKeyArn(s.maskingKey) } : {}),
  };
}

/**
 * The environment of the unit entry (Lambda and Fargate alike): the fleet as one JSON variable (only
 * ARNs and settings, never a credential) and the storage and client settings the single job reads.
 */
export function fleetEnvironment(
  scope: Construct,
  f: ResolvedFleet,
  inputs: FleetEnvironmentInputs,
): FleetEnvironment {
  const lambda = f.compute.lambda;
  const fleet = {
    sources: f.sources.map(sourceJson),
    // Fargate-only fleets have no Lambda limit; the unit entry then never refuses on time.
    lambdaLimitSeconds: lambda ? lambda.timeout.toSeconds() : 0,
    deadlineMarginSeconds: lambda ? lambda.deadlineMarginSeconds : 0,
    ...(f.seeds.length > 0 ? { seeds: f.seeds.map((s) => seedJson(s, inputs.sanitizeSqlUris[s.id])) } : {}),
  };
  const env: FleetEnvironment = {
    // toJsonString keeps the tokens of imported or created secrets resolvable inside the JSON.
    [FLEET_VARIABLE]: Stack.of(scope).toJsonString(fleet),
    PGFERRY_BUCKET: inputs.bucketName,
    PGFERRY_PREFIX: f.prefix,
    PGFERRY_POSTGRES_VERSION: f.postgresVersion,
    PGFERRY_COMPRESS: f.compress,
    PGFERRY_VERIFY: f.verify,
    PGFERRY_METRICS_NAMESPACE: inputs.metricsNamespace,
  };
  if (f.jobs !== undefined) env.PGFERRY_JOBS = String(f.jobs);
  if (f.minClientVersion !== undefined) env.PGFERRY_MIN_CLIENT_VERSION = f.minClientVersion;
  if (f.clientSource !== undefined) env.PGFERRY_CLIENT_SOURCE = f.clientSource;
  if (inputs.encryption) {
    env.PGFERRY_S3_SSE = inputs.encryption.sse;
    if (inputs.encryption.sse === 'aws:kms') env.PGFERRY_S3_KMS_KEY_ID = inputs.encryption.kmsKeyArn;
  }
  return env;
}
