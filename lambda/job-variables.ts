import { parseJobs } from '../core/jobs/parallelism.js';
import { parseMinClientVersion } from '../core/pg/client-floor.js';
import { parseClientSource } from '../core/pg/clients/client-source.js';
import { parseCompression } from '../core/pg/compression.js';
import { parseVersionRequest } from '../core/pg/version.js';
import {
  parseMirror,
  parseS3Endpoint,
  parseServerSideEncryption,
  parseVerification,
} from '../core/values.js';
import {
  booleanWithDefault,
  optionalText,
  parseBucketName,
  parseDatabaseList,
  parseDatabaseName,
  parseJobName,
  parseMetricsNamespace,
  parsePort,
  parsePrefix,
  parseSecondsAtLeastOne,
  parseSecretArn,
  parseRulesLocation,
  parseSqlFiles,
  parseSslmode,
  parseStreamableFormat,
} from './job-values.js';

/** One variable of the scheduled job: its documentation, its parser and the construct prop that sets it. */
export interface JobVariable<T> {
  /** The default as the README shows it (the parser applies it). */
  default?: string;
  meaning: string;
  /** The variable's text (undefined when unset) → its value; throws an InputError naming `input`. */
  parse: (raw: string | undefined, input: string) => T;
  /** The PgferryBackup prop whose value becomes this variable: synth checks it with `parse`. */
  prop?: string;
}

const variable = <T>(v: JobVariable<T>): JobVariable<T> => v;

/**
 * Every variable the scheduled job reads (Lambda and Fargate alike), declared once: lambda/config.ts
 * reads them through these parsers, infra/ checks the props that set them with the same parsers
 * (named as the prop) and can set no other name, and the README's table is checked against it.
 */
