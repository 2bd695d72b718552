import * as core from '@actions/core';
import { runJob } from '../core/jobs/run-job.js';
import type { JobReport } from '../core/jobs/report.js';
import type { Logger } from '../core/log.js';
import { readInputs } from './inputs.js';
import { writeSummary } from './summary.js';
import { ToolCacheStore } from './tool-cache-store.js';

const actionsLogger: Logger = {
  debug: (m) => core.debug(m),
  info: (m) => core.info(m),
  warn: (m) => core.warning(m),
};

function setOutputs(report: JobReport): void {
  const outputs: Record<string, string | number | undefined> = {
    'client-version': report.clientVersion,
    'server-version': report.serverVersion,
    'bin-dir': report.binDir,
    location: report.location,
    bytes: report.bytes,
    sha256: report.sha256,
    format: report.format,
    'archive-version': report.archiveVersion,
    'duration-seconds': report.durationSeconds.toFixed(1),
    'toc-entries': report.tocEntries,
    tables: report.tables,
    manifest: report.manifest,
  };
  for (const [name, value] of Object.entries(outputs))
    if (value !== undefined) core.setOutput(name, String(value));
}

/** The Action: inputs → one engine call → outputs, PATH and the job summary. */
export async function run(): Promise<void> {
  try {
    const options = readInputs();
    const report = await core.group(`pgferry ${options.command}`, () =>
      runJob(options, {
        log: actionsLogger,
        store: options.cache ? new ToolCacheStore() : undefined,
        token: process.env.GITHUB_TOKEN,
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
