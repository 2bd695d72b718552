import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log.js';
import { readTocEntries, type TocEntry } from '../pg/archive-toc.js';
import { toolPath, type ClientTools } from '../pg/clients/tools.js';
import {
  connectionEnv,
  databaseName,
  secretsOf,
  withDatabase,
  type ConnectionSpec,
} from '../pg/connection.js';
import { runTool } from '../pg/run.js';
import { scratchName, SwapSession } from '../pg/scratch-database.js';
import { withClient } from '../pg/server.js';
import { PgferryError } from '../errors.js';
import { BEFORE_SWAP, runSqlAfter } from './sql-after.js';
import { refuseSwapThatLoses, SwapWouldLose } from './swap-keeps-meaning.js';
import { createDatabaseLike, databasePropertiesSql, quoteIdent } from './database-properties.js';

/**
 * Replace by swap (DESIGN.md, guarantee 1 for destructive restores): the new contents are built in a
 * scratch database beside the target, checked there, and renamed into the target's place in one
 * transaction. Until then the target is exactly as it was, whatever fails; only finished (and, for a
 * seed, sanitized) contents ever carry its name.
 */
export interface SwapRequest {
  session: SwapSession;
  /** The restore's client: its pg_dump reads the target's own properties (server major or newer). */
  client: ClientTools;
  log: Logger;
  signal?: AbortSignal;
  /** Runs on the built database before the swap; throwing keeps the target as it was. */
  check?: (built: ConnectionSpec) => Promise<void>;
  /**
   * clean: the swap must drop nothing the new contents lack (else SwapWouldLose, and the caller
   * restores in place). A seed replaces the target whole and leaves this off.
   */
  keepClean?: boolean;
  /** The SQL after the restore (sql-after, sanitize), run on the built database once it is checked. */
  sqlAfter?: { files: readonly string[]; input: string };
  /** Runs on the built database after the SQL after, right before the swap (masking's leak check). */
  lastCheck?: (built: ConnectionSpec) => Promise<void>;
}

/** What a job that replaces by swap reports: its target under the target's name, and how. */
interface ReplacedResult {
  target: { database: string };
  createdDatabase: boolean;
  swapped?: boolean;
  durationSeconds: number;
}

/**
 * A destructive job by swap: built with `build` into the scratch database and swapped in, reported
 * under the target's name; where the swap would drop what the target holds beyond the new contents
 * (SwapWouldLose), it runs `inPlace` instead.
 */
export async function replaceOrInPlace<T extends ReplacedResult>(
  o: SwapRequest & { targetExisted: boolean; started: number },
  build: (built: ConnectionSpec) => Promise<T>,
  inPlace: () => Promise<T>,
): Promise<T> {
  const target = databaseName(o.session.target);
  return replaceBySwap(o, async (built) => {
    const result = await build(built);
    return {
      ...result,
      target: { ...result.target, database: target },
      createdDatabase: !o.targetExisted,
      swapped: true,
      durationSeconds: (Date.now() - o.started) / 1000,
    };
  }).catch((error: unknown) => {
    if (error instanceof SwapWouldLose) return inPlace();
    throw error;
  });
}

/**
 * Opens the target's swap session (one swap per target at a time) and checks the privileges the
 * swap needs, before anything is created.
 */
export async function prepareSwap(
  target: ConnectionSpec,
  targetExists: boolean,
  input: string,
): Promise<SwapSession> {
  const session = await SwapSession.open(target);
  try {
    await session.checkPrivileges(targetExists, input);
    return session;
  } catch (error) {
    await session.close();
    throw error;
  }
}

/**
 * The target's own database-level entries (its CREATE DATABASE with encoding and locale, owner,
 * settings, comment, grants), as pg_dump writes them: a schema-only dump with every schema left out.
 */
