import type { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Compute } from './compute.js';

/** libpq sslmodes that still encrypt: a backup job never talks to its database in clear text. */
export type SslMode = 'require' | 'verify-ca' | 'verify-full';

/** RDS IAM database authentication: the job signs a token instead of reading a password. */
export interface IamAuth {
  /** The database user granted `rds_iam`. */
  readonly username: string;
  /**
   * The instance's (`db-…`) or cluster's (`cluster-…`) resource id, the one `rds-db:connect` names
   * (RDS's `DbiResourceId`, not the instance identifier).
   */
  readonly resourceId: string;
}

/** The server the backups are taken from, and how the job logs in. Exactly one of `secret` and `iamAuth`. */
export interface SourceDatabase {
  /**
   * Host name of the server. Required with `iamAuth` (the job connects to it and signs its token for
   * it); with `secret` the job connects to the secret's `host`, so this is not needed.
   * @default - none
   */
  readonly endpoint?: string;
  /**
   * Port of the server, with `iamAuth`; with `secret` the secret's `port` is used.
   * @default 5432
   */
  readonly port?: number;
  /**
   * A Secrets Manager secret in the RDS format (`host`, `port`, `username`, `password`, `dbname`). Only
   * its ARN reaches the job, which reads the secret at run time.
   * @default - none; then `iamAuth` is required
   */
  readonly secret?: secretsmanager.ISecret;
  /**
   * Log in with RDS IAM authentication instead of a secret.
   * @default - none; then `secret` is required
   */
  readonly iamAuth?: IamAuth;
  /**
   * libpq sslmode for the connection (and the staging connection's `verify-*` too).
   * @default 'require'
   */
  readonly sslMode?: SslMode;
  /**
   * Path of the CA bundle inside the job's runtime, needed by `verify-ca` / `verify-full` (on
   * Lambda's Node runtimes `/var/runtime/ca-cert.pem` carries the RDS certificate authorities).
   * @default - none; then `sslMode` must be `require` (for the staging connection too)
   */
  readonly sslRootCert?: string;
}

/** Masking for a seed, of PgferryBackup and of each seed of PgferryFleet alike. */
export interface SeedMaskingProps {
  /**
   * `s3://bucket/key` of a masking rules file (YAML or JSON, see the README): the rows are masked on
   * their way into staging, and a leak check and a coverage report run before it goes live. The job
   * may read exactly that object.
   * @default - no masking
   */
  readonly maskingRules?: string;
  /**
   * The secret (or its ARN) whose string is the masking key, needed by the keyed transformers
   * (`hash`, `email`, `name`, …). The job may read exactly that secret; the key never becomes a variable.
   * @default - no key: only `null`, `constant`, `regex` and `keep` rules can be used
   */
  readonly maskingKey?: secretsmanager.ISecret | string;
}

/** Nightly seeding of a staging database from the latest verified backup (destructive on the target). */
export interface SeedProps extends SeedMaskingProps {
  /** When seeding runs; schedule it after the backup has had time to finish. */
  readonly schedule: events.Schedule;
  /** Secret (RDS format) of the staging server; only its ARN reaches the job. */
  readonly targetSecret: secretsmanager.ISecret;
  /**
   * The staging database whose contents are replaced.
   * @default - the target secret's `dbname`
   */
  readonly targetDatabase?: string;
  /**
   * Whose latest verified backup seeds staging; one of `databases`.
   * @default - the first of `databases`
   */
  readonly fromDatabase?: string;
  /** Must equal the staging database's name: seeding replaces its contents. */
  readonly confirm: string;
  /**
   * A local SQL file run on staging in one transaction after the restore (anonymisation). It is
   * uploaded as a CDK asset and the job may read exactly that object.
   * @default - no SQL is run
   */
  readonly sanitizeSql?: string;
  /**
   * libpq sslmode for the staging server.
   * @default 'require'
   */
  readonly sslMode?: SslMode;
  /**
   * `true`: the new staging is built in a scratch database beside the old one and swapped in once
   * restored and sanitized (the staging user needs CREATEDB and ownership of staging, the server room
   * for two copies). `false`: staging is dropped and restored in place, in one transaction with one job.
   * @default true
   */
  readonly swap?: boolean;
}

/** Object Lock modes: governance can be lifted by a privileged principal, compliance by nobody. */
export type ObjectLockMode = 'governance' | 'compliance';

