import type { CloneJob } from '../../options.js';
import { chooseInstallClient } from '../../pg/policy.js';
import { serverFacts } from '../../pg/server.js';
import { maintenanceOf } from '../../pg/target-database.js';
import { cloneDatabase } from '../clone/clone.js';
import type { JobReport } from '../report.js';
import { clientFields, secondsSince, type CommandRun } from './context.js';

/**
 * clone: copies of a seeded database on its own server. It needs no client tool, but it provides
 * the one matching the server as install does, so that a workflow's later steps have psql for the
 * copies on PATH and the report keeps the shape of every other command's.
 */
export async function runClone(options: CloneJob, run: CommandRun): Promise<JobReport> {
  // The maintenance database: a session on the template, even a closing one, would block the clone.
  const server = await serverFacts(maintenanceOf(options.source), 'from');
  const choice = await chooseInstallClient(server.version, options.postgresVersion, run.catalog);
  const tools = await run.catalog.provideChosen(choice, run.ctx.log);
  const result = await cloneDatabase({ ...options, log: run.ctx.log, signal: run.ctx.signal });
  run.ctx.onCommitted?.(`${result.databases.length} copies of the database were created`);
  const strategy = result.strategy === 'copy' ? 'a file copy (the only strategy before 15)' : result.strategy;
  return {
    command: 'clone',
    ...clientFields(tools),
    serverVersion: result.serverVersion,
    durationSeconds: secondsSince(run.started),
    databases: result.databases,
    reason: `${choice.reason}; copies made with ${strategy}`,
    warnings: choice.warnings,
    filtered: [],
  };
}
