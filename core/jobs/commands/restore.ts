import { describeConnection } from '../../pg/connection.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { InputError } from '../../errors.js';
import type { RestoreJob } from '../../options.js';
import { S3Bucket } from '../../storage/s3-bucket.js';
import { applyGlobals, globalsPath } from '../globals.js';
import { countDatabaseTables, type JobReport } from '../report.js';
import { restoreFromS3 } from '../restore-s3.js';
import { restoreFromPath } from '../restore.js';
import { checkSqlAfterFiles, runSqlAfter } from '../sql-after.js';
import { clientFields, secondsSince, type CommandRun } from './context.js';
import { maskingLines, maskingRulesForJob } from '../../masking/for-job.js';

/**
 * restore: from a file (with the roles of a globals file beside it applied after) or from S3. The
 * SQL after commits with the restore, unless roles from a globals file must come in between.
 */
export async function runRestore(options: RestoreJob, run: CommandRun): Promise<JobReport> {
  const archive = options.archive;
  await checkSqlAfterFiles(options.sqlAfter);
  const maskingRules = await maskingRulesForJob(options.maskingRulesFile);
  if (archive.kind === 'file' && !existsSync(archive.path))
    throw new InputError('from', `${archive.path} does not exist`);
  const globals = archive.kind === 'file' ? globalsPath(archive.path) : undefined;
  const withGlobals = globals !== undefined && existsSync(globals);
  const sqlInTransaction = withGlobals ? undefined : { files: options.sqlAfter, input: 'sql-after' };
  const common = { ...options, ...run.hooks, sqlInTransaction, maskingRules, to: options.target };
  const result =
    archive.kind === 's3'
      ? await restoreFromS3({
          ...common,
          bucket: await S3Bucket.open(options.s3, archive.bucket),
          key: archive.key,
        })
      : { ...(await restoreFromPath({ ...common, from: archive.path })), location: archive.path };
  run.ctx.onCommitted?.(
    `the restore of ${result.location} into ${describeConnection(options.target)} was committed`,
  );
  if (globals && withGlobals) {
    run.ctx.log.info(`applying roles and tablespaces from ${globals}`);
    const sql = await readFile(globals, 'utf8');
    await applyGlobals(result.client, options.target, result.target.version, sql, run.ctx.signal);
    await runSqlAfter(result.client, options.target, options.sqlAfter, run.ctx.signal);
  }
  return {
    command: 'restore',
    ...clientFields(result.client),
    serverVersion: result.target.versionText,
    location: result.location,
    format: result.archive.format,
    archiveVersion: result.archive.archiveVersion,
    durationSeconds: secondsSince(run.started),
    tocEntries: result.archive.tocEntries,
    tables: await countDatabaseTables(options.target),
    swapped: options.clean ? (result.swapped ?? false) : undefined,
    reason: result.choice.reason,
    warnings: result.choice.warnings,
    filtered: result.filtered,
    ...(maskingRules ? { masking: maskingLines(result) } : {}),
  };
}
