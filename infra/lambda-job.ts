import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { lambdaCode, stagedClients } from './build-assets.js';
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

export type LambdaSettings = Extract<ResolvedCompute, { kind: 'lambda' }>;

/** The actions Lambda needs to attach a function to a VPC (the ENIs it creates and removes). */
export const LAMBDA_VPC_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

/**
 * The job as a Lambda function: lambda/handler.ts bundled by esbuild, the client tools as a layer
 * (/opt/pgferry/pg/<major>), in the VPC, with a role that has no managed policies.
 */
export class LambdaJob extends Construct implements JobRunner {
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly function: lambda.Function;
  readonly clientLayer: lambda.LayerVersion;
  readonly platformFailureMetrics: cloudwatch.IMetric[];

  constructor(
    scope: Construct,
    id: string,
    // `code`: another entry of the same job (PgferryFleet's unit entry); the scheduled job by default.
    props: JobRunnerProps & { settings: LambdaSettings; code?: lambda.Code; description?: string },
  ) {
    super(scope, id);
    const s = props.settings;
    ({ role: this.role, logGroup: this.logGroup } = jobIdentity(
      this,
      'Role',
      'lambda.amazonaws.com',
      'pgferry scheduled job (Lambda)',
      props.logRetention,
    ));
    this.logGroup.grantWrite(this.role);
    const vpcAccess = new iam.PolicyStatement({
      sid: 'AttachToVpc',
      actions: [...LAMBDA_VPC_ACTIONS],
      resources: ['*'],
    });
    this.role.addToPrincipalPolicy(vpcAccess);
    acknowledgeWildcards(
      this.role,
      [vpcAccess],
      'Lambda creates and deletes the network interfaces of a VPC function with these EC2 actions, which do not support resource-level permissions (the same actions as the AWS managed AWSLambdaVPCAccessExecutionRole, without its logs:* on every log group).',
    );

    this.clientLayer = new lambda.LayerVersion(this, 'ClientTools', {
      code: lambda.Code.fromAsset(stagedClients(props.clients)),
      compatibleRuntimes: [lambda.Runtime.NODEJS_24_X],
      compatibleArchitectures: [lambda.Architecture.X86_64],
      description: `PostgreSQL client tools ${props.clients.majors.join(', ')} at /opt/pgferry/pg/<major>`,
    });
    this.function = new lambda.Function(this, 'Function', {
      description: props.description ?? 'pgferry scheduled job: backup to S3, or seed staging',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.X86_64,
      handler: 'index.handler',
      code: props.code ?? lambda.Code.fromAsset(lambdaCode()),
      layers: [this.clientLayer],
      role: this.role,
      environment: props.environment,
      memorySize: s.memorySize,
      timeout: s.timeout,
      ephemeralStorageSize: s.ephemeralStorage,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.securityGroup],
      logGroup: this.logGroup,
      // The job writes its JSON and metric lines to stdout itself: Text keeps each line one log event
      // as written, which CloudWatch needs to read a metric line (JSON format would wrap it).
      loggingFormat: lambda.LoggingFormat.TEXT,
      // A failed run is not repeated behind the operator's back: the alarm says so and a rerun is
      // one invocation away.
      retryAttempts: 0,
    });
    this.platformFailureMetrics = [this.function.metricErrors({ statistic: 'Sum' })];
  }

  ruleTarget(job: ScheduledJobName): events.IRuleTarget {
    return new targets.LambdaFunction(this.function, {
      ...(job === 'seed' ? { event: events.RuleTargetInput.fromObject({ job: 'seed' }) } : {}),
      retryAttempts: TARGET_RETRY_ATTEMPTS,
      maxEventAge: Duration.hours(TARGET_MAX_EVENT_AGE_HOURS),
    });
  }
}
