import { chmod, writeFile } from 'node:fs/promises';
import { PgferryError } from '../../errors.js';
import type { DumpJob } from '../../options.js';
import { manifestKey } from '../../storage/backup-layout.js';
import { formatLocation } from '../../storage/location.js';
import { S3Bucket } from '../../storage/s3-bucket.js';
import { dumpToS3, manifestOf } from '../dump-to-s3.js';
import { dumpToPath } from '../dump.js';
import { dumpGlobals, globalsPath } from '../globals.js';
import { countArchiveTables, sha256File, type JobReport } from '../report.js';
import { clientFields, secondsSince, type CommandRun } from './context.js';

/** dump: to a file or directory (with its roles beside it when asked), or one object on S3. */
export async function runDump(options: DumpJob, run: CommandRun): Promise<JobReport> {
  const destination = options.destination;
  if (destination.kind === 's3') return runDumpToS3(options, destination, run);
  const result = await dumpToPath({ ...options, ...run.hooks, from: options.source, to: destination.path });
  run.ctx.onCommitted?.(`the dump was written to ${destination.path}`);
  if (options.globals) {
    const globals = globalsPath(destination.path);
    // An existing file keeps its mode through writeFile: chmod first, so the roles are never readable.
    await chmod(globals, 0o600).catch(() => {});
    await writeFile(globals, await dumpGlobals(result.client, options.source, run.ctx.signal), {
      mode: 0o600,
    });
  }
  // A plain or tar dump was hashed as it was written. A custom archive is read once more, right
  // after pg_dump wrote it (from the page cache); its table count comes from its own TOC.
  const [sha256, tables] = await Promise.all([
    result.sha256 ?? sha256File(destination.path),
    result.format === 'plain' ? undefined : countArchiveTables(destination.path, result.format),
  ]);
  return {
    command: 'dump',
    ...clientFields(result.client),
    serverVersion: result.server.versionText,
    location: formatLocation(destination),
    bytes: result.bytes,
    sha256,
    format: result.format,
    archiveVersion: result.archive.archiveVersion,
    durationSeconds: secondsSince(run.started),
    tocEntries: result.archive.tocEntries,
    tables,
    reason: result.choice.reason,
    warnings: result.choice.warnings,
    filtered: [],
  };
}

/**
 * Every object pgferry writes has a manifest a restore can check. A dump goes where the caller said,
 * replacing what was there (as a dump to a file does), so its manifest replaces the old one. (The
 * parser has made sure the key is an object's and the format custom.)
 */
async function runDumpToS3(
  options: DumpJob,
  destination: { bucket: string; key: string },
  run: CommandRun,
): Promise<JobReport> {
  const bucket = await S3Bucket.open(options.s3, destination.bucket);
  const result = await dumpToS3({
    ...options,
    ...run.hooks,
    from: options.source,
    bucket,
    key: destination.key,
    input: 'to',
  });
  const location = bucket.uri(destination.key);
  run.ctx.onCommitted?.(`the dump was stored at ${location}`);
  if (result.proof.problem) {
    throw new PgferryError(
      `the dump was stored at ${location}, but the store's answer does not prove it holds the streamed bytes (${result.proof.problem}); no manifest was written, so a restore refuses the object`,
      { code: 'integrity' },
    );
  }
  const manifest = manifestKey(destination.key);
  await bucket
    .putJson(manifest, manifestOf(result, bucket, destination.key), 'to')
    .catch((error: unknown) => {
      throw new PgferryError(
        `the dump was stored at ${location}, but its manifest was not (${(error as Error).message}); a restore refuses the object until a dump writes both`,
        { cause: error },
      );
    });
  return {
    command: 'dump',
    ...clientFields(result.client),
    serverVersion: result.server.versionText,
    location,
    manifest: bucket.uri(manifest),
    bytes: result.bytes,
    sha256: result.sha256,
    format: 'custom',
    archiveVersion: result.archive.archiveVersion,
    durationSeconds: secondsSince(run.started),
    tocEntries: result.archive.tocEntries,
    reason: result.choice.reason,
    warnings: result.choice.warnings,
    filtered: [],
  };
}
