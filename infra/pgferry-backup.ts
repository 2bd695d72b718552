import { Annotations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3Assets from 'aws-cdk-lib/aws-s3-assets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { BackupAlarms } from './alarms.js';
import { createBackupBucket } from './bucket.js';
import { keepBuiltAssets } from './build-assets.js';
import { jobEnvironment, type ServerSideEncryption } from './environment.js';
import { FargateJob } from './fargate-job.js';
import type { ScheduledJobName, JobRunner, JobRunnerProps } from './job-runner.js';
import { LambdaJob } from './lambda-job.js';
import { createJobSecurityGroup } from './network.js';
import { maskingKeySecret } from './masking-key.js';
import { grantJobAccess } from './permissions.js';
import type { PgferryBackupProps } from './props.js';
import { resolveProps, type ResolvedProps } from './resolve-props.js';
import { riskyCombinations } from './warnings.js';

/** `pgferry/` and the construct path, reduced to the characters CloudWatch namespaces allow. */
export function defaultNamespace(scope: Construct): string {
  return `pgferry/${scope.node.path}`.replace(/[^A-Za-z0-9._/#:-]/g, '-').slice(0, 255);
}

/**
 * Nightly PostgreSQL backups to S3 (and optionally nightly seeding of a staging database), run by
 * the pgferry scheduled job on Lambda or Fargate, with the bucket, schedule, least-privilege role
 * and alarms around it. Allow it into the database with
 * `db.connections.allowDefaultPortFrom(backup)`.
 */
export class PgferryBackup extends Construct implements ec2.IConnectable {
  /** The job's security group, for `db.connections.allowDefaultPortFrom(backup)`. */
  readonly connections: ec2.Connections;
  readonly securityGroup: ec2.SecurityGroup;
  /** The bucket the backups go to (created, or the one given). */
  readonly bucket: s3.IBucket;
  /** Key prefix of the backups: `s3://<bucket>/<prefix>/<database>/latest.json` names the latest verified one. */
  readonly prefix: string;
  /** The identity the job runs as (Lambda execution role or Fargate task role). */
  readonly role: iam.IRole;
  /** The Lambda function or the Fargate task around the job. */
  readonly runner: LambdaJob | FargateJob;
  readonly backupRule: events.Rule;
  readonly seedRule?: events.Rule;
  /** Namespace of the job's metrics. */
  readonly metricsNamespace: string;
  readonly alarmTopic: sns.ITopic;
  /** A run failed or could not start. */
  readonly runFailedAlarm: cloudwatch.Alarm;
  /** Per database: no verified backup for `staleAfter`. */
  readonly staleAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** With seed.maskingRules: the masked seed left personal-looking columns without a rule. */
  readonly uncoveredColumnsAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: PgferryBackupProps) {
    super(scope, id);
    const p = resolveProps(props);
    for (const warning of riskyCombinations(p))
      Annotations.of(this).addWarningV2(warning.id, warning.message);
    // With asset staging off, the assembly points at the build directories instead of copies.
    if (this.node.tryGetContext(cxapi.DISABLE_ASSET_STAGING_CONTEXT)) keepBuiltAssets();

    this.prefix = p.prefix;
    this.bucket = p.bucket ?? createBackupBucket(this, p);
    this.securityGroup = createJobSecurityGroup(this, p.vpc);
    this.connections = new ec2.Connections({ securityGroups: [this.securityGroup] });
    this.metricsNamespace = p.metricsNamespace ?? defaultNamespace(this);

    const sanitizeSql = p.seed?.sanitizeSql
      ? new s3Assets.Asset(this, 'SanitizeSql', { path: p.seed.sanitizeSql })
      : undefined;
    const environment = jobEnvironment(p, {
      bucketName: this.bucket.bucketName,
      encryption: this.encryption(p),
      metricsNamespace: this.metricsNamespace,
      sanitizeSqlUri: sanitizeSql?.s3ObjectUrl,
    });

    const runnerProps: JobRunnerProps = {
      environment,
      vpc: p.vpc,
      vpcSubnets: p.vpcSubnets,
      securityGroup: this.securityGroup,
      clients: { majors: p.postgresMajors, mirror: p.clientMirror, cacheDir: p.clientCacheDir },
      logRetention: p.logRetention,
    };
    const runner: JobRunner & (LambdaJob | FargateJob) =
      p.compute.kind === 'lambda'
        ? new LambdaJob(this, 'Lambda', { ...runnerProps, settings: p.compute })
        : new FargateJob(this, 'Fargate', { ...runnerProps, settings: p.compute });
    this.runner = runner;
    this.role = runner.role;
    grantJobAccess(runner.role, {
      bucket: this.bucket,
      prefix: p.prefix,
      encryptionKey: p.encryptionKey,
      source: p.source,
      seed: p.seed && {
        targetSecret: p.seed.targetSecret,
        sanitizeSqlObjectArn: sanitizeSql?.bucket.arnForObjects(sanitizeSql.s3ObjectKey),
        maskingRules: p.seed.maskingRules,
        maskingKey: maskingKeySecret(this, 'MaskingKey', p.seed.maskingKey),
      },
    });

    this.backupRule = this.scheduleJob(runner, 'BackupSchedule', p.schedule, 'backup');
    const jobs: ScheduledJobName[] = ['backup'];
    if (p.seed) {
      this.seedRule = this.scheduleJob(runner, 'SeedSchedule', p.seed.schedule, 'seed');
      jobs.push('seed');
    }
    if (runner instanceof FargateJob) runner.acknowledgeEventsRole();

    const alarms = new BackupAlarms(this, 'Alarms', {
      namespace: this.metricsNamespace,
      databases: p.databases,
      staleAfterHours: p.staleAfterHours,
      jobs,
      rules: this.seedRule ? [this.backupRule, this.seedRule] : [this.backupRule],
      platformFailureMetrics: runner.platformFailureMetrics,
      topic: p.alarmTopic,
      email: p.alarmEmail,
      maskedSeed: p.seed?.maskingRules !== undefined,
    });
    this.alarmTopic = alarms.topic;
    this.runFailedAlarm = alarms.runFailed;
    this.staleAlarms = alarms.stale;
    this.uncoveredColumnsAlarm = alarms.uncoveredColumns;
  }

  private scheduleJob(
    runner: JobRunner,
    id: string,
    schedule: events.Schedule,
    job: ScheduledJobName,
  ): events.Rule {
    return new events.Rule(this, id, {
      description: `pgferry ${job} (${this.node.path})`,
      schedule,
      targets: [runner.ruleTarget(job)],
    });
  }

  /** The encryption headers the job sends: the bucket's key, SSE-S3 on a created bucket, else the bucket default. */
  private encryption(p: ResolvedProps): ServerSideEncryption {
    if (p.encryptionKey) return { sse: 'aws:kms', kmsKeyArn: p.encryptionKey.keyArn };
    return p.bucket ? undefined : { sse: 'AES256' };
  }
}
