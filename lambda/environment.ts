/**
 * Every variable the scheduled job reads (Lambda and Fargate alike). The README's table is checked
 * against this list, and infra/ sets exactly these names.
 */
export interface EnvVariable {
  name: string;
  default?: string;
  meaning: string;
}

export const ENV_VARIABLES: readonly EnvVariable[] = [
  {
    name: 'PGFERRY_JOB',
    default: 'backup',
    meaning: '`backup` or `seed`; a direct invocation may override it',
  },
  {
    name: 'PGFERRY_SOURCE_SECRET_ARN',
    meaning:
      'Secrets Manager secret of the source in the RDS format (`host`, `port`, `username`, `password`, `dbname`)',
  },
  {
    name: 'PGFERRY_SOURCE_IAM_AUTH',
    default: 'false',
    meaning: '`true`: RDS IAM authentication instead of a secret (needs the three variables below)',
  },
  { name: 'PGFERRY_SOURCE_HOST', meaning: 'IAM auth: the instance endpoint' },
  { name: 'PGFERRY_SOURCE_PORT', default: '5432', meaning: 'IAM auth: the port' },
  { name: 'PGFERRY_SOURCE_USER', meaning: 'IAM auth: the database user granted `rds_iam`' },
  {
    name: 'PGFERRY_SOURCE_SSLMODE',
    default: 'require',
    meaning:
      'libpq sslmode for the source; `require` encrypts, `verify-full` also checks the certificate against `PGFERRY_SSL_ROOT_CERT`',
  },
  {
    name: 'PGFERRY_DATABASES',
    default: "the secret's `dbname`",
    meaning:
      'databases to back up, comma- or newline-separated; each gets its own dump, manifest and latest.json',
  },
  { name: 'PGFERRY_BUCKET', meaning: 'the bucket backups go to (required)' },
  { name: 'PGFERRY_PREFIX', default: 'backups', meaning: 'key prefix: `<prefix>/<database>/…`' },
  {
    name: 'PGFERRY_POSTGRES_VERSION',
    default: 'auto',
    meaning: 'client version: `auto`, a major or an exact version',
  },
  {
    name: 'PGFERRY_FORMAT',
    default: 'custom',
    meaning: 'backups stream the custom format; only `custom` is accepted',
  },
  {
    name: 'PGFERRY_COMPRESS',
    default: 'auto',
    meaning: '`auto` (zstd:1 on clients ≥16), `none`, `gzip[:N]`, `lz4[:N]`, `zstd[:N]`',
  },
  {
    name: 'PGFERRY_JOBS',
    default: 'auto',
    meaning: 'parallel restore jobs for `seed` and a `restore` drill',
  },
  {
    name: 'PGFERRY_VERIFY',
    default: 'list',
    meaning: '`list` (read back + `pg_restore --list`) or `restore` (restore drill)',
  },
  {
    name: 'PGFERRY_S3_SSE',
    meaning: 'server-side encryption: `AES256` or `aws:kms` (else the bucket default)',
  },
  { name: 'PGFERRY_S3_KMS_KEY_ID', meaning: 'KMS key for `aws:kms`' },
  { name: 'PGFERRY_S3_ENDPOINT', meaning: 'an S3-compatible endpoint (tests, MinIO); path-style addressing' },
  { name: 'PGFERRY_S3_REGION', default: '`AWS_REGION`', meaning: 'the bucket region' },
  {
    name: 'PGFERRY_CLIENTS_DIR',
    default: '/opt/pgferry/pg',
    meaning: 'pre-staged client tools, `<dir>/<major>/bin` (the Lambda layer, the Fargate image)',
  },
  {
    name: 'PGFERRY_PROVISION',
    default: 'false',
    meaning:
      '`true`: download a client major that is not staged, into /tmp (needs a route to the releases or `PGFERRY_MIRROR`)',
  },
  { name: 'PGFERRY_MIRROR', meaning: 'base URL for client archives when provisioning' },
  { name: 'PGFERRY_CACHE_DIR', default: '$TMPDIR/pgferry/pg', meaning: 'where provisioned clients are kept' },
  {
    name: 'PGFERRY_SEED_SECRET_ARN',
    meaning: 'seed: Secrets Manager secret (RDS format) of the staging server',
  },
  {
    name: 'PGFERRY_SEED_DATABASE',
    default: "the staging secret's `dbname`",
    meaning: 'seed: the staging database, replaced on each run',
  },
  {
    name: 'PGFERRY_SEED_FROM_DATABASE',
    default: 'the first of `PGFERRY_DATABASES`',
    meaning: 'seed: whose latest verified backup seeds staging',
  },
  {
    name: 'PGFERRY_SEED_CONFIRM',
    meaning: 'seed: must equal the staging database name (seeding is destructive)',
  },
  {
    name: 'PGFERRY_SSL_ROOT_CERT',
    meaning:
      'CA bundle file (e.g. the RDS global bundle shipped with the code) for `verify-ca` / `verify-full`',
  },
  { name: 'PGFERRY_SEED_SSLMODE', default: 'require', meaning: 'seed: libpq sslmode for the staging server' },
  {
    name: 'PGFERRY_SWAP',
    default: 'true',
    meaning:
      'seed: `true` builds the new staging beside the old and swaps it in (needs CREATEDB and ownership of staging); `false` replaces it in place, in one transaction with one job',
  },
  {
    name: 'PGFERRY_SANITIZE_SQL',
    meaning:
      'seed: SQL run on staging in one transaction after the restore; paths or `s3://bucket/key`, comma- or newline-separated',
  },
  {
    name: 'PGFERRY_DEADLINE_MARGIN_SECONDS',
    default: '60',
    meaning: 'Lambda: stop cleanly when less than this much time is left',
  },
  {
    name: 'PGFERRY_METRICS_NAMESPACE',
    default: 'pgferry',
    meaning: 'CloudWatch namespace of the metric lines',
  },
];
