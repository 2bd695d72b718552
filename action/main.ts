import * as core from '@actions/core';
import { runJob } from '../core/jobs/run-job.js';
import type { JobReport } from '../core/jobs/report.js';
import type { Logger } from '../core/log.js';
import type { JobOptions } from '../core/options.js';
import { outputValues } from '../core/outputs.js';
import { describeProgress } from '../core/progress.js';
import { writeFailureSummary, type StepReached } from './failure-summary.js';
import { maskPasswords, readInputs, readToken } from './inputs.js';
import { writeSummary } from './summary.js';
import { ToolCacheStore } from './tool-cache-store.js';

const actionsLogger: Logger = {
  debug: (m) => core.debug(m),
  info: (m) => core.info(m),
  warn: (m) => core.warning(m),
};

function setOutputs(report: JobReport): void {
  for (const [name, value] of outputValues(report)) core.setOutput(name, String(value));
}

/** The Action: inputs → one engine call → outputs, PATH and the job summary (or a failure summary). */
export async function run(): Promise<void> {
  let reached: StepReached = 'inputs';
  let options: JobOptions | undefined;
  const committed: string[] = [];
  let secrets: string[] = [];
  try {
    const token = readToken();
    secrets = [...maskPasswords(), ...(token === undefined ? [] : [token])];
    options = readInputs();
    reached = 'job';
    const job = options;
    const report = await core.group(`pgferry ${job.command}`, () =>
      runJob(job, {
        log: actionsLogger,
        store: job.cache ? new ToolCacheStore() : undefined,
        token,
        onProgress: (p) => core.info(describeProgress(p)),
        onCommitted: (what) => committed.push(what),
      }),
    );
    reached = 'report';
    // Later steps run the matched tools by name.
    core.addPath(report.binDir);
    setOutputs(report);
    await writeSummary(job, report);
    core.info(
      `pgferry ${report.command} done in ${report.durationSeconds.toFixed(1)} s with PostgreSQL ${report.clientVersion} (${report.clientSource}: ${report.binDir})`,
    );
  } catch (error) {
    // The one catch-all: every failure ends the step with its message, and says so in the summary.
    core.setFailed(error instanceof Error ? error.message : String(error));
    await writeFailureSummary({ error, options, reached, committed, secrets }).catch((e: unknown) =>
      core.warning(`the failure summary could not be written: ${(e as Error).message}`),
    );
  }
}
