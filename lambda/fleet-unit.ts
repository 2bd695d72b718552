import type { Context } from 'aws-lambda';
import { InputError, InputProblems } from '../core/errors.js';
import { deadlineMessage, DeadlineError, watchDeadline } from './deadline.js';
import { parseFleetConfig } from './fleet-config.js';
import { UnitError } from './fleet-errors.js';
import { predictUnit, runUnit, type UnitDone, type UnitPrediction } from './fleet-run.js';
import { findUnit } from './fleet-units.js';
import { JsonLog, stdoutSink } from './json-log.js';
import { Metrics } from './metrics.js';
import { reportConfigFailure } from './scheduled-job.js';

/** What the state machine sends for one unit. */
export interface UnitEvent {
  unit: string;
  job: 'backup' | 'seed';
  phase: 'predict' | 'run';
}

const FIELDS = ['unit', 'job', 'phase'];

/** `{unit, job, phase}` and nothing else: every problem named `event.<field>`. */
export function parseUnitEvent(event: unknown): UnitEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw new InputError(
      'event',
      'expected {"unit": …, "job": "backup" | "seed", "phase": "predict" | "run"}',
    );
  const problems = new InputProblems();
  const record = event as Record<string, unknown>;
  for (const key of Object.keys(record))
    if (!FIELDS.includes(key))
      problems.add(`event.${key}`, `is not a field of a unit event; expected ${FIELDS.join(', ')}`);
  const { unit, job, phase } = record;
  if (typeof unit !== 'string' || unit === '')
    problems.add('event.unit', 'expected "<sourceId>/<database>" or a seed id');
  if (job !== 'backup' && job !== 'seed') problems.add('event.job', 'expected "backup" or "seed"');
  if (phase !== 'predict' && phase !== 'run') problems.add('event.phase', 'expected "predict" or "run"');
  problems.throwIfAny();
  return record as unknown as UnitEvent;
}

/**
 * The fleet's Lambda entry: one unit, one phase. `predict` estimates and says where the unit can run;
 * `run` refuses what cannot fit this Lambda (PgferryWontFit), else backs the unit up or seeds it.
 * Failures throw a UnitError whose name Step Functions retries (PgferryRetryable) or catches.
 */
export async function handler(event: unknown, context: Context): Promise<UnitPrediction | UnitDone> {
  const env = process.env;
  const log = new JsonLog(stdoutSink, { requestId: context.awsRequestId });
  let fleet, parsed, unit;
  try {
    fleet = parseFleetConfig(env);
    parsed = parseUnitEvent(event);
    unit = findUnit(fleet, parsed.unit, parsed.job, 'event.unit');
  } catch (error) {
    reportConfigFailure(env, log, error);
    throw new UnitError('PgferryFailed', (error as Error).message, parsed?.unit ?? '');
  }
  const unitLog = new JsonLog(stdoutSink, {
    requestId: context.awsRequestId,
    job: unit.job,
    unit: unit.unit,
  });
  const metrics = new Metrics(stdoutSink, fleet.shared.metricsNamespace);
  const controller = new AbortController();
  const ctx = {
    fleet,
    unit,
    log: unitLog,
    metrics,
    env,
    compute: 'lambda' as const,
    signal: controller.signal,
  };
  if (parsed.phase === 'predict') return predictUnit(ctx);
  const stopWatching = watchDeadline(context, fleet.deadlineMarginSeconds * 1000, controller);
  try {
    return await runUnit(ctx);
  } catch (error) {
    const reason: unknown = controller.signal.reason;
    if (reason instanceof DeadlineError)
      throw new UnitError(
        'PgferryFailed',
        deadlineMessage(unit.unit, reason, (error as Error).message),
        unit.unit,
      );
    throw error;
  } finally {
    stopWatching();
  }
}
