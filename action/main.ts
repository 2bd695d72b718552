import * as core from '@actions/core';
import { runJob } from '../core/jobs/run-job.js';
import type { JobReport } from '../core/jobs/report.js';
import type { Logger } from '../core/log.js';
import { outputValues } from '../core/outputs.js';
import { readInputs, readToken } from './inputs.js';
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

/** The Action: inputs → one engine call → outputs, PATH and the job summary. */
export async function run(): Promise<void> {
  try {
    const token = readToken();
    const options = readInputs();
    const report = await core.group(`pgferry ${options.command}`, () =>
      runJob(options, {
        log: actionsLogger,
        store: options.cache ? new ToolCacheStore() : undefined,
        token,
        onProgress: (p) =>
          core.info(
            `… ${(p.bytes / 1048576).toFixed(1)} MiB, ${(p.bytesPerSecond / 1048576).toFixed(1)} MiB/s, ${(p.elapsedMs / 1000).toFixed(0)} s elapsed`,
          ),
      }),
    );
    // Later steps run the matched tools by name.
    core.addPath(report.binDir);
    setOutputs(report);
    await writeSummary(options, report);
    core.info(
      `pgferry ${report.command} done in ${report.durationSeconds.toFixed(1)} s with PostgreSQL ${report.clientVersion} (${report.clientSource}: ${report.binDir})`,
    );
  } catch (error) {
    // The one catch-all: every failure ends the step with its message.
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}
