import type { InstallJob } from '../../options.js';
import { chooseInstallClient } from '../../pg/policy.js';
import { serverFacts } from '../../pg/server.js';
import type { JobReport } from '../report.js';
import { clientFields, secondsSince, type CommandRun } from './context.js';

/** install: the client matching the server (or the version asked for), provisioned. */
export async function runInstall(options: InstallJob, run: CommandRun): Promise<JobReport> {
  const server = options.source ? await serverFacts(options.source, 'from') : undefined;
  const choice = await chooseInstallClient(server?.version, options.postgresVersion, run.catalog);
  const tools = await run.catalog.provideChosen(choice, run.ctx.log);
  return {
    command: 'install',
    ...clientFields(tools),
    serverVersion: server?.versionText,
    durationSeconds: secondsSince(run.started),
    reason: choice.reason,
    warnings: choice.warnings,
    filtered: [],
  };
}
