import { RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ScheduledJobName } from '../lambda/config.js';
import type { ClientStaging } from './build-assets.js';

/** The job's own name for what it runs, one type for the construct and the job. */
export type { ScheduledJobName };

/** What both computes get: the same job code, environment and network. */
export interface JobRunnerProps {
  environment: Record<string, string>;
  vpc: ec2.IVpc;
  vpcSubnets: ec2.SubnetSelection;
  securityGroup: ec2.ISecurityGroup;
  clients: ClientStaging;
  logRetention: logs.RetentionDays;
}

/** The job's compute, seen from the construct: a role to grant to, and a target to schedule. */
export interface JobRunner {
  /** The identity the job runs as (the Lambda execution role, or the Fargate task role). */
  readonly role: iam.Role;
  readonly logGroup: logs.ILogGroup;
  /** An EventBridge target that starts one run of `job`. */
  ruleTarget(job: ScheduledJobName): events.IRuleTarget;
  /** Failures the job cannot report itself (a Lambda crash or timeout). */
  readonly platformFailureMetrics: cloudwatch.IMetric[];
}

/** EventBridge retries a target it could not start for this long, then gives up (the alarm fires). */
export const TARGET_MAX_EVENT_AGE_HOURS = 1;
export const TARGET_RETRY_ATTEMPTS = 2;

/**
 * The job's own role (no managed policies: grants are added one by one) and its log group, kept when
 * the stack goes so the record of past runs outlives it.
 */
export function jobIdentity(
  scope: Construct,
  roleId: string,
  service: string,
  description: string,
  retention: logs.RetentionDays,
): { role: iam.Role; logGroup: logs.LogGroup } {
  const role = new iam.Role(scope, roleId, { assumedBy: new iam.ServicePrincipal(service), description });
  const logGroup = new logs.LogGroup(scope, 'Logs', { retention, removalPolicy: RemovalPolicy.RETAIN });
  return { role, logGroup };
}
