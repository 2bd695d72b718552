import { checkAsTheJobWill } from './resolve-engine-values.js';
import { Duration, Size } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { Compute, FARGATE_DEFAULTS, LAMBDA_DEFAULTS } from './compute.js';
import { fargateSizeProblem } from './fargate-sizes.js';
import { fail, PropProblems } from './props-error.js';

export type ResolvedCompute =
  | {
      kind: 'lambda';
      memorySize: number;
      timeout: Duration;
      ephemeralStorage: Size;
      deadlineMarginSeconds: number;
    }
  | {
      kind: 'fargate';
      cpu: number;
      memoryLimitMiB: number;
      ephemeralStorageGiB: number;
      cluster?: ecs.ICluster;
      baseImage: string;
    };

const LAMBDA_MAX_TIMEOUT_MINUTES = 15;

/** The compute with its defaults applied, checked against Lambda's and Fargate's limits (all at once). */
export function resolveCompute(compute: Compute | undefined): ResolvedCompute {
  const chosen = compute ?? Compute.lambda();
  // One job over all its databases has no unit to route: auto needs the fleet's state machine.
  if (chosen.kind === 'auto')
    fail('compute', 'Compute.auto() needs PgferryFleet; give Compute.lambda() or Compute.fargate()');
  const problems = new PropProblems();
  const resolved =
    chosen.kind === 'lambda'
      ? resolveLambda(chosen.lambdaOptions ?? {}, problems)
      : resolveFargate(chosen.fargateOptions ?? {}, problems);
  problems.throwIfAny();
  return resolved;
}

export type ResolvedLambda = Extract<ResolvedCompute, { kind: 'lambda' }>;
export type ResolvedFargate = Extract<ResolvedCompute, { kind: 'fargate' }>;

export function resolveLambda(
  o: NonNullable<Compute['lambdaOptions']>,
  problems: PropProblems,
): ResolvedLambda {
  const timeout = o.timeout ?? Duration.minutes(LAMBDA_DEFAULTS.timeoutMinutes);
  if (timeout.toSeconds() > LAMBDA_MAX_TIMEOUT_MINUTES * 60)
    problems.add(
      'compute.timeout',
      `${timeout.toHumanString()} is above Lambda's 15-minute limit; use Compute.fargate() for longer runs`,
    );
  const memorySize = o.memorySize ?? LAMBDA_DEFAULTS.memorySize;
  if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240)
    problems.add('compute.memorySize', `${memorySize} is outside Lambda's 128–10240 MiB`);
  const ephemeralStorage = o.ephemeralStorageSize ?? Size.gibibytes(LAMBDA_DEFAULTS.ephemeralStorageGiB);
  const storageMiB = ephemeralStorage.toMebibytes();
  if (storageMiB < 512 || storageMiB > 10240)
    problems.add('compute.ephemeralStorageSize', `${storageMiB} MiB is outside Lambda's 512–10240 MiB`);
  const margin = (o.deadlineMargin ?? Duration.seconds(LAMBDA_DEFAULTS.deadlineMarginSeconds)).toSeconds();
  problems.collect(() => checkAsTheJobWill('PGFERRY_DEADLINE_MARGIN_SECONDS', margin));
  if (margin >= timeout.toSeconds())
    problems.add('compute.deadlineMargin', `${margin} s must be shorter than the timeout`);
  return { kind: 'lambda', memorySize, timeout, ephemeralStorage, deadlineMarginSeconds: margin };
}

export function resolveFargate(
  o: NonNullable<Compute['fargateOptions']>,
  problems: PropProblems,
): ResolvedFargate {
  const cpu = o.cpu ?? FARGATE_DEFAULTS.cpu;
  const memoryLimitMiB = o.memoryLimitMiB ?? FARGATE_DEFAULTS.memoryLimitMiB;
  const sizeProblem = fargateSizeProblem(cpu, memoryLimitMiB);
  if (sizeProblem) problems.add(`compute.${sizeProblem.option}`, sizeProblem.problem);
  const ephemeralStorageGiB = o.ephemeralStorageGiB ?? FARGATE_DEFAULTS.ephemeralStorageGiB;
  if (!Number.isInteger(ephemeralStorageGiB) || ephemeralStorageGiB < 21 || ephemeralStorageGiB > 200)
    problems.add('compute.ephemeralStorageGiB', `${ephemeralStorageGiB} is outside Fargate's 21–200 GiB`);
  return {
    kind: 'fargate',
    cpu,
    memoryLimitMiB,
    ephemeralStorageGiB,
    cluster: o.cluster,
    baseImage: o.baseImage ?? FARGATE_DEFAULTS.baseImage,
  };
}
