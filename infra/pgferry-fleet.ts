import { Annotations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3Assets from 'aws-cdk-lib/aws-s3-assets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { BackupAlarms, uncoveredColumnsAlarm } from './alarms.js';
import { createBackupBucket } from './bucket.js';
import { fleetUnitCode, keepBuiltAssets } from './build-assets.js';
import type { ServerSideEncryption } from './environment.js';
import { FargateJob } from './fargate-job.js';
import { executionAlarm, UnitFailureAlarms } from './fleet-alarms.js';
import { FLEET_FARGATE_VARIABLE, fleetEnvironment, type FleetEnvironment } from './fleet-environment.js';
import type { PgferryFleetProps } from './fleet-props.js';
import { resolveFleet, type ResolvedFleet } from './fleet-resolve.js';
import { fleetStateMachine } from './fleet-state-machine.js';
import type { UnitRunners } from './fleet-units.js';
import { TARGET_MAX_EVENT_AGE_HOURS, TARGET_RETRY_ATTEMPTS, type JobRunnerProps } from './job-runner.js';
import { LambdaJob } from './lambda-job.js';
import { maskingKeySecret } from './masking-key.js';
import { createJobSecurityGroup } from './network.js';
import { grantSeedAccess, grantSourceAccess, grantStorageAccess } from './permissions.js';
import { defaultNamespace } from './pgferry-backup.js';
import { Duration } from 'aws-cdk-lib';

/**
 * Nightly backups of many databases on many servers, each database its own unit of work, fanned out
 * by a Step Functions state machine (Map per server, Map per database, bounded concurrency) over the
 * unit entry on Lambda or Fargate; seeds follow the backups. Allow it into each server with
 * `db.connections.allowDefaultPortFrom(fleet)`.
 */
export class PgferryFleet extends Construct implements ec2.IConnectable {
  readonly connections: ec2.Connections;
  readonly securityGroup: ec2.SecurityGroup;
  readonly bucket: s3.IBucket;
  readonly prefix: string;
  /** `<sourceId>/<database>` of every backup unit, in the order given. */
  readonly units: readonly string[];
  /** The unit entry on Lambda (predict and run), unless the compute is Fargate only. */
  readonly lambda?: LambdaJob;
  /** The unit entry as a Fargate task, unless the compute is Lambda only. */
  readonly fargate?: FargateJob;
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: events.Rule;
  readonly metricsNamespace: string;
  readonly alarmTopic: sns.ITopic;
  /** A unit's Lambda failed (crashed, timed out or threw), or the schedule could not start an execution. */
  readonly runFailedAlarm: cloudwatch.Alarm;
  /** Per unit (`<sourceId>/<database>`, or a seed's id): its run reported a failure. */
  readonly unitFailedAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** The execution itself failed, timed out or was aborted. */
  readonly executionAlarm: cloudwatch.Alarm;
  /** Per unit (`<sourceId>/<database>`): no verified backup for `staleAfter`. */
  readonly staleAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Per masked seed (by its id): it left personal-looking columns without a rule. */
  readonly uncoveredColumnsAlarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: PgferryFleetProps) {
    super(scope, id);
    const f = resolveFleet(props);
    this.warn(f);
    if (this.node.tryGetContext(cxapi.DISABLE_ASSET_STAGING_CONTEXT)) keepBuiltAssets();

    this.prefix = f.prefix;
    this.units = f.units;
    this.bucket =
      props.bucket ??
      createBackupBucket(this, {
        ...f,
        encryptionKey: this.key(f),
        accessLogsBucket: props.accessLogsBucket,
      });
    this.securityGroup = createJobSecurityGroup(this, f.vpc);
    this.connections = new ec2.Connections({ securityGroups: [this.securityGroup] });
    this.metricsNamespace = props.metricsNamespace ?? defaultNamespace(this);

    const sanitize = this.sanitizeAssets(f);
    const environment = fleetEnvironment(this, f, {
      bucketName: this.bucket.bucketName,
      encryption: this.encryption(f),
      metricsNamespace: this.metricsNamespace,
      sanitizeSqlUris: Object.fromEntries(Object.entries(sanitize).map(([k, a]) => [k, a.s3ObjectUrl])),
    });
    const runnerProps = (env: FleetEnvironment): JobRunnerProps => ({
      environment: env as Record<string, string>,
      vpc: f.vpc,
      vpcSubnets: f.vpcSubnets,
      securityGroup: this.securityGroup,
      clients: { majors: f.postgresMajors, mirror: f.clientMirror, cacheDir: f.clientCacheDir },
      logRetention: f.logRetention,
    });
    if (f.compute.lambda) {
      this.lambda = new LambdaJob(this, 'Lambda', {
        ...runnerProps(environment),
        settings: f.compute.lambda,
        code: lambda.Code.fromAsset(fleetUnitCode()),
        description: 'pgferry fleet unit: predict or run one database backup or seed',
      });
    }
    if (f.compute.fargate) {
      this.fargate = new FargateJob(this, 'Fargate', {
        ...runnerProps({ ...environment, [FLEET_FARGATE_VARIABLE]: '1' }),
        settings: f.compute.fargate,
      });
    }
    // Imported once: both runners' roles are granted the same secrets.
    const maskingKeys = Object.fromEntries(
      f.seeds.map((seed) => [seed.id, maskingKeySecret(this, `MaskingKey-${seed.id}`, seed.maskingKey)]),
    );
    for (const runner of [this.lambda, this.fargate])
      if (runner) this.grant(runner.role, f, sanitize, maskingKeys);

    const runners: UnitRunners = {
      function: this.lambda?.function,
      fargate: this.fargate,
      securityGroup: this.securityGroup,
      vpcSubnets: f.vpcSubnets,
    };
    this.stateMachine = fleetStateMachine(this, f, runners);
    this.schedule = new events.Rule(this, 'Schedule', {
      description: `pgferry fleet (${this.node.path})`,
      schedule: f.schedule,
      targets: [
        new targets.SfnStateMachine(this.stateMachine, {
          retryAttempts: TARGET_RETRY_ATTEMPTS,
          maxEventAge: Duration.hours(TARGET_MAX_EVENT_AGE_HOURS),
        }),
      ],
    });

    const alarms = new BackupAlarms(this, 'Alarms', {
      namespace: this.metricsNamespace,
      databases: f.units,
      staleAfterHours: f.staleAfterHours,
      // Units report failures per unit (below), not under Job alone as the single job does.
      jobs: [],
      rules: [this.schedule],
      platformFailureMetrics: this.lambda?.platformFailureMetrics ?? [],
      topic: props.alarmTopic,
      email: props.alarmEmail,
    });
    this.alarmTopic = alarms.topic;
    this.runFailedAlarm = alarms.runFailed;
    this.staleAlarms = alarms.stale;
    this.executionAlarm = executionAlarm(alarms, this.stateMachine, alarms.topic);
    const notify = new cloudwatchActions.SnsAction(alarms.topic);
    this.uncoveredColumnsAlarms = Object.fromEntries(
      f.seeds
        .filter((seed) => seed.maskingRules !== undefined)
        .map((seed) => [
          seed.id,
          uncoveredColumnsAlarm(alarms, `UncoveredColumns-${seed.id}`, {
            namespace: this.metricsNamespace,
            dimensions: { Job: 'seed', Database: seed.id },
            what: `The fleet's masked seed ${seed.id}`,
            notify,
          }),
        ]),
    );
    this.unitFailedAlarms = new UnitFailureAlarms(this, 'UnitAlarms', {
      namespace: this.metricsNamespace,
      units: [
        ...f.units.map((unit) => ({ unit, job: 'backup' as const })),
        ...f.seeds.map((s) => ({ unit: s.id, job: 'seed' as const })),
      ],
      topic: alarms.topic,
    }).alarms;
  }

  private key(f: ResolvedFleet) {
    return f.props.encryptionKey ?? f.props.bucket?.encryptionKey;
  }

  private encryption(f: ResolvedFleet): ServerSideEncryption {
    const key = this.key(f);
    if (key) return { sse: 'aws:kms', kmsKeyArn: key.keyArn };
    return f.props.bucket ? undefined : { sse: 'AES256' };
  }

  private sanitizeAssets(f: ResolvedFleet): Record<string, s3Assets.Asset> {
    const out: Record<string, s3Assets.Asset> = {};
    for (const seed of f.seeds)
      if (seed.sanitizeSql)
        out[seed.id] = new s3Assets.Asset(this, `SanitizeSql-${seed.id}`, { path: seed.sanitizeSql });
    return out;
  }

  /** The same grants as PgferryBackup's, once per source and per seed. */
  private grant(
    role: LambdaJob['role'],
    f: ResolvedFleet,
    sanitize: Record<string, s3Assets.Asset>,
    maskingKeys: Record<string, secretsmanager.ISecret | undefined>,
  ): void {
    grantStorageAccess(role, { bucket: this.bucket, prefix: f.prefix, encryptionKey: this.key(f) });
    let iamSources = 0;
    for (const s of f.sources) {
      const suffix = s.access.kind === 'iam' && iamSources++ > 0 ? String(iamSources) : '';
      grantSourceAccess(role, s.access, `ConnectWithIamAuth${suffix}`);
    }
    f.seeds.forEach((seed, i) => {
      const asset = sanitize[seed.id];
      grantSeedAccess(
        role,
        {
          targetSecret: seed.targetSecret,
          sanitizeSqlObjectArn: asset?.bucket.arnForObjects(asset.s3ObjectKey),
          maskingRules: seed.maskingRules,
          maskingKey: maskingKeys[seed.id],
        },
        i > 0 ? String(i + 1) : '',
      );
    });
  }

  private warn(f: ResolvedFleet): void {
    if (!f.props.alarmTopic && !f.props.alarmEmail)
      Annotations.of(this).addWarningV2(
        'pgferry:alarmsGoNowhere',
        'No alarmTopic and no alarmEmail: the alarms notify a new topic that nobody is subscribed to. Pass alarmEmail or alarmTopic, or subscribe to the created topic.',
      );
  }
}
