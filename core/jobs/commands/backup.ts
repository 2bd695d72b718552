import { InputError, PgferryError } from '../../errors.js';
import type { BackupJob } from '../../options.js';
import { describeConnection } from '../../pg/connection.js';
import { S3Bucket } from '../../storage/s3-bucket.js';
import { backupDatabase, type BackupResult } from '../backup.js';
import type { JobReport } from '../report.js';
import { clientFields, secondsSince, type CommandRun } from './context.js';

/** backup: each database of `from` in turn; all are attempted, and the run fails if any failed. */
export async function runBackup(options: BackupJob, run: CommandRun): Promise<JobReport> {
  const bucket = S3Bucket.of(options.s3, options.destination.bucket);
  const done: BackupResult[] = [];
  const failures: string[] = [];
  for (const from of options.sources) {
    try {
      done.push(
        await backupDatabase({
          ...options,
          ...run.hooks,
          from,
          bucket,
          prefix: options.destination.key,
        }),
      );
    } catch (error) {
      if (options.sources.length === 1) throw error;
      failures.push((error as Error).message);
      run.ctx.log.warn(`backup of ${describeConnection(from)} failed: ${(error as Error).message}`);
    }
  }
  if (failures.length)
    throw new PgferryError(
      `${failures.length} of ${options.sources.length} backups failed:\n${failures.join('\n')}`,
    );
  return backupReport(done, run.started);
}

function backupReport(done: readonly BackupResult[], started: number): JobReport {
  const first = done[0];
  if (!first) throw new InputError('from', 'names no database to back up');
  return {
    command: 'backup',
    ...clientFields(first.client),
    serverVersion: first.manifest.serverVersion,
    location: done.map((d) => `s3://${d.manifest.bucket}/${d.manifest.key}`).join('\n'),
    bytes: done.reduce((sum, d) => sum + d.manifest.bytes, 0),
    sha256: done.map((d) => d.manifest.sha256).join('\n'),
    format: 'custom',
    archiveVersion: first.manifest.archiveVersion,
    durationSeconds: secondsSince(started),
    tocEntries: first.manifest.tocEntries,
    manifest: done.map((d) => d.manifestUri).join('\n'),
    reason: [...new Set(done.map((d) => d.reason))].join('; '),
    warnings: [],
    filtered: [],
  };
}
