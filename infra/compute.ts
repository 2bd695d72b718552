import type { Duration, Size } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';

/** The job as a Lambda function (x86-64, the staged clients' architecture). */
export interface LambdaComputeOptions {
  /**
   * Memory of the function in MiB (CPU grows with it).
   * @default 2048
   */
  readonly memorySize?: number;
  /**
   * Time limit of one run; Lambda allows at most 15 minutes.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /**
   * `/tmp` of the function (seeding and a restore drill may download the archive there).
   * @default Size.gibibytes(10)
   */
  readonly ephemeralStorageSize?: Size;
  /**
   * The job stops cleanly when less than this is left of `timeout`.
   * @default Duration.seconds(60)
   */
  readonly deadlineMargin?: Duration;
}

/** The job as an ECS Fargate task (x86-64): no time limit, up to 200 GiB of disk. */
export interface FargateComputeOptions {
  /**
   * Task CPU units (256, 512, 1024, 2048, 4096, 8192 or 16384).
   * @default 1024
   */
  readonly cpu?: number;
  /**
   * Task memory in MiB; must suit `cpu` (Fargate's table).
   * @default 4096
   */
  readonly memoryLimitMiB?: number;
  /**
   * Ephemeral storage of the task in GiB, 21–200.
   * @default 21
   */
  readonly ephemeralStorageGiB?: number;
  /**
   * The cluster the task runs in.
   * @default - a cluster is created in the job's VPC (Container Insights on)
   */
  readonly cluster?: ecs.ICluster;
  /**
   * Base image of the job's container (pin a digest here for reproducible builds).
   * @default 'node:24-bookworm-slim'
   */
  readonly baseImage?: string;
}

/** Both computes of `Compute.auto()`: each unit runs on the Lambda when its estimate fits, else on Fargate. */
export interface AutoComputeOptions {
  readonly lambda?: LambdaComputeOptions;
  readonly fargate?: FargateComputeOptions;
}

/**
 * Where the job runs: `Compute.lambda()` (the default) or `Compute.fargate()`; a `PgferryFleet` also
 * takes `Compute.auto()`.
 */
export class Compute {
  /** A Lambda function: cheapest for databases whose backup finishes well within 15 minutes. */
  static lambda(options: LambdaComputeOptions = {}): Compute {
    return new Compute('lambda', options, undefined);
  }

  /** A Fargate task: for databases too large or too slow for Lambda. */
  static fargate(options: FargateComputeOptions = {}): Compute {
    return new Compute('fargate', undefined, options);
  }

  /**
   * PgferryFleet only: each unit first predicts its duration on the Lambda (from the database size and
   * its last manifests) and runs there when the estimate and the deadline margin fit the timeout, on
   * Fargate otherwise.
   */
  static auto(options: AutoComputeOptions = {}): Compute {
    return new Compute('auto', options.lambda ?? {}, options.fargate ?? {});
  }

  private constructor(
    readonly kind: 'lambda' | 'fargate' | 'auto',
    readonly lambdaOptions: LambdaComputeOptions | undefined,
    readonly fargateOptions: FargateComputeOptions | undefined,
  ) {}
}

/** Defaults of the compute options, in one place for the code and the TSDoc above. */
export const LAMBDA_DEFAULTS = {
  memorySize: 2048,
  timeoutMinutes: 15,
  ephemeralStorageGiB: 10,
  deadlineMarginSeconds: 60,
} as const;

export const FARGATE_DEFAULTS = {
  cpu: 1024,
  memoryLimitMiB: 4096,
  ephemeralStorageGiB: 21,
  baseImage: 'node:24-bookworm-slim',
} as const;