export interface PgferryBackupProps {
  /** The source server and how the job logs in to it. */
  readonly database: SourceDatabase;
  /**
   * Databases to back up, each to its own dump, manifest and `latest.json`; at least one, names of
   * letters, digits, `_ $ . -` (at most 63 characters).
   */
  readonly databases: string[];
  /** The VPC the job runs in; it needs a route to the database and to S3, Secrets Manager and CloudWatch. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of `vpc` for the job.
   * @default - the private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Majors of the client tools staged into the Lambda layer or the container image, 14–18; include
   * the source server's major (the dump is made with it).
   */
  readonly postgresMajors: number[];
  /**
   * Client version the job asks for: `auto` (the server's major), a major (`17`) or an exact version
   * (`17.5`); a major must be among `postgresMajors`.
   * @default 'auto'
   */
  readonly postgresVersion?: string;
  /**
   * When backups run.
   * @default - `cron(0 3 * * ? *)`: daily at 03:00 UTC
   */
  readonly schedule?: events.Schedule;
  /**
   * Archive format; backups are streamed, which only the custom format allows.
   * @default 'custom'
   */
  readonly format?: 'custom';
  /**
   * Compression: `auto` (zstd:1 on clients ≥ 16, else gzip:1), `none`, `gzip[:N]`, `lz4[:N]`, `zstd[:N]`.
   * @default 'auto'
   */
  readonly compress?: string;
  /**
   * Parallel restore jobs for a restore drill and for seeding.
   * @default - the CPU count of the compute
   */
  readonly jobs?: number;
  /**
   * How each backup is verified before `latest.json` moves: `list` checks the store's checksum or
   * ETag and lists the archive's table of contents; `full` reads every byte back as well;
   * `restore` restores it into a scratch database on the source server.
   * @default 'list'
   */
  readonly verify?: 'list' | 'full' | 'restore';
  /**
   * What the job does with a client below the security floor (a minor without a CVE fix) when no
   * safe one is staged or can be downloaded: `any` runs it with a warning naming the CVE, `secure`
   * refuses, an exact version such as `17.10` also raises that major's floor.
   * @default 'any'
   */
  readonly minClientVersion?: string;
  /**
   * Where the job takes clients from: `installed` uses the staged tools only; `releases` or `pgdg`
   * (the PostgreSQL apt repository, `PGFERRY_MIRROR` as `<base URL> <suite>`) pins that download
   * source, which the job uses only when provisioning is on.
   * @default 'auto'
   */
  readonly clientSource?: string;
  /**
   * Where the job runs.
   * @default Compute.lambda()
   */
  readonly compute?: Compute;
  /**
   * Base URL of the client archive mirror used when staging at synth time.
   * @default - the engine's default: the theseus-rs/postgresql-binaries releases
   */
  readonly clientMirror?: string;
  /**
   * Client download cache used when staging at synth time.
   * @default - the engine's default cache directory
   */
  readonly clientCacheDir?: string;
  /**
   * Size of the largest database, in GiB: only used to warn about combinations that will not fit.
   * @default - no hint, no size warnings
   */
  readonly expectedSizeGiB?: number;

  /**
   * An existing bucket to write to. Its lifecycle, versioning and encryption stay as they are, so the
   * retention and Object Lock props cannot be used with it.
   * @default - a bucket is created: versioned, public access blocked, TLS only, encrypted, with the
   * tier lifecycle below
   */
  readonly bucket?: s3.IBucket;
  /**
   * Key prefix of the backups (`<prefix>/<database>/…`); the job may write only below it.
   * @default 'backups'
   */
  readonly prefix?: string;
  /**
   * KMS key for SSE-KMS (of the created bucket, or the one an existing bucket uses); the job gets
   * encrypt/decrypt through S3 only.
   * @default - SSE-S3 on a created bucket; an existing bucket's own key (`bucket.encryptionKey`) or default
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Age at which daily backups (`pgferry-tier=daily`) expire.
   * @default Duration.days(7)
   */
  readonly dailyRetention?: Duration;
  /**
   * Age at which weekly backups (Sundays, `pgferry-tier=weekly`) expire.
   * @default Duration.days(35)
   */
  readonly weeklyRetention?: Duration;
  /**
   * Age at which monthly backups (the 1st, `pgferry-tier=monthly`) expire.
   * @default Duration.days(400)
   */
  readonly monthlyRetention?: Duration;
  /**
   * How long overwritten or expired object versions are kept before they are deleted for good.
   * @default Duration.days(30)
   */
  readonly noncurrentVersionRetention?: Duration;
  /**
   * Object Lock default retention for every object written to the created bucket (WORM).
   * @default - no Object Lock
   */
  readonly objectLockRetention?: Duration;
  /**
   * Object Lock mode for `objectLockRetention`.
   * @default 'governance'
   */
  readonly objectLockMode?: ObjectLockMode;
  /**
   * Where the created bucket's server access logs go.
   * @default - a bucket created for them (public access blocked, TLS only, SSE-S3, logs kept 365 days)
   */
  readonly accessLogsBucket?: s3.IBucket;

  /**
   * Topic the alarms notify.
   * @default - a topic is created (KMS-encrypted, TLS only)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * An email address subscribed to the alarm topic.
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * A database without a verified backup for this long raises its alarm; whole hours, at most 7 days.
   * @default Duration.hours(26)
   */
  readonly staleAfter?: Duration;
  /**
   * CloudWatch namespace of the job's metrics (and of the alarms).
   * @default - `pgferry/` and this construct's path, so two deployments in one account never mix
   */
  readonly metricsNamespace?: string;
  /**
   * Retention of the job's logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Seed a staging database from the latest verified backup on a schedule.
   * @default - no seeding
   */
  readonly seed?: SeedProps;
}
