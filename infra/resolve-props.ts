import type { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { literal, resolveSslMode } from './prop-rules.js';
import { fail, PropProblems } from './props-error.js';
import type { PgferryBackupProps, SslMode } from './props.js';
import { resolveCompute, type ResolvedCompute } from './resolve-compute.js';
import { resolveSeed, type ResolvedSeed } from './resolve-seed.js';
import {
  checkAsTheJobWill,
  resolveCompress,
  resolveFormat,
  resolveJobs,
  resolvePostgresVersion,
  resolveVerify,
} from './resolve-engine-values.js';
import { resolveDatabases, resolveMajors, resolveSource, type SourceAccess } from './resolve-source.js';
import { resolveStorage, type ResolvedStorage } from './resolve-storage.js';

export { PgferryBackupPropsError } from './props-error.js';
export type { ResolvedCompute } from './resolve-compute.js';
export type { ResolvedSeed } from './resolve-seed.js';
export type { SourceAccess } from './resolve-source.js';

/** The props with every default applied and every rule checked. */
export interface ResolvedProps extends ResolvedStorage {
  source: SourceAccess;
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
  verify: 'list' | 'full' | 'restore';
  compute: ResolvedCompute;
  clientMirror?: string;
  minClientVersion?: string;
  clientSource?: string;
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

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function resolveStaleAfter(value: Duration | undefined): number {
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

/** Props checked on their own (the rest are checked by the resolvers they feed). */
function checkSingleProps(props: PgferryBackupProps, problems: PropProblems): void {
  const { expectedSizeGiB, alarmEmail, metricsNamespace } = props;
  if (props.minClientVersion !== undefined)
    problems.collect(() => checkAsTheJobWill('PGFERRY_MIN_CLIENT_VERSION', props.minClientVersion));
  if (props.clientSource !== undefined)
    problems.collect(() => checkAsTheJobWill('PGFERRY_CLIENT_SOURCE', props.clientSource));
  problems.collect(() => {
    if (expectedSizeGiB !== undefined && !(expectedSizeGiB > 0))
      fail('expectedSizeGiB', `${expectedSizeGiB} is not a size; expected a number of GiB above 0`);
  });
  problems.collect(() => {
    if (alarmEmail !== undefined && literal(alarmEmail) && !EMAIL.test(alarmEmail))
      fail('alarmEmail', `"${alarmEmail}" is not an email address`);
  });
  if (metricsNamespace !== undefined)
    problems.collect(() => checkAsTheJobWill('PGFERRY_METRICS_NAMESPACE', metricsNamespace));
}

/** sslMode, and the CA bundle that certificate verification needs. */
function resolveTls(props: PgferryBackupProps): SslMode {
  const sslMode = resolveSslMode('PGFERRY_SOURCE_SSLMODE', props.database.sslMode);
  const verifying = [sslMode, props.seed?.sslMode].some((m) => m === 'verify-ca' || m === 'verify-full');
  if (verifying && !props.database.sslRootCert)
    fail(
      'database.sslRootCert',
      'is required when an sslMode is verify-ca or verify-full: the CA bundle path where the job runs',
    );
  return sslMode;
}

/**
 * Checks every prop and applies the defaults; throws one PgferryBackupPropsError naming every bad
 * prop (a prop whose check needs another bad prop is checked once that one is fixed).
 */
export function resolveProps(props: PgferryBackupProps): ResolvedProps {
  // Without these two nothing else can be checked.
  if (!props.database) fail('database', 'is required');
  if (!props.vpc) fail('vpc', 'is required');
  const problems = new PropProblems();
  // Undefined only after a problem was recorded, and then throwIfAny throws before the values are used.
  const check = <T>(resolve: () => T): T => problems.collect(resolve) as T;
  const source = check(() => resolveSource(props));
  const databases = check(() => resolveDatabases(props.databases));
  const postgresMajors = check(() => resolveMajors(props.postgresMajors));
  const postgresVersion =
    postgresMajors && check(() => resolvePostgresVersion(props.postgresVersion, postgresMajors));
  const format = check(() => resolveFormat(props.format));
  const compress = check(() => resolveCompress(props.compress));
  const jobs = check(() => resolveJobs(props.jobs));
  const verify = check(() => resolveVerify(props.verify));
  checkSingleProps(props, problems);
  const sslMode = check(() => resolveTls(props));
  const compute = check(() => resolveCompute(props.compute));
  const storage = check(() => resolveStorage(props));
  const staleAfterHours = check(() => resolveStaleAfter(props.staleAfter));
  const seed = databases && check(() => resolveSeed(props, databases));
  problems.throwIfAny();
  return {
    source,
    sslMode,
    sslRootCert: props.database.sslRootCert,
    databases,
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    postgresMajors,
    postgresVersion,
    schedule: props.schedule ?? events.Schedule.expression(DEFAULT_SCHEDULE_EXPRESSION),
    format,
    compress,
    jobs,
    verify,
    compute,
    clientMirror: props.clientMirror,
    minClientVersion: props.minClientVersion,
    clientSource: props.clientSource,
    clientCacheDir: props.clientCacheDir,
    expectedSizeGiB: props.expectedSizeGiB,
    bucket: props.bucket,
    ...storage,
    encryptionKey: props.encryptionKey ?? props.bucket?.encryptionKey,
    accessLogsBucket: props.accessLogsBucket,
    alarmTopic: props.alarmTopic,
    alarmEmail: props.alarmEmail,
    staleAfterHours,
    metricsNamespace: props.metricsNamespace,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    seed,
  };
}
