import type pg from 'pg';
import { InputError, PgferryError, ToolError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ArchiveFacts } from '../pg/archive.js';
import { readTocEntries } from '../pg/archive-toc.js';
import {
  compareSnapshots,
  snapshotKey,
  takeSnapshot,
  type CatalogObject,
  type CatalogSnapshot,
} from '../pg/catalog-snapshot.js';
import type { ConnectionSpec } from '../pg/connection.js';
import type { RestorePath } from '../pg/policy.js';
import { withClient } from '../pg/server.js';
import type { PgVersion } from '../pg/version.js';
import { applyOptionsOf, type ApplyOptions } from './apply-archive.js';

/**
 * A parallel restore runs in several transactions of pg_restore's, so a failure half-way leaves
 * what it made so far. Into a database that existed before, pgferry records the database's catalog
 * first and, should the restore fail, drops exactly what is new — in one transaction that commits
 * only if every object that was there before is still there.
 */
export interface UndoPlan {
  target: ConnectionSpec;
  targetVersion: PgVersion;
  path: RestorePath;
  jobs: number;
  createdDatabase: boolean;
  archive: ArchiveFacts;
  /** The archive file or directory, for its table of contents. */
  file: string;
  options: ApplyOptions;
  log: Logger;
}

/** The parts of a plan that come from the restore's options, the archive and the target. */
export function undoPlanOf(
  o: ApplyOptions & { from: string; to: ConnectionSpec; log: Logger },
  archive: ArchiveFacts,
  target: { version: PgVersion },
): Omit<UndoPlan, 'path' | 'jobs' | 'createdDatabase'> {
  const options = applyOptionsOf(o);
  return { target: o.to, targetVersion: target.version, archive, file: o.from, options, log: o.log };
}

/**
 * To be called right before the restore: records the catalog when the restore is a parallel one
 * into a database that existed before, and returns what the restore's failure is handed to —
 * undo, then the failure rethrown with what the undo did. Otherwise the failure is only rethrown:
 * one job runs in one transaction, and a database pgferry made is dropped whole.
 */
export async function undoOnFailure(plan: UndoPlan): Promise<(error: unknown) => Promise<never>> {
  // transaction-size commits in batches even with one job: undone like a parallel restore.
  const commitsInParts = plan.jobs > 1 || plan.options.transactionSize !== undefined;
  if (plan.path !== 'pg_restore' || !commitsInParts || plan.createdDatabase)
    return (error) => Promise.reject(error instanceof Error ? error : new Error(String(error)));
  await refuseRowsIntoExistingTables(plan);
  const before = await withClient(plan.target, 'to', (c) => readCatalog(c, plan.targetVersion));
  plan.log.info(
    `${plan.jobs} jobs into a database that existed before: its catalog was recorded (${before.size} objects); should the restore fail, every object it made is dropped again`,
  );
  return async (error) => {
    const note = await undo(plan, before).catch(
      (undoError: unknown) =>
        `undoing it failed (${(undoError as Error).message}); what the restore had made is still there`,
    );
    throw withNote(error, note);
  };
}

async function readCatalog(c: pg.Client, version: PgVersion): Promise<CatalogSnapshot> {
  // Every name in the drop statements is qualified already; pg_catalog first all the same.
  await c.query('SET search_path = pg_catalog, pg_temp');
  return takeSnapshot(c, version.major);
}

/**
 * Rows written into tables that were there before cannot be taken back by dropping anything, and
 * several jobs commit them separately: such a restore must run as one job, in one transaction.
 */
async function refuseRowsIntoExistingTables(plan: UndoPlan): Promise<void> {
  const why = dataOnlyReason(plan.options) ?? (await dataWithoutTables(plan));
  if (why === undefined) return;
  throw new InputError(
    'jobs',
    `${plan.jobs} jobs cannot restore rows into tables that existed before (${why}): each job commits on its own, and a failure would leave the rows loaded so far, which no undo can tell from the table's own; give jobs: 1 (or auto), which restores in one transaction`,
  );
}

/** pg_restore short options that take a value: in `-Fd`, `d` is the value, not an option. */
const SHORT_WITH_VALUE = new Set('dfFhIjLnNpPStTU');

function dataOnlyReason(o: ApplyOptions): string | undefined {
  if (o.dataOnly) return 'data-only';
  const args = o.extraArgs ?? [];
  const sections: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] ?? '';
    if (word === '--data-only') return 'extra-args --data-only';
    if (word.startsWith('--section=')) sections.push(word.slice('--section='.length));
    else if (word === '--section') sections.push(args[++i] ?? '');
    else if (/^-[^-]/.test(word)) {
      for (const letter of word.slice(1)) {
        if (letter === 'a') return `extra-args ${word}`;
        if (SHORT_WITH_VALUE.has(letter)) break;
      }
    }
  }
  if (sections.includes('data') && !sections.includes('pre-data')) return 'extra-args --section=data';
  return undefined;
}

