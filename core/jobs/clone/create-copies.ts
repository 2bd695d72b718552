import type pg from 'pg';
import { PgferryError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { scratchName } from '../../pg/scratch-database.js';

/**
 * Making the copies: each by CREATE DATABASE … TEMPLATE, a copy that replaces an existing one under
 * a scratch name first; then the replaced copies renamed aside and the new ones into their places
 * in one transaction. Whatever fails before that commit, the run drops what it created and every
 * database that existed before is as it was.
 */

export type CloneStrategy = 'FILE_COPY' | 'WAL_LOG' | 'copy';

/**
 * 15+ defaults to WAL_LOG, which writes every block of the template to the WAL; FILE_COPY copies
 * the files after a checkpoint, which is far less work for a database that is only read meanwhile.
 * 14 and older have only the file copy, with no choice to make.
 */
export function strategyFor(serverMajor: number): CloneStrategy {
  return serverMajor >= 15 ? 'FILE_COPY' : 'copy';
}

interface Planned {
  name: string;
  /** The name it is created under: its own, or a scratch name when it replaces an existing copy. */
  createAs: string;
  replaces: boolean;
}

export interface CreatePlan {
  template: string;
  serverMajor: number;
  copies: Planned[];
  signal?: AbortSignal;
  log: Logger;
}

export function planCopies(names: readonly string[], existing: readonly string[]): Planned[] {
  return names.map((name) => {
    const replaces = existing.includes(name);
    return { name, createAs: replaces ? scratchName(name, 'new') : name, replaces };
  });
}

const OBJECT_IN_USE = '55006';

async function createOne(client: pg.Client, plan: CreatePlan, createAs: string): Promise<void> {
  const id = (n: string) => client.escapeIdentifier(n);
  const strategy = strategyFor(plan.serverMajor);
  const clause = strategy === 'copy' ? '' : ` STRATEGY = ${strategy}`;
  await client.query(`CREATE DATABASE ${id(createAs)} TEMPLATE ${id(plan.template)}${clause}`);
}

/** Drops what this run created; a session a worker opened on one meanwhile is ended (13+). */
export async function dropCreated(
  client: pg.Client,
  names: readonly string[],
  serverMajor: number,
): Promise<void> {
  const force = serverMajor >= 13 ? ' WITH (FORCE)' : '';
  for (const name of names)
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)}${force}`).catch(() => {});
}

/** Creates every copy; on any failure drops those it created and rethrows. Returns the names created. */
export async function createCopies(
  client: pg.Client,
  plan: CreatePlan,
  onBusy: () => Promise<Error | undefined>,
): Promise<string[]> {
  const created: string[] = [];
  try {
    for (const copy of plan.copies) {
      if (plan.signal?.aborted)
        throw new PgferryError('clone: stopped before every copy was made', { code: 'cancelled' });
      await createOne(client, plan, copy.createAs);
      created.push(copy.createAs);
      plan.log.info(
        `cloned "${plan.template}" into "${copy.name}" (${created.length}/${plan.copies.length})`,
      );
    }
    await swapReplaced(
      client,
      plan.copies.filter((c) => c.replaces),
      plan,
    );
    return created;
  } catch (error) {
    await dropCreated(client, created, plan.serverMajor);
    if ((error as { code?: string }).code === OBJECT_IN_USE) throw (await onBusy()) ?? error;
    throw error;
  }
}

/**
 * One transaction renames every replaced copy aside and its new copy into its place (ALTER DATABASE
 * … RENAME is transactional); the old ones are dropped after the commit.
 */
async function swapReplaced(
  client: pg.Client,
  replaced: readonly Planned[],
  plan: CreatePlan,
): Promise<void> {
  if (replaced.length === 0) return;
  const id = (n: string) => client.escapeIdentifier(n);
  const aside = replaced.map((r) => scratchName(r.name, 'old'));
  await client.query('BEGIN');
  try {
    for (const [i, r] of replaced.entries()) {
      await client.query(`ALTER DATABASE ${id(r.name)} RENAME TO ${id(aside[i] ?? '')}`);
      await client.query(`ALTER DATABASE ${id(r.createAs)} RENAME TO ${id(r.name)}`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  for (const old of aside)
    await client
      .query(`DROP DATABASE ${id(old)}`)
      .catch((error: Error) =>
        plan.log.warn(
          `the replaced copy, renamed "${old}", could not be dropped (${error.message}); drop it yourself`,
        ),
      );
}
