import os from 'node:os';
import { PgferryError } from '../core/errors.js';
import { parseScheduledJobConfig } from './config.js';
import { runFleetTask } from './fleet-task.js';
import { JsonLog, stdoutSink } from './json-log.js';
import { Metrics } from './metrics.js';
import { reportConfigFailure, runScheduledJob } from './scheduled-job.js';

/**
 * The Fargate entry (the container's command), runnable anywhere as `node task.mjs` with the same
 * `PGFERRY_*` environment: one run, exit 0 on success and 1 on any failure. ECS stops a task with
 * SIGTERM; the run is then cancelled cleanly (upload aborted, latest.json untouched).
 */
async function main(): Promise<number> {
  const env = process.env;
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stoppedBy ??= signal;
      controller.abort(new PgferryError(`stopped by ${signal}`));
    });
  }
  // A fleet's task runs the one unit its container overrides name.
  if (env.PGFERRY_FLEET_FARGATE === '1') {
    const code = await runFleetTask(env, controller.signal);
    return stoppedBy ? 128 + (os.constants.signals[stoppedBy] ?? 1) : code;
  }
  const log = new JsonLog(stdoutSink, { job: env.PGFERRY_JOB || 'backup' });
  let config;
  try {
    config = parseScheduledJobConfig(env);
  } catch (error) {
    reportConfigFailure(env, log, error);
    return 1;
  }
  const metrics = new Metrics(stdoutSink, config.metricsNamespace);
  log.step('start', { compute: 'task' });
  try {
    await runScheduledJob({ config, log, metrics, env, signal: controller.signal });
    return 0;
  } catch {
    // runScheduledJob has logged every failure and written the summary line; a stop gets one more
    // line that says so, and the exit status a shell gives a signalled process.
    if (stoppedBy) {
      log.failed('stopped', new PgferryError(`stopped by ${stoppedBy}; the run was cancelled`));
      return 128 + (os.constants.signals[stoppedBy] ?? 1);
    }
    return 1;
  }
}

process.exitCode = await main();
