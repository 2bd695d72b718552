import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { FAILURE_EVALUATION_PERIODS, FAILURE_PERIOD, METRIC } from './alarms.js';
import type { ScheduledJobName } from './job-runner.js';

/**
 * The execution as a whole did not finish: it failed (a state the definition could not catch), timed
 * out (`executionTimeout`) or was aborted. A failed unit does not fail the execution — its outcome
 * is recorded and the run-failed alarm sees it — so this one means the fan-out itself broke.
 */
export function executionAlarm(
  scope: Construct,
  machine: sfn.StateMachine,
  topic: sns.ITopic,
): cloudwatch.Alarm {
  const options = { statistic: 'Sum', period: FAILURE_PERIOD };
  const alarm = new cloudwatch.MathExpression({
    expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
    usingMetrics: {
      failed: machine.metricFailed(options),
      timedOut: machine.metricTimedOut(options),
      aborted: machine.metricAborted(options),
    },
    period: FAILURE_PERIOD,
    label: 'executions failed, timed out or aborted',
  }).createAlarm(scope, 'ExecutionFailed', {
    alarmDescription:
      'A pgferry fleet execution failed, timed out or was aborted; open it in the Step Functions console to see which state stopped it.',
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: FAILURE_EVALUATION_PERIODS,
    datapointsToAlarm: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
  return alarm;
}

/**
 * Per unit: its run reported a failure. The unit entry puts the unit on every metric it emits
 * (`Database` = `<sourceId>/<database>`, or the seed's id), so each unit has its own alarm, named by
 * the unit, instead of one alarm over a fleet-wide sum.
 */
export class UnitFailureAlarms extends Construct {
  readonly alarms: Record<string, cloudwatch.Alarm> = {};

  constructor(
    scope: Construct,
    id: string,
    props: { namespace: string; units: { unit: string; job: ScheduledJobName }[]; topic: sns.ITopic },
  ) {
    super(scope, id);
    const notify = new cloudwatchActions.SnsAction(props.topic);
    for (const { unit, job } of props.units) {
      const alarm = new cloudwatch.Metric({
        namespace: props.namespace,
        metricName: METRIC.failure,
        dimensionsMap: { Job: job, Database: unit },
        statistic: 'Sum',
        period: FAILURE_PERIOD,
      }).createAlarm(this, `Failed-${unit}`, {
        alarmDescription: `The pgferry fleet's ${job} of ${unit} failed; its outcome in the execution and its log lines say why.`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: FAILURE_EVALUATION_PERIODS,
        datapointsToAlarm: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      this.alarms[unit] = alarm;
    }
  }
}
