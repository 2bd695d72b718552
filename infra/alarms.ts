import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { ScheduledJobName } from './job-runner.js';

/** Metric names and dimensions of the job's embedded-metric-format lines (lambda/metrics.ts). */
export const METRIC = {
  failure: 'Failure',
  verifiedBackups: 'VerifiedBackups',
  uncoveredColumns: 'UncoveredColumns',
} as const;

/** Failures are summed over short periods, looking back three of them so a late metric line still counts. */
export const FAILURE_PERIOD = Duration.minutes(5);
export const FAILURE_EVALUATION_PERIODS = 3;
/**
 * Staleness is counted in hours: "no verified backup in N hours" is N hourly periods without a
 * `VerifiedBackups` data point, missing data breaching. CloudWatch allows period × periods up to 7
 * days when the period is an hour or longer (1 day below that), hence whole hours up to 168.
 */
export const STALE_PERIOD = Duration.hours(1);

export interface AlarmsProps {
  namespace: string;
  databases: string[];
  staleAfterHours: number;
  /** Jobs that report `Failure` (backup, and seed when it is scheduled). */
  jobs: ScheduledJobName[];
  /** Rules whose target could not be started count as failed runs. */
  rules: events.Rule[];
  /** Failures the job cannot report itself (Lambda errors and timeouts). */
  platformFailureMetrics: cloudwatch.IMetric[];
  topic?: sns.ITopic;
  email?: string;
  /** The seed masks: its coverage report's uncovered columns raise an alarm. */
  maskedSeed?: boolean;
}

/**
 * A masked seed left personal-looking columns without a rule (its coverage report): a column added
 * in production is masked by nothing until the rules name it. Each such seed notifies once: with
 * missing data not breaching, the alarm is back to OK three periods later, ready for the next.
 */
export function uncoveredColumnsAlarm(
  scope: Construct,
  id: string,
  p: { namespace: string; dimensions: Record<string, string>; what: string; notify: cloudwatch.IAlarmAction },
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Metric({
    namespace: p.namespace,
    metricName: METRIC.uncoveredColumns,
    dimensionsMap: p.dimensions,
    statistic: 'Maximum',
    period: FAILURE_PERIOD,
  }).createAlarm(scope, id, {
    alarmDescription: `${p.what} copied personal-looking columns that no masking rule covers; the seed's coverage report names them. Give each a rule (keep, where it is not personal).`,
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: FAILURE_EVALUATION_PERIODS,
    datapointsToAlarm: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(p.notify);
  return alarm;
}

/** A KMS-encrypted, TLS-only topic that CloudWatch may publish to. */
function createTopic(scope: Construct): sns.Topic {
  // CloudWatch cannot use the AWS managed SNS key, so the topic gets its own.
  const key = new kms.Key(scope, 'AlarmTopicKey', {
    description: 'pgferry alarm notifications',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.DESTROY,
    pendingWindow: Duration.days(7),
  });
  key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
  return new sns.Topic(scope, 'AlarmTopic', {
    displayName: 'pgferry backup alarms',
    masterKey: key,
    enforceSSL: true,
  });
}

/**
 * Two alarms that together say "backups are not happening": a run failed (the job's `Failure`
 * metric, a crashed or timed-out function, a target EventBridge could not start), and, per
 * database, no verified backup for `staleAfter` — which also catches runs that never started or
 * died without reporting.
 */
export class BackupAlarms extends Construct {
  readonly topic: sns.ITopic;
  readonly runFailed: cloudwatch.Alarm;
  readonly stale: Record<string, cloudwatch.Alarm> = {};
  readonly uncoveredColumns?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = props.topic ?? createTopic(this);
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    const notify = new cloudwatchActions.SnsAction(this.topic);

    const failureSignals: Record<string, cloudwatch.IMetric> = {};
    for (const job of props.jobs) {
      failureSignals[`${job}Failures`] = new cloudwatch.Metric({
        namespace: props.namespace,
        metricName: METRIC.failure,
        dimensionsMap: { Job: job },
        statistic: 'Sum',
        period: FAILURE_PERIOD,
      });
    }
    props.rules.forEach((rule, i) => {
      failureSignals[`notStarted${i}`] = new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName: 'FailedInvocations',
        dimensionsMap: { RuleName: rule.ruleName },
        statistic: 'Sum',
        period: FAILURE_PERIOD,
      });
    });
    props.platformFailureMetrics.forEach((metric, i) => (failureSignals[`platform${i}`] = metric));
    const sum = Object.keys(failureSignals)
      .map((name) => `FILL(${name}, 0)`)
      .join(' + ');
    this.runFailed = new cloudwatch.MathExpression({
      expression: sum,
      usingMetrics: failureSignals,
      period: FAILURE_PERIOD,
      label: 'failed runs',
    }).createAlarm(this, 'RunFailed', {
      alarmDescription: `A pgferry run failed or could not start${props.jobs.length > 0 ? ` (${props.jobs.join(', ')})` : ''}; see the job's logs.`,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: FAILURE_EVALUATION_PERIODS,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.runFailed.addAlarmAction(notify);

    for (const database of props.databases) {
      const alarm = new cloudwatch.Metric({
        namespace: props.namespace,
        metricName: METRIC.verifiedBackups,
        dimensionsMap: { Job: 'backup', Database: database },
        statistic: 'Sum',
        period: STALE_PERIOD,
      }).createAlarm(this, `Stale-${database}`, {
        alarmDescription: `No verified pgferry backup of ${database} for ${props.staleAfterHours} hours.`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: props.staleAfterHours,
        datapointsToAlarm: props.staleAfterHours,
        // No data is the failure this alarm exists for.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
      this.stale[database] = alarm;
    }
    if (props.maskedSeed)
      this.uncoveredColumns = uncoveredColumnsAlarm(this, 'UncoveredColumns', {
        namespace: props.namespace,
        dimensions: { Job: 'seed' },
        what: 'The masked seed',
        notify,
      });
  }
}
