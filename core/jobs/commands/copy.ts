import type { CopyJob } from '../../options.js';
import { describeConnection } from '../../pg/connection.js';
import { copyDatabase } from '../copy.js';
import { countDatabaseTables, type JobReport } from '../report.js';
import { checkSqlAfterFiles } from '../sql-after.js';
import { maskingLines, maskingRulesForJob } from '../../masking/for-job.js';
import { clientFields, secondsSince, type CommandRun } from './context.js';

/** copy: one database into another, on the same server or across majors. */
export async function runCopy(options: CopyJob, run: CommandRun): Promise<JobReport> {
  await checkSqlAfterFiles(options.sqlAfter);
  const maskingRules = await maskingRulesForJob(options.maskingRulesFile);
  const result = await copyDatabase({
    ...options,
    ...run.hooks,
    maskingRules,
    from: options.source,
    to: options.target,
  });
  run.ctx.onCommitted?.(`the copy into ${describeConnection(options.target)} was committed`);
  return {
    command: 'copy',
    ...clientFields(result.restore.client),
    serverVersion: result.target.versionText,
    format: 'custom',
    durationSeconds: secondsSince(run.started),
    tables: await countDatabaseTables(options.target),
    swapped: options.clean ? (result.swapped ?? false) : undefined,
    reason: `dump: ${result.dump.choice.reason}; restore: ${result.restore.choice.reason}`,
    warnings: [...result.dump.choice.warnings, ...result.restore.choice.warnings],
    filtered: result.filtered,
    ...(maskingRules ? { masking: maskingLines(result) } : {}),
  };
}
