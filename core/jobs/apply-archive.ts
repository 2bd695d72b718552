import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ArchiveFacts } from '../pg/archive.js';
import { pgRestoreArgs, psqlArgs, type ObjectFilters } from '../pg/args.js';
import { toolPath, type ClientTools } from '../pg/client-tools.js';
import { connectionEnv, databaseName, secretsOf, type ConnectionSpec } from '../pg/connection.js';
import type { RestorePath } from '../pg/policy.js';
import { runTool, settlePipeline, type Progress } from '../pg/run.js';
import { needsFilter, psqlKnowsRestrict, ScriptFilter } from '../pg/script-filter.js';
import type { PgVersion } from '../pg/version.js';

/** pg_restore options a restore or copy passes through. */
export interface ApplyOptions extends ObjectFilters {
  clean?: boolean;
  schemaOnly?: boolean;
  dataOnly?: boolean;
  noOwner?: boolean;
  noPrivileges?: boolean;
  extraArgs?: string[];
}

/** Only the fields pg_restore should see, from a larger options object. */
export function applyOptionsOf(o: ApplyOptions): ApplyOptions {
  const { clean, schemaOnly, dataOnly, noOwner, noPrivileges, extraArgs, schemas, excludeSchemas, tables } =
    o;
  return { clean, schemaOnly, dataOnly, noOwner, noPrivileges, extraArgs, schemas, excludeSchemas, tables };
}

export interface ApplyRequest {
  client: ClientTools;
  path: RestorePath;
  archive: ArchiveFacts;
  /** A file or directory archive (seekable: parallel possible), or a stream of a custom or plain dump. */
  input: { file: string } | { stream: Readable };
  target: ConnectionSpec;
  targetVersion: PgVersion;
  jobs: number;
  options: ApplyOptions;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
  /** SQL run first in the same transaction (the clean step); script and psql paths only. */
  prelude?: string;
}

async function* prefixed(prelude: string, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield Buffer.from(prelude);
  yield* rest;
}

/**
 * Puts an archive into the target along the path the policy chose. Every path stops at the first
 * error; single-job paths run in one transaction, so a failure leaves the target as it was.
 * Returns what the script filter dropped (empty on the direct path).
 */
export async function applyArchive(r: ApplyRequest): Promise<string[]> {
  const env = connectionEnv(r.target);
  const common = {
    env,
    secrets: secretsOf(r.target),
    onProgress: r.onProgress,
    progressIntervalMs: r.progressIntervalMs,
  };
  const { clean, ...rest } = r.options;
  const restoreOptions = {
    ...rest,
    clean,
    ifExists: clean,
    exitOnError: true,
    clientMajor: r.client.version.major,
  };
  const file = 'file' in r.input ? r.input.file : undefined;
  const stream = 'stream' in r.input ? r.input.stream : undefined;

  if (r.path === 'pg_restore') {
    if (r.prelude) throw new Error('a prelude needs the script path');
    await runTool({
      ...common,
      signal: r.signal,
      file: toolPath(r.client, 'pg_restore'),
      args: pgRestoreArgs({
        ...restoreOptions,
        dbname: databaseName(r.target),
        file,
        jobs: r.jobs,
        singleTransaction: r.jobs === 1,
      }),
      stdin: stream,
      stdout: 'ignore',
    });
    return [];
  }

  const rules = {
    targetServer: r.targetVersion,
    psqlKnowsRestrict: psqlKnowsRestrict(r.client.version),
    singleTransaction: true,
  };
  const filter = new ScriptFilter(rules);
  const controller = new AbortController();
  const signal = r.signal ? AbortSignal.any([r.signal, controller.signal]) : controller.signal;
  let script: Readable;
  const producers: Promise<unknown>[] = [];
  if (r.path === 'psql') {
    const raw = stream ?? createReadStream(file ?? '');
    script = r.archive.compression === 'gzip' ? raw.pipe(createGunzip()) : raw;
    if (needsFilter(rules, r.archive.dumpVersion)) script = script.pipe(filter);
  } else {
    script = filter;
    producers.push(
      runTool({
        ...common,
        signal,
        file: toolPath(r.client, 'pg_restore'),
        args: pgRestoreArgs({ ...restoreOptions, file, jobs: 1, toStdout: true }),
        stdin: stream,
        stdout: filter,
      }),
    );
  }
  const consumer = runTool({
    ...common,
    signal,
    file: toolPath(r.client, 'psql'),
    args: psqlArgs({ file: '-', onErrorStop: true, singleTransaction: true, quiet: true }),
    stdin: r.prelude ? Readable.from(prefixed(r.prelude, script)) : script,
    stdout: 'ignore',
  });
  // Whichever side fails first stops the other; the cause is what gets reported.
  await settlePipeline(controller, [...producers, consumer]);
  return filter.summary();
}
