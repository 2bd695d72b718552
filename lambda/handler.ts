import type { Context } from 'aws-lambda';
import { PgferryError } from '../core/errors.js';
import { parseScheduledJobConfig } from './config.js';
import { deadlineMessage, DeadlineError, watchDeadline } from './deadline.js';
import { parseEvent } from './event.js';
import { JsonLog, stdoutSink } from './json-log.js';
import { Metrics } from './metrics.js';
import {
  reportConfigFailure,
  runScheduledJob,
  ScheduledJobError,
  type ScheduledJobSummary,
} from './scheduled-job.js';

/**
 * The Lambda entry: a scheduled event (configuration from the environment infra/ sets) or a direct
 * invocation `{"job": "backup" | "seed", …overrides}`. Returns the run's summary; throws when anything
 * failed so the function's error metric and its alarm fire.
 */
export async function handler(event: unknown, context: Context): Promise<ScheduledJobSummary> {
  const env = process.env;
  const log = new JsonLog(stdoutSink, { requestId: context.awsRequestId });
  let config;
  try {
    config = parseScheduledJobConfig(env, parseEvent(event));
  } catch (error) {
    reportConfigFailure(env, log, error);
    throw error;
  }
  const jobLog = new JsonLog(stdoutSink, { requestId: context.awsRequestId, job: config.job });
  const controller = new AbortController();
  const stopWatching = watchDeadline(context, config.deadlineMarginSeconds * 1000, controller);
  jobLog.step('start', {
    compute: 'lambda',
    remainingSeconds: Math.round(context.getRemainingTimeInMillis() / 1000),
  });
  try {
    return await runScheduledJob({
      config,
      log: jobLog,
      metrics: new Metrics(stdoutSink, config.metricsNamespace),
      env,
      signal: controller.signal,
      compute: 'lambda',
    });
  } catch (error) {
    const reason: unknown = controller.signal.reason;
    if (reason instanceof DeadlineError) {
      const detail = error instanceof PgferryError ? error.message : String(error);
      throw new ScheduledJobError(
        deadlineMessage(config.job, reason, detail),
        error instanceof ScheduledJobError
          ? error.summary
          : { job: config.job, ok: false, durationSeconds: 0, backups: [], failures: [] },
      );
    }
    throw error;
  } finally {
    stopWatching();
  }
}