export const JOB_VARIABLES = {
  PGFERRY_JOB: variable({
    default: 'backup',
    meaning: '`backup` or `seed`; a direct invocation may override it',
    parse: parseJobName,
  }),
  PGFERRY_SOURCE_SECRET_ARN: variable({
    meaning:
      'Secrets Manager secret of the source in the RDS format (`host`, `port`, `username`, `password`, `dbname`)',
    parse: parseSecretArn,
  }),
  PGFERRY_SOURCE_IAM_AUTH: variable({
    default: 'false',
    meaning: '`true`: RDS IAM authentication instead of a secret (needs the three variables below)',
    parse: booleanWithDefault(false),
  }),
  PGFERRY_SOURCE_HOST: variable({ meaning: 'IAM auth: the instance endpoint', parse: optionalText }),
  PGFERRY_SOURCE_PORT: variable({
    default: '5432',
    meaning: 'IAM auth: the port',
    parse: parsePort,
    prop: 'database.port',
  }),
  PGFERRY_SOURCE_USER: variable({
    meaning: 'IAM auth: the database user granted `rds_iam`',
    parse: optionalText,
  }),
  PGFERRY_SOURCE_SSLMODE: variable({
    default: 'require',
    meaning:
      'libpq sslmode for the source; `require` encrypts, `verify-full` also checks the certificate against `PGFERRY_SSL_ROOT_CERT`',
    parse: parseSslmode,
    prop: 'database.sslMode',
  }),
  PGFERRY_DATABASES: variable({
    default: "the secret's `dbname`",
    meaning:
      'databases to back up, comma- or newline-separated; each gets its own dump, manifest and latest.json',
    parse: parseDatabaseList,
  }),
  PGFERRY_BUCKET: variable({ meaning: 'the bucket backups go to (required)', parse: parseBucketName }),
  PGFERRY_PREFIX: variable({
    default: 'backups',
    meaning: 'key prefix: `<prefix>/<database>/…`',
    parse: parsePrefix,
    prop: 'prefix',
  }),
  PGFERRY_POSTGRES_VERSION: variable({
    default: 'auto',
    meaning: 'client version: `auto`, a major or an exact version',
    parse: parseVersionRequest,
    prop: 'postgresVersion',
  }),
  PGFERRY_FORMAT: variable({
    default: 'custom',
    meaning: 'backups stream the custom format; only `custom` is accepted',
    parse: parseStreamableFormat,
    prop: 'format',
  }),
  PGFERRY_COMPRESS: variable({
    default: 'auto',
    meaning: '`auto` (zstd:1 on clients ≥16), `none`, `gzip[:N]`, `lz4[:N]`, `zstd[:N]`',
    parse: parseCompression,
    prop: 'compress',
  }),
  PGFERRY_JOBS: variable({
    default: 'auto',
    meaning:
      'a number > 1 shards each backup into that many parts (pg_dump workers on one snapshot); restore jobs for `seed` and a `restore` drill',
    parse: parseJobs,
    prop: 'jobs',
  }),
  PGFERRY_VERIFY: variable({
    default: 'list',
    meaning: '`list` (store checksum + TOC), `full` (read back) or `restore` (drill)',
    parse: parseVerification,
    prop: 'verify',
  }),
  PGFERRY_S3_SSE: variable({
    meaning: 'server-side encryption: `AES256` or `aws:kms` (else the bucket default)',
    parse: parseServerSideEncryption,
  }),
  PGFERRY_S3_KMS_KEY_ID: variable({ meaning: 'KMS key for `aws:kms`', parse: optionalText }),
  PGFERRY_S3_ENDPOINT: variable({
    meaning: 'an S3-compatible endpoint (tests, MinIO); path-style addressing',
    parse: parseS3Endpoint,
  }),
  PGFERRY_S3_REGION: variable({ default: '`AWS_REGION`', meaning: 'the bucket region', parse: optionalText }),
  PGFERRY_CLIENTS_DIR: variable({
    default: '/opt/pgferry/pg',
    meaning: 'pre-staged client tools, `<dir>/<major>/bin` (the Lambda layer, the Fargate image)',
    parse: (raw) => optionalText(raw) ?? '/opt/pgferry/pg',
  }),
  PGFERRY_PROVISION: variable({
    default: 'false',
    meaning:
      '`true`: download a client major that is not staged, into /tmp (needs a route to the releases or `PGFERRY_MIRROR`)',
    parse: booleanWithDefault(false),
  }),
  PGFERRY_MIRROR: variable({
    meaning: 'base URL for client archives when provisioning',
    parse: parseMirror,
  }),
  PGFERRY_MIN_CLIENT_VERSION: variable({
    default: 'any',
    meaning:
      "clients below the security floor: `any` runs one (with a warning naming the CVE) when no safe minor is staged or can be downloaded, `secure` refuses, `17.10` also raises that major's floor",
    parse: parseMinClientVersion,
    prop: 'minClientVersion',
  }),
  PGFERRY_CLIENT_SOURCE: variable({
    default: 'auto',
    meaning:
      'where clients come from: `auto`, `installed` (the staged tools only), `cache`, `releases` or `pgdg` (the last two download only with `PGFERRY_PROVISION=true`)',
    parse: parseClientSource,
    prop: 'clientSource',
  }),
  PGFERRY_CACHE_DIR: variable({
    default: '$TMPDIR/pgferry/pg',
    meaning: 'where provisioned clients are kept',
    parse: optionalText,
  }),
  PGFERRY_SEED_SECRET_ARN: variable({
    meaning: 'seed: Secrets Manager secret (RDS format) of the staging server',
    parse: parseSecretArn,
  }),
  PGFERRY_SEED_DATABASE: variable({
    default: "the staging secret's `dbname`",
    meaning: 'seed: the staging database, replaced on each run',
    parse: parseDatabaseName,
    prop: 'seed.targetDatabase',
  }),
  PGFERRY_SEED_FROM_DATABASE: variable({
    default: 'the first of `PGFERRY_DATABASES`',
    meaning: 'seed: whose latest verified backup seeds staging',
    parse: parseDatabaseName,
    prop: 'seed.fromDatabase',
  }),
  PGFERRY_SEED_CONFIRM: variable({
    meaning: 'seed: must equal the staging database name (seeding is destructive)',
    parse: optionalText,
  }),
  PGFERRY_SSL_ROOT_CERT: variable({
    meaning:
      'CA bundle file (e.g. the RDS global bundle shipped with the code) for `verify-ca` / `verify-full`',
    parse: optionalText,
  }),
  PGFERRY_SEED_SSLMODE: variable({
    default: 'require',
    meaning: 'seed: libpq sslmode for the staging server',
    parse: parseSslmode,
    prop: 'seed.sslMode',
  }),
  PGFERRY_SWAP: variable({
    default: 'true',
    meaning:
      'seed: `true` builds the new staging beside the old and swaps it in (needs CREATEDB and ownership of staging); `false` replaces it in place, in one transaction with one job',
    parse: booleanWithDefault(true),
    prop: 'seed.swap',
  }),
  PGFERRY_SANITIZE_SQL: variable({
    meaning:
      'seed: SQL run on staging in one transaction after the restore; paths or `s3://bucket/key`, comma- or newline-separated',
    parse: parseSqlFiles,
  }),
  PGFERRY_MASKING_RULES: variable({
    meaning:
      'seed: masking rules (YAML or JSON) that mask the rows on their way into staging, checked before staging is touched; a path or `s3://bucket/key`',
    parse: parseRulesLocation,
    prop: 'seed.maskingRules',
  }),
  PGFERRY_MASKING_KEY_SECRET_ARN: variable({
    meaning:
      'seed: Secrets Manager secret whose string is the masking key (`hash`, `email`, … are keyed); else `PGFERRY_MASKING_KEY` where it is set',
    parse: parseSecretArn,
    prop: 'seed.maskingKey',
  }),
  PGFERRY_DEADLINE_MARGIN_SECONDS: variable({
    default: '60',
    meaning: 'Lambda: stop cleanly when less than this much time is left',
    parse: parseSecondsAtLeastOne,
    prop: 'compute.deadlineMargin',
  }),
  PGFERRY_METRICS_NAMESPACE: variable({
    default: 'pgferry',
    meaning: 'CloudWatch namespace of the metric lines',
    parse: parseMetricsNamespace,
    prop: 'metricsNamespace',
  }),
} as const;

export type JobVariableName = keyof typeof JOB_VARIABLES;
export type JobVariableValue<K extends JobVariableName> = ReturnType<(typeof JOB_VARIABLES)[K]['parse']>;

export const JOB_VARIABLE_NAMES = Object.keys(JOB_VARIABLES) as JobVariableName[];

/** The variables as the README's table lists them. */
export const ENV_VARIABLES: readonly { name: JobVariableName; default?: string; meaning: string }[] =
  JOB_VARIABLE_NAMES.map((name) => {
    const { default: fallback, meaning } = JOB_VARIABLES[name] as JobVariable<unknown>;
    return { name, default: fallback, meaning };
  });
