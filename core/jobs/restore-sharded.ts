import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InputError, PgferryError } from '../errors.js';
import { checkMasked, type MaskingChecks } from '../masking/after-checks.js';
import { tableColumnsOf } from '../masking/archive-check.js';
import { MaskingStream } from '../masking/copy-stream.js';
import { LeakWatch } from '../masking/leak-check.js';
import { checkRulesAgainst, type MaskingRules } from '../masking/rules.js';
import { readArchiveFacts, type ArchiveFacts } from '../pg/archive.js';
import { readTocEntries, type TocEntry } from '../pg/archive-toc.js';
import type { ClientTools } from '../pg/clients/tools.js';
import { databaseName, describeConnection, type ConnectionSpec } from '../pg/connection.js';
import type { RestoreChoice } from '../pg/policy.js';
import { serverFacts, type ServerFacts } from '../pg/server.js';
import {
  ensureDatabase,
  guardTargetBeforeCreating,
  maintenanceOf,
  undoCreatedOnFailure,
} from '../pg/target-database.js';
import { formatVersion } from '../pg/version.js';
import type { Manifest, PartManifest } from '../storage/manifest.js';
import { applyArchive, applyOptionsOf } from './apply-archive.js';
import { readArchiveFront } from './archive-front.js';
import { databasePropertiesSql, propertyOptionsOf } from './database-properties.js';
import { defaultJobs } from './parallelism.js';
import { checkTablesPresent, prepareSwap, replaceOrInPlace } from './replace-by-swap.js';
import { prepareRestore, restoreClientFor, withDataOffsets, type RestoreResult } from './restore.js';
import { openStreamed, type RestoreFromS3Options } from './restore-s3.js';
import { swapKeepsMeaning } from './swap-keeps-meaning.js';

const INPUT = 'from';

export interface ShardedBackup {
  key: string;
  manifest: Manifest;
  parts: PartManifest[];
}

/** The restore's own view of what it applies: the main part's file, its archive facts and TOC. */
interface MainPart {
  file: string;
  archive: ArchiveFacts;
  entries: TocEntry[];
}

/**
 * A sharded backup restored from S3. The main part is small (schema, post-data, sequences, large
 * objects, the tables no data part has): it is downloaded to a 0600 temp file, its SHA-256 checked
 * first, so pg_restore can seek in it for `-j`. Then: its pre-data; the data parts streamed straight
 * from S3 each into its own pg_restore, in parallel (up to `jobs`) with the main part's own data, each
 * hashed as it streams and read to its end and compared with the manifest; then post-data with `jobs`
 * and the database's own properties. Several sessions cannot share one transaction, so the restore
 * is all-or-nothing by its target: a database it creates (dropped on any failure, a tampered part
 * included), or with `clean` one built beside the target and swapped in. An existing target without
 * `clean` is refused before anything is read. With masking rules, each part's data goes through a
 * masking stream of its own (the rules checked first against every part's TOC), and the leak check
 * and coverage report run on the finished database (under a swap, before it is swapped in).
 */
