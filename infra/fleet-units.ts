import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { FLEET_JOB_VARIABLE, FLEET_UNIT_VARIABLE } from './fleet-environment.js';
import type { FargateJob } from './fargate-job.js';

/**
 * The errors a unit may be retried after: the unit entry's own "nothing was uploaded yet" failure,
 * and Lambda's service-side refusals (the invocation never ran). Anything else — a failed dump, a
 * refused estimate, a timeout — is recorded as the unit's outcome, never repeated.
 */
export const RETRYABLE_ERRORS = [
  'PgferryRetryable',
  'Lambda.ServiceException',
  'Lambda.TooManyRequestsException',
] as const;
export const RETRY = {
  errors: [...RETRYABLE_ERRORS],
  maxAttempts: 2,
  interval: Duration.seconds(30),
  backoffRate: 2,
  jitterStrategy: sfn.JitterType.FULL,
};

/** What runs a unit: the fleet's function (predict and run) and/or its Fargate task. */
export interface UnitRunners {
  function?: lambda.IFunction;
  fargate?: FargateJob;
  securityGroup: ec2.ISecurityGroup;
  vpcSubnets: ec2.SubnetSelection;
}

/** The event the unit entry takes: the item's unit and job, and the phase. */
function unitEvent(phase: 'predict' | 'run'): sfn.TaskInput {
  return sfn.TaskInput.fromObject({
    unit: sfn.JsonPath.stringAt('$.unit'),
    job: sfn.JsonPath.stringAt('$.job'),
    phase,
  });
}

function invoke(scope: Construct, name: string, fn: lambda.IFunction, phase: 'predict' | 'run') {
  const task = new tasks.LambdaInvoke(scope, name, {
    lambdaFunction: fn,
    payload: unitEvent(phase),
    // The function's own result is the state's result; predict's goes beside the item.
    payloadResponseOnly: true,
    resultPath: phase === 'predict' ? '$.prediction' : '$',
    // CDK's default retries six times on any Lambda service error; the fleet's policy is explicit.
    retryOnServiceExceptions: false,
  });
  task.addRetry(RETRY);
  return task;
}

/** The Fargate task for one unit, waited for (`.sync`); its unit and job arrive as overrides. */
function runTask(scope: Construct, name: string, r: UnitRunners): tasks.EcsRunTask {
  const fargate = r.fargate!;
  return new tasks.EcsRunTask(scope, name, {
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    cluster: fargate.cluster,
    taskDefinition: fargate.taskDefinition,
    launchTarget: new tasks.EcsFargateLaunchTarget({ platformVersion: ecs.FargatePlatformVersion.LATEST }),
    subnets: r.vpcSubnets,
    securityGroups: [r.securityGroup],
    assignPublicIp: false,
    containerOverrides: [
      {
        containerDefinition: fargate.container,
        environment: [
          { name: FLEET_UNIT_VARIABLE, value: sfn.JsonPath.stringAt('$.unit') },
          { name: FLEET_JOB_VARIABLE, value: sfn.JsonPath.stringAt('$.job') },
        ],
      },
    ],
    resultPath: '$.task',
  });
}

/** A caught failure as the unit's outcome: which unit, and the error's name and message. */
function recordFailure(scope: Construct, name: string): sfn.Pass {
  return new sfn.Pass(scope, name, {
    parameters: {
      'unit.$': '$.unit',
      'job.$': '$.job',
      outcome: 'failed',
      'error.$': '$.error.Error',
      'cause.$': '$.error.Cause',
    },
  });
}

/**
 * The states one unit goes through, for `label` (`Backup`, `Seed`: state names are unique in a state
 * machine): on Lambda, run; on Fargate, run the task; with auto, predict on the Lambda and run where
 * the prediction says. Every failure ends in a recorded outcome instead of failing the Map.
 */
export function unitChain(
  scope: Construct,
  label: string,
  kind: 'lambda' | 'fargate' | 'auto',
  r: UnitRunners,
): sfn.IChainable {
  const failed = recordFailure(scope, `${label}: record the failure`);
  const catchAll = { resultPath: '$.error' };
  const onLambda = () =>
    invoke(scope, `${label}: run on Lambda`, r.function!, 'run').addCatch(failed, catchAll);
  const onFargate = () => {
    const done = new sfn.Pass(scope, `${label}: Fargate task done`, {
      parameters: {
        'unit.$': '$.unit',
        'job.$': '$.job',
        outcome: 'done',
        compute: 'fargate',
        'taskArn.$': '$.task.TaskArn',
      },
    });
    return runTask(scope, `${label}: run on Fargate`, r).addCatch(failed, catchAll).next(done);
  };
  if (kind === 'lambda') return onLambda();
  if (kind === 'fargate') return onFargate();
  const route = new sfn.Choice(scope, `${label}: where it fits`)
    .when(sfn.Condition.stringEquals('$.prediction.compute', 'fargate'), onFargate())
    .otherwise(onLambda());
  return invoke(scope, `${label}: predict`, r.function!, 'predict').addCatch(failed, catchAll).next(route);
}
