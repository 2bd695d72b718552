import { PgferryError } from '../core/errors.js';

/** Lambda's clock: what the runtime's context offers. */
export interface RemainingTime {
  getRemainingTimeInMillis(): number;
}

/** The reason a run was stopped before Lambda's hard limit. */
export class DeadlineError extends PgferryError {
  override readonly name = 'DeadlineError';
  constructor(message: string) {
    super(message, { code: 'cancelled' });
  }
}

/**
 * Aborts `controller` when less than `marginMs` of the invocation is left, so the upload is aborted
 * and nothing half-done is published before Lambda kills the process. Checked every second.
 */
export function watchDeadline(
  context: RemainingTime,
  marginMs: number,
  controller: AbortController,
): () => void {
  const check = (): void => {
    const left = context.getRemainingTimeInMillis();
    if (left < marginMs && !controller.signal.aborted) {
      controller.abort(
        new DeadlineError(
          `stopped with ${Math.round(left / 1000)} s of Lambda time left (margin ${Math.round(marginMs / 1000)} s)`,
        ),
      );
    }
  };
  check();
  const timer = setInterval(check, 1000);
  return () => clearInterval(timer);
}

/** The message an operator sees: what happened, that nothing was published, and what to do. */
export function deadlineMessage(job: string, reason: DeadlineError, detail: string): string {
  return (
    `${job} did not finish within this Lambda's time limit and was ${reason.message}. ` +
    `Nothing was published: the upload was aborted and latest.json was not moved. ` +
    `This database needs the Fargate compute (PgferryBackup compute: Compute.fargate(...)), which has no time limit. ` +
    `Details: ${detail}`
  );
}