/** A data-only archive: it carries rows of tables it does not make. */
async function dataWithoutTables(plan: UndoPlan): Promise<string | undefined> {
  const format = plan.archive.format;
  if (format !== 'custom' && format !== 'directory' && format !== 'tar') return undefined;
  const entries = await readTocEntries(plan.file, format);
  const made = new Set(
    entries.filter((e) => e.desc === 'TABLE').map((e) => JSON.stringify([e.namespace, e.tag])),
  );
  const orphan = entries.find(
    (e) => e.desc === 'TABLE DATA' && !made.has(JSON.stringify([e.namespace, e.tag])),
  );
  return orphan && `the archive holds the rows of ${orphan.namespace ?? ''}.${orphan.tag} but not the table`;
}

/** How many labels a message lists before it says "and N more". */
const LISTED = 8;

function listed(objects: readonly CatalogObject[]): string {
  const head = objects.slice(0, LISTED).map((o) => o.label);
  const more = objects.length > LISTED ? `, and ${objects.length - LISTED} more` : '';
  return head.join(', ') + more;
}

/**
 * Event triggers first (they would fire on the drops that follow), then new schemas with all they
 * hold, then what else is new, newest first: objects are made after what they depend on, so that
 * order drops dependents first, and CASCADE takes what is left of cycles (a type and its I/O
 * functions). What belongs to another object goes with it.
 */
function dropOrder(added: readonly CatalogObject[]): CatalogObject[] {
  const droppable = added.filter((o) => o.drop !== undefined && !o.internal);
  const newSchemas = new Set(droppable.filter((o) => o.catalog === 'pg_namespace').map((o) => o.oid));
  const rank = (o: CatalogObject): number =>
    o.catalog === 'pg_event_trigger' ? 0 : o.catalog === 'pg_namespace' ? 1 : 2;
  return droppable
    .filter((o) => o.catalog === 'pg_namespace' || o.schema === undefined || !newSchemas.has(o.schema))
    .sort((a, b) => rank(a) - rank(b) || Number(b.oid) - Number(a.oid));
}

const EXISTS: Record<string, string> = {
  pg_user_mappings: 'SELECT 1 FROM pg_catalog.pg_user_mappings WHERE umid = $1',
  pg_subscription: 'SELECT 1 FROM pg_catalog.pg_subscription WHERE oid = $1',
};

async function stillThere(c: pg.Client, o: CatalogObject): Promise<boolean> {
  const sql = EXISTS[o.catalog] ?? `SELECT 1 FROM pg_catalog.${o.catalog} WHERE oid = $1`;
  return ((await c.query(sql, [o.oid])).rowCount ?? 0) > 0;
}

/**
 * Drops what is new since `before`, in one transaction, and commits only when the catalog then
 * holds every object of `before`. Returns the sentence the failure's message ends with.
 */
async function undo(plan: UndoPlan, before: CatalogSnapshot): Promise<string> {
  return withClient(plan.target, 'to', async (c) => {
    await c.query('BEGIN');
    try {
      const { added: made, changed } = compareSnapshots(before, await readCatalog(c, plan.targetVersion));
      for (const o of dropOrder(made)) if (await stillThere(c, o)) await c.query(o.drop ?? '');
      // Set back what the restore changed on objects it did not make, where pgferry knows how.
      for (const o of changed) {
        const restore = before.get(snapshotKey(o))?.restore;
        if (restore !== undefined) await c.query(restore);
      }
      const after = compareSnapshots(before, await readCatalog(c, plan.targetVersion));
      if (after.removed.length > 0) {
        throw new PgferryError(
          `dropping what it made would also drop what was there before: ${listed(after.removed)}`,
        );
      }
      await c.query('COMMIT');
      plan.log.info(`the failed restore's ${made.length} new objects were dropped`);
      // A comment the restore put on an object that was there before is a change, not an object.
      const remaining = after.added.filter((o) => o.catalog !== 'pg_description');
      const unchangeable = [...after.changed, ...after.added.filter((o) => o.catalog === 'pg_description')];
      if (remaining.length > 0)
        return `the objects this restore had made were dropped, except these, which pgferry cannot drop: ${listed(remaining)}`;
      if (unchangeable.length > 0) {
        return `the objects this restore had made were dropped, but it had also changed objects that were there before, which dropping cannot undo: ${listed(unchangeable)}`;
      }
      return made.length === 0
        ? 'it had made no objects; the database is as it was'
        : `the ${made.length} objects this restore had made were dropped; the database is as it was`;
    } catch (error) {
      await c.query('ROLLBACK').catch(() => {});
      throw error;
    }
  });
}

/** The failure, its kind kept, with what the undo did said after it. */
function withNote(error: unknown, note: string): Error {
  if (error instanceof ToolError)
    return new ToolError(error.tool, error.exitCode, error.signal, `${error.stderrTail}\n${note}`);
  if (error instanceof InputError) return new InputError(error.input, `${error.problem}; ${note}`);
  const message = error instanceof Error ? error.message : String(error);
  return new PgferryError(`${message}; ${note}`, { cause: error });
}
