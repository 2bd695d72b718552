import { PgferryError } from '../core/errors.js';
import { parseFleetConfig } from './fleet-config.js';
import { runUnit } from './fleet-run.js';
import { findUnit } from './fleet-units.js';
import { parseJobName } from './job-values.js';
import { JsonLog, stdoutSink } from './json-log.js';
import { Metrics } from './metrics.js';
import { reportConfigFailure } from './scheduled-job.js';

/**
 * The fleet's Fargate entry (task.ts with PGFERRY_FLEET_FARGATE=1): the unit and job come from the
 * container overrides PGFERRY_FLEET_UNIT and PGFERRY_FLEET_JOB. No time limit, so no estimate is
 * refused here; the result is the last JSON line and the exit status (0 done, 1 failed).
 */
export async function runFleetTask(env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  const log = new JsonLog(stdoutSink, { job: env.PGFERRY_FLEET_JOB || 'backup' });
  let fleet, unit;
  try {
    fleet = parseFleetConfig(env);
    const name = env.PGFERRY_FLEET_UNIT?.trim();
    if (!name)
      throw new PgferryError(
        'PGFERRY_FLEET_UNIT: is required on the fleet task; expected <sourceId>/<database> or a seed id',
      );
    unit = findUnit(
      fleet,
      name,
      parseJobName(env.PGFERRY_FLEET_JOB, 'PGFERRY_FLEET_JOB'),
      'PGFERRY_FLEET_UNIT',
    );
  } catch (error) {
    reportConfigFailure(env, log, error);
    return 1;
  }
  const unitLog = new JsonLog(stdoutSink, { job: unit.job, unit: unit.unit });
  unitLog.step('start', { compute: 'task' });
  try {
    const done = await runUnit({
      fleet,
      unit,
      log: unitLog,
      metrics: new Metrics(stdoutSink, fleet.shared.metricsNamespace),
      env,
      compute: 'fargate',
      signal,
    });
    unitLog.step('result', { ...done });
    return 0;
  } catch (error) {
    // runUnit has logged the failure; the result line says which kind it was.
    unitLog.step('result', { unit: unit.unit, outcome: 'failed', error: (error as Error).name });
    return 1;
  }
}
