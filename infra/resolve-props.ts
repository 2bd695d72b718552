import type { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { literal, resolveSslMode } from './prop-rules.js';
import { fail } from './props-error.js';
import type { PgferryBackupProps, SslMode } from './props.js';
import { resolveCompute, type ResolvedCompute } from './resolve-compute.js';
import { resolveSeed, type ResolvedSeed } from './resolve-seed.js';
import {
  resolveDatabases,
  resolveMajors,
  resolvePostgresVersion,
  resolveSource,
  type SourceAuth,
} from './resolve-source.js';
import { resolveStorage, type ResolvedStorage } from './resolve-storage.js';

export { PgferryBackupPropsError } from './props-error.js';
export type { ResolvedCompute } from './resolve-compute.js';
export type { ResolvedSeed } from './resolve-seed.js';
export type { SourceAuth } from './resolve-source.js';

/** The props with every default applied and every rule checked. */
export interface ResolvedProps extends ResolvedStorage {
  source: SourceAuth;
  sslMode: SslMode;
  sslRootCert?: string;
  databases: string[];
  vpc: ec2.IVpc;
  vpcSubnets: ec2.SubnetSelection;
  postgresMajors: number[];
  postgresVersion: string;
  schedule: events.Schedule;
  format: 'custom';
  compress: string;
  jobs?: number;
  verify: 'list' | 'restore';
  compute: ResolvedCompute;
  clientMirror?: string;
  clientCacheDir?: string;
  expectedSizeGiB?: number;
  bucket?: s3.IBucket;
  encryptionKey?: kms.IKey;
  accessLogsBucket?: s3.IBucket;
  alarmTopic?: sns.ITopic;
  alarmEmail?: string;
  staleAfterHours: number;
  metricsNamespace?: string;
  logRetention: logs.RetentionDays;
  seed?: ResolvedSeed;
}

export const DEFAULT_SCHEDULE_EXPRESSION = 'cron(0 3 * * ? *)';
export const DEFAULT_STALE_AFTER_HOURS = 26;
/** CloudWatch evaluates at most 7 days of hourly periods. */
export const MAX_STALE_AFTER_HOURS = 168;

const COMPRESS = /^(auto|none|(gzip|lz4|zstd)(:\d{1,2})?)$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const NAMESPACE = /^[A-Za-z0-9._/#:-]{1,255}$/;

function resolveStaleAfter(value: Duration | undefined): number {
  if (value === undefined) return DEFAULT_STALE_AFTER_HOURS;
  const hours = value.toMinutes() / 60;
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_STALE_AFTER_HOURS) {
    fail(
      'staleAfter',
      `${value.toHumanString()} must be whole hours from 1 to ${MAX_STALE_AFTER_HOURS} (CloudWatch evaluates at most 7 days of hourly periods)`,
    );
  }
  return hours;
}

/** Checks every prop and applies the defaults; throws a PgferryBackupPropsError naming the first bad prop. */
export function resolveProps(props: PgferryBackupProps): ResolvedProps {
  if (!props.database) fail('database', 'is required');
  if (!props.vpc) fail('vpc', 'is required');
  const source = resolveSource(props);
  const databases = resolveDatabases(props.databases);
  const postgresMajors = resolveMajors(props.postgresMajors);
  if (props.format !== undefined && props.format !== 'custom') {
    fail('format', `"${String(props.format)}" cannot be streamed to S3; only custom`);
  }
  const compress = props.compress ?? 'auto';
  if (!COMPRESS.test(compress))
    fail(
      'compress',
      `"${compress}" is not a compression; expected auto, none, gzip[:N], lz4[:N] or zstd[:N]`,
    );
  if (props.jobs !== undefined && (!Number.isInteger(props.jobs) || props.jobs < 1)) {
    fail('jobs', `${props.jobs} is not a whole number ≥ 1`);
  }
  const verify = props.verify ?? 'list';
  if (verify !== 'list' && verify !== 'restore') fail('verify', `"${String(verify)}" is not list or restore`);
  if (props.expectedSizeGiB !== undefined && !(props.expectedSizeGiB > 0)) {
    fail('expectedSizeGiB', `${props.expectedSizeGiB} is not a size; expected a number of GiB above 0`);
  }
  if (props.alarmEmail !== undefined && literal(props.alarmEmail) && !EMAIL.test(props.alarmEmail)) {
    fail('alarmEmail', `"${props.alarmEmail}" is not an email address`);
  }
  if (
    props.metricsNamespace !== undefined &&
    (!NAMESPACE.test(props.metricsNamespace) || props.metricsNamespace.startsWith('AWS/'))
  ) {
    fail('metricsNamespace', `"${props.metricsNamespace}" is not a custom CloudWatch namespace`);
  }

  const sslMode = resolveSslMode('database.sslMode', props.database.sslMode);
  const verifying = [sslMode, props.seed?.sslMode].some((m) => m === 'verify-ca' || m === 'verify-full');
  if (verifying && !props.database.sslRootCert)
    fail(
      'database.sslRootCert',
      'is required when an sslMode is verify-ca or verify-full: the CA bundle path where the job runs',
    );
  return {
    source,
    sslMode,
    sslRootCert: props.database.sslRootCert,
    databases,
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    postgresMajors,
    postgresVersion: resolvePostgresVersion(props.postgresVersion, postgresMajors),
    schedule: props.schedule ?? events.Schedule.expression(DEFAULT_SCHEDULE_EXPRESSION),
    format: 'custom',
    compress,
    jobs: props.jobs,
    verify,
    compute: resolveCompute(props.compute),
    clientMirror: props.clientMirror,
    clientCacheDir: props.clientCacheDir,
    expectedSizeGiB: props.expectedSizeGiB,
    bucket: props.bucket,
    ...resolveStorage(props),
    encryptionKey: props.encryptionKey ?? props.bucket?.encryptionKey,
    accessLogsBucket: props.accessLogsBucket,
    alarmTopic: props.alarmTopic,
    alarmEmail: props.alarmEmail,
    staleAfterHours: resolveStaleAfter(props.staleAfter),
    metricsNamespace: props.metricsNamespace,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    seed: resolveSeed(props, databases),
  };
}
