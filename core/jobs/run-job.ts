import type { JobOptions } from '../options.js';
import { runBackup } from './commands/backup.js';
import { runClone } from './commands/clone.js';
import { startRun, type FrontEndContext } from './commands/context.js';
import { runCopy } from './commands/copy.js';
import { runDump } from './commands/dump.js';
import { runInstall } from './commands/install.js';
import { runRestore } from './commands/restore.js';
import type { JobReport } from './report.js';

export type { FrontEndContext } from './commands/context.js';

/** Runs one command of the contract; each command builds its own report (core/jobs/commands/). */
export async function runJob(options: JobOptions, ctx: FrontEndContext): Promise<JobReport> {
  const run = startRun(options, ctx);
  switch (options.command) {
    case 'install':
      return runInstall(options, run);
    case 'dump':
      return runDump(options, run);
    case 'restore':
      return runRestore(options, run);
    case 'copy':
      return runCopy(options, run);
    case 'backup':
      return runBackup(options, run);
    case 'clone':
      return runClone(options, run);
  }
}
