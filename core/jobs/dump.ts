import { randomBytes } from 'node:crypto';
import { createWriteStream, readdirSync, statSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { readArchiveFacts, type ArchiveFacts } from '../pg/archive.js';
import { pgDumpArgs, type DumpFormat } from '../pg/args.js';
import { toolPath, type ClientTools } from '../pg/clients/tools.js';
import { resolveCompression, type CompressionSpec } from '../pg/compression.js';
import { connectionEnv, describeConnection, secretsOf, type ConnectionSpec } from '../pg/connection.js';
import { chooseDumpClient, type ClientChoice } from '../pg/policy.js';
import { dumpProgressTotal, dumpSelection, type DumpSelection } from './dump-selection.js';
import { dumpJobs } from './parallelism.js';
import type { JobHooks } from './job-hooks.js';
import { runTool } from '../pg/run.js';
import { HashMeter } from '../storage/hash-meter.js';
import { serverFacts, type ServerFacts } from '../pg/server.js';
import type { VersionRequest } from '../pg/version.js';

export interface DumpOptions extends DumpSelection, JobHooks {
  from: ConnectionSpec;
  /** A file path, or a directory path for the directory format. */
  to: string;
  format: DumpFormat;
  compress: CompressionSpec | 'auto';
  jobs: number | 'auto';
  postgresVersion: VersionRequest;
}

export interface DumpResult {
  location: string;
  bytes: number;
  format: DumpFormat;
  compression: CompressionSpec;
  server: ServerFacts;
  client: ClientTools;
  choice: ClientChoice;
  archive: ArchiveFacts;
  /**
   * SHA-256 of a plain or tar dump, hashed as pgferry wrote what pg_dump sent it; undefined for the
   * custom format (pg_dump writes that file itself: it seeks back to fill in the data offsets) and
   * for directory archives.
   */
  sha256?: string;
  durationSeconds: number;
}

/**
 * Whether pg_dump writes to pgferry's pipe (and pgferry writes the file, hashing it on the way):
 * plain and tar are written front to back. A custom archive on a file has its data offsets filled
 * in by seeking back (restores with jobs need them), and a directory is many files.
 */
function streamsThroughPgferry(format: DumpFormat): boolean {
  return format === 'plain' || format === 'tar';
}

/** The temporary file pg_dump's stdout goes to, hashed on the way (the file exists, 0600). */
function hashedFile(temp: string): {
  meter: HashMeter;
  written: () => Promise<string>;
  abort: () => void;
} {
  const meter = new HashMeter();
  // 'r+' keeps the private file createPrivateOutput made (and its mode); it is empty.
  const file = createWriteStream(temp, { flags: 'r+' });
  // A failed write (a full disk) stops pg_dump instead of leaving it blocked on a full pipe.
  file.on('error', (error) => meter.destroy(error));
  meter.pipe(file);
  return {
    meter,
    abort: () => file.destroy(),
    written: async () => {
      await finished(file);
      return meter.digest();
    },
  };
}

/** Bytes of a file, or of the files directly inside a directory archive. */
export function sizeOnDisk(p: string): number {
  try {
    const s = statSync(p);
    if (!s.isDirectory()) return s.size;
    return readdirSync(p).reduce((sum, name) => sum + statSync(path.join(p, name)).size, 0);
  } catch {
    return 0;
  }
}

async function checkDestination(to: string, format: DumpFormat): Promise<void> {
  const existing = await stat(to).catch(() => undefined);
  if (format === 'directory') {
    if (existing && (!existing.isDirectory() || (await readdir(to)).length > 0)) {
      throw new InputError(
        'to',
        `${to} exists and is not an empty directory; the directory format needs a new or empty directory`,
      );
    }
  } else if (existing?.isDirectory()) {
    throw new InputError('to', `${to} is a directory; the ${format} format writes one file`);
  }
  await mkdir(path.dirname(path.resolve(to)), { recursive: true });
}

/**
 * The temporary output, made private before pg_dump writes the database into it: a file created
 * 0600 (pg_dump truncates it and keeps its mode), or a directory created 0700, whose files pg_dump
 * creates with the process umask and `makePrivate` sets to 0600 before the archive is renamed into
 * place. Until then the 0700 directory keeps them out of reach.
 */
async function createPrivateOutput(temp: string, format: DumpFormat): Promise<void> {
  if (format === 'directory') {
    await mkdir(temp, { mode: 0o700 });
    await chmod(temp, 0o700); // mkdir's mode is filtered by the umask too
  } else {
    await writeFile(temp, '', { mode: 0o600, flag: 'wx' });
    await chmod(temp, 0o600);
  }
}

async function makePrivate(temp: string, format: DumpFormat): Promise<void> {
  if (format !== 'directory') return chmod(temp, 0o600);
  for (const name of await readdir(temp)) await chmod(path.join(temp, name), 0o600);
}

/**
 * pg_dump of the source's major into a temporary name beside the destination, renamed into place
 * only after pg_dump exited 0: a failed dump leaves nothing that looks like a dump. Dump files are
 * 0600 (directory archives 0700 with 0600 files) whatever the umask: they hold the whole database.
 */
export async function dumpToPath(o: DumpOptions): Promise<DumpResult> {
  const started = Date.now();
  await checkDestination(o.to, o.format);
  // Before anything is provisioned: a count the format cannot honour is refused.
  const jobs = dumpJobs(o.format, o.jobs);
  const server = await serverFacts(o.from, 'from');
  const choice = await chooseDumpClient(server.version, o.postgresVersion, o.catalog);
  const client = await o.catalog.provideChosen(choice, o.log);
  o.log.info(
    `pg_dump ${client.version.major}.${client.version.minor ?? '?'} for ${describeConnection(o.from)} (${choice.reason})`,
  );

  const compression = resolveCompression(o.compress, client.version.major, o.format);
  const temp = path.join(
    path.dirname(path.resolve(o.to)),
    `.${path.basename(o.to)}.pgferry-${randomBytes(4).toString('hex')}`,
  );
  const args = pgDumpArgs({
    ...dumpSelection(o),
    clientMajor: client.version.major,
    format: o.format,
    compression,
    jobs,
    file: streamsThroughPgferry(o.format) ? undefined : temp,
  });
  let sha256: string | undefined;
  let output: ReturnType<typeof hashedFile> | undefined;
  try {
    await createPrivateOutput(temp, o.format);
    output = streamsThroughPgferry(o.format) ? hashedFile(temp) : undefined;
    await runTool({
      file: toolPath(client, 'pg_dump'),
      args,
      env: connectionEnv(o.from),
      stdout: output?.meter ?? 'ignore',
      signal: o.signal,
      onProgress: o.onProgress,
      progressIntervalMs: o.progressIntervalMs,
      meter: {
        counts: 'written',
        measure: () => sizeOnDisk(temp),
        total: await dumpProgressTotal(o.from, o, compression, o.onProgress),
      },
      secrets: secretsOf(o.from),
    });
    sha256 = await output?.written();
    await makePrivate(temp, o.format);
    if (o.format === 'directory') await rm(o.to, { recursive: true, force: true });
    await rename(temp, o.to);
  } catch (error) {
    output?.abort();
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  const archive = await readArchiveFacts(o.to);
  return {
    location: o.to,
    bytes: sizeOnDisk(o.to),
    format: o.format,
    compression,
    server,
    client,
    choice,
    archive,
    sha256,
    durationSeconds: (Date.now() - started) / 1000,
  };
}
