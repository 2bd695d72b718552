import { Duration, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { imageContext } from './build-assets.js';
import {
  jobIdentity,
  TARGET_MAX_EVENT_AGE_HOURS,
  TARGET_RETRY_ATTEMPTS,
  type ScheduledJobName,
  type JobRunner,
  type JobRunnerProps,
} from './job-runner.js';
import { acknowledgeWildcards } from './nag.js';
import type { ResolvedCompute } from './resolve-props.js';

export type FargateSettings = Extract<ResolvedCompute, { kind: 'fargate' }>;

export const CONTAINER_NAME = 'job';

/**
 * The job as a Fargate task: an image holding only the bundled lambda/task.ts and the staged client
 * tools (built from infra/image/Dockerfile at deploy time; synth needs no Docker), read-only root file
 * system with scratch space at /tmp, logs to CloudWatch (the job's metric lines become metrics there).
 */
export class FargateJob extends Construct implements JobRunner {
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  private scheduleRole?: iam.Role;
  readonly platformFailureMetrics: cloudwatch.IMetric[] = [];
  private readonly props: JobRunnerProps;

  constructor(scope: Construct, id: string, props: JobRunnerProps & { settings: FargateSettings }) {
    super(scope, id);
    this.props = props;
    const s = props.settings;
    this.cluster =
      s.cluster ??
      new ecs.Cluster(this, 'Cluster', {
        vpc: props.vpc,
        containerInsightsV2: ecs.ContainerInsights.ENABLED,
      });
    ({ role: this.role, logGroup: this.logGroup } = jobIdentity(
      this,
      'TaskRole',
      'ecs-tasks.amazonaws.com',
      'pgferry scheduled job (Fargate task)',
      props.logRetention,
    ));
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: s.cpu,
      memoryLimitMiB: s.memoryLimitMiB,
      ephemeralStorageGiB: s.ephemeralStorageGiB,
      taskRole: this.role,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.container = this.taskDefinition.addContainer(CONTAINER_NAME, {
      containerName: CONTAINER_NAME,
      image: ecs.ContainerImage.fromAsset(imageContext(props.clients), {
        platform: ecrAssets.Platform.LINUX_AMD64,
        buildArgs: { BASE_IMAGE: s.baseImage },
      }),
      environment: props.environment,
      essential: true,
      readonlyRootFilesystem: true,
      // Blocking: a metric line is never dropped to keep the job running.
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'pgferry',
        logGroup: this.logGroup,
        mode: ecs.AwsLogDriverMode.BLOCKING,
      }),
    });
    this.taskDefinition.addVolume({ name: 'scratch' });
    this.container.addMountPoints({ sourceVolume: 'scratch', containerPath: '/tmp', readOnly: false });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds only settings and ARNs (bucket, prefix, databases, secret ARNs); the job reads the credentials from Secrets Manager itself at run time, so nothing secret is in the task definition.',
    });
    acknowledgeWildcards(
      this.taskDefinition.obtainExecutionRole(),
      [new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] })],
      'ecr:GetAuthorizationToken has no resource-level permissions; ECS needs it to pull the job image from the CDK asset repository (the pull itself is scoped to that repository).',
    );
  }

  /**
   * The role EventBridge uses to start the task, made when first needed: a task started by a state
   * machine (PgferryFleet) has no such role.
   */
  get eventsRole(): iam.Role {
    this.scheduleRole ??= new iam.Role(this, 'EventsRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: 'EventBridge starts the pgferry Fargate task',
    });
    return this.scheduleRole;
  }

  ruleTarget(job: ScheduledJobName): events.IRuleTarget {
    const target = new targets.EcsTask({
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      launchType: ecs.LaunchType.FARGATE,
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      subnetSelection: this.props.vpcSubnets,
      securityGroups: [this.props.securityGroup],
      assignPublicIp: false,
      role: this.eventsRole,
      propagateTags: ecs.PropagatedTagSource.TASK_DEFINITION,
      ...(job === 'seed'
        ? {
            containerOverrides: [
              { containerName: CONTAINER_NAME, environment: [{ name: 'PGFERRY_JOB', value: 'seed' }] },
            ],
          }
        : {}),
      retryAttempts: TARGET_RETRY_ATTEMPTS,
      maxEventAge: Duration.hours(TARGET_MAX_EVENT_AGE_HOURS),
    });
    return target;
  }

  /** Called once the targets are bound: their statements on the events role are all known then. */
  acknowledgeEventsRole(): void {
    if (!this.scheduleRole) return;
    const policy = this.scheduleRole.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
    if (!policy) return;
    acknowledgeWildcards(
      this.eventsRole,
      policy.document,
      'EventBridge tags the tasks it starts in this cluster with ecs:TagResource; task ids are not known before they start (CDK writes this ARN with a wildcard account).',
    );
  }
}