export async function restoreSharded(
  o: RestoreFromS3Options,
  found: ShardedBackup,
): Promise<RestoreResult & { location: string }> {
  const started = Date.now();
  const location = o.bucket.uri(found.key);
  refuseUnsupported(o);
  const exists = await guardTargetBeforeCreating(o.to, { clean: o.clean ?? false, confirm: o.confirm });
  if (exists && !o.clean)
    throw new InputError(
      'to',
      `${describeConnection(o.to)} exists; a sharded backup restores in parallel sessions, so it is all-or-nothing only into a database it creates or with clean (built beside the target and swapped in): name a new database or set clean`,
    );
  if (o.clean && o.swap === false)
    throw new InputError(
      'swap',
      'a sharded backup is restored into a new database and swapped in; swap: false cannot be honoured',
    );
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-restore-'));
  try {
    const main = await downloadMain(o, found, dir);
    if (o.maskingRules) await checkRulesAgainstParts(o, o.maskingRules, found, main);
    // clean: built beside the target and swapped in, also when there is none yet, so that the SQL
    // after it (a seed's sanitize) runs before the rows ever carry the target's name.
    if (o.clean) return await restoreBySwap(o, found, main, exists, started, location);
    const prepared = await prepareRestore(main.archive, o);
    return await undoCreatedOnFailure(prepared.createdDatabase, o.to, async () => {
      const masking = maskingOf(o);
      const result = await applyParts(o, found, main, o.to, prepared, location, masking);
      const checks = masking ? await checkMasked(masking.leaks, masking.rules, o.to, o.log) : {};
      return {
        ...result,
        ...checks,
        createdDatabase: prepared.createdDatabase,
        durationSeconds: (Date.now() - started) / 1000,
        location,
      };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What a streamed sharded restore cannot do (yet): said before anything is read or created. */
function refuseUnsupported(o: RestoreFromS3Options): void {
  if (o.sqlInTransaction?.files.length && !o.clean)
    throw new InputError(
      o.sqlInTransaction.input,
      'runs in the restore’s own transaction, which a sharded restore (parallel sessions) has only when it builds beside the target: set clean, or run the SQL afterwards',
    );
  for (const [name, set] of [
    ['schemas', o.schemas?.length],
    ['exclude-schemas', o.excludeSchemas?.length],
    ['tables', o.tables?.length],
    ['schema-only', o.schemaOnly],
    ['data-only', o.dataOnly],
  ] as const) {
    if (set)
      throw new InputError(
        name,
        'a sharded backup is restored whole; select objects from a one-object backup (jobs 1)',
      );
  }
}

async function downloadMain(o: RestoreFromS3Options, found: ShardedBackup, dir: string): Promise<MainPart> {
  const part = found.parts[0] as PartManifest;
  const file = path.join(dir, 'main.dump');
  o.log.info(
    `downloading the main part ${o.bucket.uri(part.key)} (${part.bytes} bytes, SHA-256 checked before the restore starts)`,
  );
  await o.bucket.download(part.key, INPUT, file, part, o.signal);
  const archive = await withDataOffsets(await readArchiveFacts(file), file);
  return { file, archive, entries: await readTocEntries(file, 'custom') };
}

interface Prepared {
  target: ServerFacts;
  choice: RestoreChoice;
  client: ClientTools;
}

/** clean on an existing target: every part applied to the swap's scratch database, then swapped in. */
async function restoreBySwap(
  o: RestoreFromS3Options,
  found: ShardedBackup,
  main: MainPart,
  exists: boolean,
  started: number,
  location: string,
): Promise<RestoreResult & { location: string }> {
  const server = await serverFacts(maintenanceOf(o.to), 'to');
  if (!exists && o.createDatabase === false) await ensureDatabase(o.to, false);
  if (!(await swapKeepsMeaning(o, exists, main.entries)))
    throw new InputError(
      'to',
      `${describeConnection(o.to)} holds objects the backup does not carry, which a swap would drop; a sharded backup cannot be restored in place (use swap: always to replace the target whole, or a new database)`,
    );
  const session = await prepareSwap(o.to, exists, 'swap');
  const { choice, client } = await restoreClientFor(main.archive, server, o).catch(async (error: unknown) => {
    await session.close();
    throw error;
  });
  o.log.info(
    `clean: building the new ${databaseName(o.to)} beside the target and swapping it in once it is complete`,
  );
  const masking = maskingOf(o);
  let checks: MaskingChecks | undefined;
  // After the SQL after, on the built database, before it carries the target's name.
  const lastCheck = async (built: ConnectionSpec) => {
    if (masking) checks = await checkMasked(masking.leaks, masking.rules, built, o.log);
  };
  const build = async (built: ConnectionSpec) => {
    const target = await serverFacts(built, 'to');
    const result = await applyParts(o, found, main, built, { target, choice, client }, location, masking);
    return { ...result, createdDatabase: true, durationSeconds: (Date.now() - started) / 1000, location };
  };
  const result = await replaceOrInPlace(
    {
      lastCheck,
      session,
      client,
      log: o.log,
      signal: o.signal,
      check: (built: ConnectionSpec) => checkTablesPresent(main.entries, built),
      keepClean: o.swap !== 'always',
      sqlAfter: o.sqlInTransaction,
      targetExisted: exists,
      started,
    },
    build,
    () => {
      throw new InputError(
        'to',
        'a sharded backup cannot be restored in place; use swap: always or a new database',
      );
    },
  );
  return result.swapped && checks ? { ...result, ...checks } : result;
}

interface PartsMasking {
  rules: MaskingRules;
  leaks: LeakWatch;
  /** Counts rows into one map: each part's stream is `another()` of it. */
  stream: MaskingStream;
}

function maskingOf(o: RestoreFromS3Options): PartsMasking | undefined {
  if (!o.maskingRules) return undefined;
  const leaks = new LeakWatch();
  return { rules: o.maskingRules, leaks, stream: new MaskingStream(o.maskingRules, leaks.tap) };
}

/**
 * Before anything is created: every rule names a table and columns whose data some part holds,
 * read from the main part's TOC and the front of each data part (its header and TOC, by ranges;
 * each part's SHA-256 is still checked as it streams).
 */
async function checkRulesAgainstParts(
  o: RestoreFromS3Options,
  rules: MaskingRules,
  found: ShardedBackup,
  main: MainPart,
): Promise<void> {
  const columns = tableColumnsOf(main.entries);
  for (const part of found.parts.slice(1)) {
    const object = { key: part.key, bytes: part.bytes, input: INPUT };
    const { etag } = await o.bucket.attestation(part.key, INPUT);
    const front = etag === undefined ? undefined : await readArchiveFront(o.bucket, object, etag);
    if (!front)
      throw new PgferryError(
        `${INPUT}: the table of contents of ${o.bucket.uri(part.key)} could not be read to check the masking rules against it`,
        { code: 'integrity' },
      );
    tableColumnsOf(front.entries, columns);
  }
  checkRulesAgainst(rules, columns, `the backup ${o.bucket.uri(found.key)}`);
}

/** Runs `tasks` with at most `n` at once; the first failure stops starting more and is thrown. */
async function pool(n: number, tasks: readonly (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < tasks.length) {
      const task = tasks[next++] as () => Promise<void>;
      await task().catch((error: unknown) => {
        failed ??= error;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, tasks.length)) }, worker));
  if (failed !== undefined) throw failed instanceof Error ? failed : new Error(String(failed));
}

/** Pre-data, every part's data (data parts streamed, hashed), post-data, the database's properties. */
async function applyParts(
  o: RestoreFromS3Options,
  found: ShardedBackup,
  main: MainPart,
  to: ConnectionSpec,
  { target, choice, client }: Prepared,
  location: string,
  masking?: PartsMasking,
): Promise<Omit<RestoreResult, 'createdDatabase' | 'durationSeconds'>> {
  const jobs = o.jobs === 'auto' ? defaultJobs() : o.jobs;
  const path = choice.path;
  const options = { ...applyOptionsOf(o), clean: false };
  const filtered = new Set<string>();
  const common = { client, path, target: to, targetVersion: target.version, signal: o.signal };
  // Masked rows go through a script per part (pg_restore -f -, the stream, psql), each in a
  // transaction of its own: the target is new (or a swap's scratch), dropped whole on a failure.
  const data = masking
    ? () => ({ ...common, path: 'script' as const, masking: masking.stream.another() })
    : () => common;
  const section = (name: string, extra: readonly string[] = []) => ({
    ...options,
    extraArgs: [...(options.extraArgs ?? []), `--section=${name}`, ...extra],
  });
  o.log.info(
    `restoring ${location} (${found.parts.length} parts) into ${describeConnection(to)} with ${formatVersion(client.version)} (${choice.reason}), up to ${jobs} part(s) at once`,
  );
  if (masking)
    o.log.info(
      'masking-rules: the rows are masked on their way through one script per part, each table in one of them',
    );
  const note = (list: string[]) => list.forEach((f) => filtered.add(f));
  note(
    await applyArchive({
      ...common,
      archive: main.archive,
      input: { file: main.file },
      jobs: 1,
      options: section('pre-data'),
    }),
  );
  const dataTasks: (() => Promise<void>)[] = [
    async () =>
      note(
        await applyArchive({
          ...data(),
          archive: main.archive,
          input: { file: main.file },
          jobs: 1,
          options: section('data'),
        }),
      ),
    ...found.parts.slice(1).map((part) => async () => {
      const partUri = o.bucket.uri(part.key);
      const streamed = await openStreamed(o, { key: part.key, manifest: part }, partUri);
      try {
        note(
          await applyArchive({
            ...data(),
            archive: streamed.archive,
            input: { stream: streamed.stream },
            inputRead: streamed.bytesRead,
            inputBytes: part.bytes,
            jobs: 1,
            options,
            label: `the restore script of ${partUri}`,
          }),
        );
        // However little pg_restore needed, the whole part is read and compared with the manifest.
        streamed.stream.resume();
        await streamed.wholeObjectMatches();
      } finally {
        streamed.body.destroy();
      }
    }),
  ];
  await pool(jobs, dataTasks);
  const postJobs = path === 'pg_restore' && main.archive.dataOffsets === 'set' ? jobs : 1;
  note(
    await applyArchive({
      ...common,
      archive: main.archive,
      input: { file: main.file },
      jobs: postJobs,
      options: section('post-data'),
      epilogue: databasePropertiesSql({
        entries: async () => main.entries,
        target: to,
        options: propertyOptionsOf(o),
        log: o.log,
      }),
    }),
  );
  if (filtered.size)
    o.log.warn(`filtered for PostgreSQL ${target.version.major}: ${[...filtered].join(', ')}`);
  return {
    target,
    client,
    choice,
    archive: main.archive,
    path,
    jobs,
    filtered: [...filtered],
    ...(masking ? { masked: masking.stream.rows } : {}),
  };
}
