import type { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Compute } from './compute.js';
import type { PgferryBackupProps, SeedMaskingProps, SourceDatabase, SslMode } from './props.js';

/** One server of the fleet and its databases; each database is its own unit `<id>/<database>`. */
export interface FleetSource extends SourceDatabase {
  /**
   * Names the server in units (`<id>/<database>`), metric dimensions and keys: letters, digits,
   * `_ -`, at most 32 characters, unique in the fleet.
   */
  readonly id: string;
  /** The server's databases to back up, at least one, each listed once. */
  readonly databases: string[];
}

/** How many units run at once. */
export interface FleetConcurrency {
  /**
   * Units running at once in the whole fleet.
   * @default 4
   */
  readonly overall?: number;
  /**
   * Units running at once on one server, at most `overall`.
   * @default 1
   */
  readonly perServer?: number;
}

/** One staging database seeded from the latest verified backup of one unit, after the nightly backups. */
export interface FleetSeed extends SeedMaskingProps {
  /** Names the seed unit (letters, digits, `_ -`, at most 32), unique among seeds and source ids. */
  readonly id: string;
  /** The unit whose latest verified backup seeds staging: `<sourceId>/<database>`. */
  readonly from: string;
  /** Secret (RDS format) of the staging server; only its ARN reaches the job. */
  readonly targetSecret: secretsmanager.ISecret;
  /** The staging database whose contents are replaced. */
  readonly targetDatabase: string;
  /** Must equal `targetDatabase`: seeding replaces its contents. */
  readonly confirm: string;
  /**
   * A local SQL file run on staging in one transaction after the restore (uploaded as an asset).
   * @default - no SQL is run
   */
  readonly sanitizeSql?: string;
  /**
   * libpq sslmode for the staging server.
   * @default 'require'
   */
  readonly sslMode?: SslMode;
  /**
   * Path of the CA bundle where the job runs, for `verify-ca` / `verify-full`.
   * @default - none; then `sslMode` must be `require`
   */
  readonly sslRootCert?: string;
  /**
   * Build the new staging beside the old one and swap it in (see SeedProps.swap).
   * @default true
   */
  readonly swap?: boolean;
}

/** The settings a fleet shares with PgferryBackup, with the same meaning and defaults. */
type SharedProps = Pick<
  PgferryBackupProps,
  | 'vpc'
  | 'vpcSubnets'
  | 'postgresMajors'
  | 'postgresVersion'
  | 'compress'
  | 'jobs'
  | 'verify'
  | 'minClientVersion'
  | 'clientSource'
  | 'clientMirror'
  | 'clientCacheDir'
  | 'prefix'
  | 'dailyRetention'
  | 'weeklyRetention'
  | 'monthlyRetention'
  | 'noncurrentVersionRetention'
  | 'objectLockRetention'
  | 'objectLockMode'
  | 'accessLogsBucket'
  | 'alarmEmail'
  | 'metricsNamespace'
>;

export interface PgferryFleetProps extends SharedProps {
  /** The servers and their databases: at least one server, each with at least one database. */
  readonly sources: FleetSource[];
  /**
   * When the nightly execution starts (backups, then seeds).
   * @default - `cron(0 3 * * ? *)`: daily at 03:00 UTC
   */
  readonly schedule?: events.Schedule;
  /**
   * Units at once, overall and per server.
   * @default - { overall: 4, perServer: 1 }
   */
  readonly concurrency?: FleetConcurrency;
  /**
   * Where units run: `Compute.lambda()`, `Compute.fargate()`, or `Compute.auto()` (predicted per unit).
   * @default Compute.lambda()
   */
  readonly compute?: Compute;
  /**
   * Staging databases seeded after the backups, one unit each.
   * @default - no seeding
   */
  readonly seeds?: FleetSeed[];
  /**
   * An existing bucket (its lifecycle, versioning and encryption stay as they are).
   * @default - a bucket is created as PgferryBackup creates one (default retention)
   */
  readonly bucket?: s3.IBucket;
  /**
   * KMS key for SSE-KMS (of the created bucket, or the one an existing bucket uses).
   * @default - SSE-S3 on a created bucket; an existing bucket's own key or default
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Topic the alarms notify.
   * @default - a topic is created (KMS-encrypted, TLS only)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * A unit without a verified backup for this long raises its alarm; whole hours, at most 7 days.
   * @default Duration.hours(26)
   */
  readonly staleAfter?: Duration;
  /**
   * An execution still running after this long is stopped (timed out), so two nights never overlap.
   * @default Duration.hours(23)
   */
  readonly executionTimeout?: Duration;
  /**
   * Retention of the job's and the state machine's logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}