async function ownEntries(
  client: ClientTools,
  target: ConnectionSpec,
  signal?: AbortSignal,
): Promise<TocEntry[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-swap-'));
  try {
    const file = path.join(dir, 'target.dump');
    await runTool({
      file: toolPath(client, 'pg_dump'),
      args: ['--format=custom', '--schema-only', '--exclude-schema=*', '--no-sync', `--file=${file}`],
      env: connectionEnv(target),
      secrets: secretsOf(target),
      stdout: 'ignore',
      signal,
    });
    return await readTocEntries(file, 'custom');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function dropBuilt(session: SwapSession, built: string, log: Logger): Promise<void> {
  try {
    await session.drop(built);
  } catch {
    // The session itself may be what failed: a fresh one (the lock went with the old) tries again.
    const fresh = await SwapSession.open(session.target).catch(() => undefined);
    const dropped = await fresh?.drop(built).then(
      () => true,
      () => false,
    );
    await fresh?.close();
    if (!dropped)
      log.warn(`could not drop ${quoteIdent(built)} now; the next run against this target removes it`);
  }
}

async function dropLeftovers(session: SwapSession, log: Logger): Promise<void> {
  const target = databaseName(session.target);
  for (const name of await session.leftovers()) {
    log.info(
      `removing ${quoteIdent(name)}, left by an earlier swap into ${quoteIdent(target)} that did not finish`,
    );
    await session.drop(name);
  }
}

/**
 * A destructive restore that does not swap (in place) removes what an interrupted swap into the same
 * target left too. A swap running right now holds the lock: its scratch is not left over, and it
 * is let be; one that cannot be dropped is reported, and the next run tries again.
 */
export async function removeLeftovers(target: ConnectionSpec, log: Logger): Promise<void> {
  const session = await SwapSession.open(target).catch(() => undefined);
  if (!session) return;
  await dropLeftovers(session, log)
    .catch((error: unknown) => {
      log.warn(`could not remove what an earlier swap left: ${(error as Error).message}`);
    })
    .finally(() => session.close());
}

/**
 * Builds the target's new contents with `build` in a fresh scratch database (created like the target:
 * same encoding, locale and tablespace, then given its owner, settings, comment and grants), runs
 * `check`, then swaps it in and drops the old database. Closes the session however it ends.
 */
export async function replaceBySwap<T>(
  o: SwapRequest,
  build: (built: ConnectionSpec) => Promise<T>,
): Promise<T> {
  const { session, log } = o;
  const target = databaseName(session.target);
  try {
    await dropLeftovers(session, log);
    const exists = await session.exists(target);
    const own = exists ? await ownEntries(o.client, session.target, o.signal) : [];
    const built = scratchName(target, 'new');
    const spec = withDatabase(session.target, built);
    await session.query(
      createDatabaseLike(own, built, session.serverMajor) ?? `CREATE DATABASE ${quoteIdent(built)}`,
    );
    try {
      if (exists) await carryOwnProperties(own, spec, log);
      const result = await build(spec);
      await o.check?.(spec);
      if (exists && o.keepClean) await refuseSwapThatLoses(session.target, spec, log);
      if (o.sqlAfter?.files.length) {
        log.info(`${o.sqlAfter.input}: runs on the new database in one transaction, before it is swapped in`);
        await runSqlAfter(o.client, spec, o.sqlAfter.files, o.signal, o.sqlAfter.input, BEFORE_SWAP);
      }
      await o.lastCheck?.(spec);
      o.signal?.throwIfAborted();
      const aside = exists ? scratchName(target, 'old') : undefined;
      log.info(
        exists
          ? `swapping the new ${quoteIdent(target)} in: its sessions are ended, the old one renamed aside and dropped`
          : `renaming the new database to ${quoteIdent(target)}`,
      );
      await session.swap(built, aside);
      if (aside !== undefined)
        await session.drop(aside).catch(() => {
          log.warn(
            `the old ${quoteIdent(target)} is kept as ${quoteIdent(aside)} for now; the next run against it removes it`,
          );
        });
      return result;
    } catch (error) {
      await dropBuilt(session, built, log);
      if (error instanceof SwapWouldLose) throw error;
      log.warn(
        `${quoteIdent(target)} is as it was: the new contents were built in ${quoteIdent(built)}, which was dropped`,
      );
      throw error;
    }
  } finally {
    await session.close();
  }
}

/** The old target's owner, settings, comment and grants, given to the new database first. */
async function carryOwnProperties(
  own: readonly TocEntry[],
  built: ConnectionSpec,
  log: Logger,
): Promise<void> {
  const sql = await databasePropertiesSql({ entries: async () => own, target: built, options: {}, log })();
  if (sql) await withClient(built, 'to', (c) => c.query(sql));
}

/**
 * The swap's check: every table the archive defines is there in the built database, found by its
 * exact schema and name (archives carry no row counts; pg_restore stopped at the first error).
 */
export async function checkTablesPresent(entries: readonly TocEntry[], built: ConnectionSpec): Promise<void> {
  const wanted = entries.filter((e) => e.desc === 'TABLE' && e.namespace !== undefined);
  if (!wanted.length) return;
  const present = await withClient(built, 'to', async (c) => {
    const { rows } = await c.query<{ nspname: string; relname: string }>(
      `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'f')`,
    );
    return new Set(rows.map((r) => `${r.nspname}\u0000${r.relname}`));
  });
  const missing = wanted.filter((e) => !present.has(`${e.namespace}\u0000${e.tag}`));
  if (missing.length)
    throw new PgferryError(
      `the restored copy lacks ${missing.length} table(s) the archive defines (${missing
        .slice(0, 5)
        .map((e) => `${quoteIdent(e.namespace ?? '')}.${quoteIdent(e.tag)}`)
        .join(', ')}); the target was not replaced`,
    );
}
