import type pg from 'pg';
import { InputError, PgferryError } from '../../errors.js';
import { databaseName, describeConnection, type ConnectionSpec } from '../../pg/connection.js';
import { isSameServer } from '../../pg/same-database.js';

/**
 * The checks a clone makes before it creates anything: copies live on the template's server, have
 * names of their own, replace nothing unconfirmed, and nobody is connected where CREATE DATABASE …
 * TEMPLATE (or the rename of a replaced copy) needs the database to be free.
 */

/** CREATE DATABASE … TEMPLATE copies files within one server: a copy elsewhere cannot be made. */
export async function checkSameServer(
  source: ConnectionSpec,
  copies: readonly ConnectionSpec[],
): Promise<void> {
  const same = await Promise.all(copies.map((copy) => isSameServer(source, copy)));
  const elsewhere = copies.filter((_c, i) => !same[i]);
  if (elsewhere.length === 0) return;
  throw new InputError(
    'to',
    `${elsewhere.map((c) => describeConnection(c)).join(', ')} ${elsewhere.length === 1 ? 'is' : 'are'} not on the server of from (${describeConnection(source)}); clone copies a database within its own server, so every copy must be on it (use copy or restore for another server)`,
  );
}

/** The copies' names, in order: each once, none the template's own. */
export function copyNames(source: ConnectionSpec, copies: readonly ConnectionSpec[]): string[] {
  const template = databaseName(source);
  const names = copies.map((c) => databaseName(c));
  if (names.includes(template))
    throw new InputError('to', `"${template}" is the database cloned (from); a copy needs a name of its own`);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length)
    throw new InputError(
      'to',
      `"${twice[0]}" is named more than once; expected one line per copy, each its own name`,
    );
  return names;
}

/**
 * Guarantee 2 for several targets: replacing existing copies needs `clean`, and `confirm` naming
 * every copy that is replaced (one per line); a confirm naming anything else is a mistake.
 */
export function checkReplaceConfirmed(
  existing: readonly string[],
  clean: boolean,
  confirm: readonly string[],
): void {
  const list = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');
  if (existing.length && !clean)
    throw new InputError(
      'to',
      `${list(existing)} already ${existing.length === 1 ? 'exists' : 'exist'}; to replace ${existing.length === 1 ? 'it' : 'them'}, set clean: true and confirm: the name of every copy replaced, one per line`,
    );
  const stray = confirm.filter((c) => !existing.includes(c));
  if (stray.length)
    throw new InputError(
      'confirm',
      `${list(stray)} ${stray.length === 1 ? 'is' : 'are'} not an existing copy this clone replaces${existing.length ? ` (it replaces ${list(existing)})` : ' (it replaces none)'}`,
    );
  const missing = existing.filter((e) => !confirm.includes(e));
  if (missing.length)
    throw new InputError(
      'confirm',
      `clean replaces ${list(missing)}, which confirm does not name; expected every replaced copy's name, one per line`,
    );
}

/** Sessions connected to each database, other than this one. */
export async function sessionCounts(
  client: pg.Client,
  names: readonly string[],
): Promise<Map<string, number>> {
  const { rows } = await client.query<{ datname: string; n: number }>(
    `SELECT datname, count(*)::int AS n FROM pg_stat_activity
      WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid() GROUP BY datname`,
    [names],
  );
  return new Map(rows.map((r) => [r.datname, r.n]));
}

/** A session that has just closed (the seed's own) leaves pg_stat_activity within milliseconds. */
const CLOSING_GRACE_MS = 2000;

/**
 * Refuses, in words, instead of letting CREATE DATABASE wait and fail with "being accessed": after
 * a short grace for sessions that are closing, any left on the template or a copy to be replaced.
 */
export async function refuseBusy(
  client: pg.Client,
  source: ConnectionSpec,
  template: string,
  replaced: readonly string[],
): Promise<void> {
  const deadline = Date.now() + CLOSING_GRACE_MS;
  let counts = await sessionCounts(client, [template, ...replaced]);
  while (counts.size > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    counts = await sessionCounts(client, [template, ...replaced]);
  }
  const onTemplate = counts.get(template) ?? 0;
  if (onTemplate > 0) throw busyTemplate(source, template, onTemplate);
  const busy = replaced.filter((r) => (counts.get(r) ?? 0) > 0);
  if (busy.length)
    throw new PgferryError(
      `to: ${busy.map((b) => `"${b}" has ${sessions(counts.get(b) ?? 0)} connected`).join(', ')}; a copy is replaced by renaming it aside, which needs it to have none: end them (pg_stat_activity lists them) and run again`,
      { code: 'busy' },
    );
}

function sessions(n: number): string {
  return n === 1 ? '1 other session' : `${n} other sessions`;
}

export function busyTemplate(source: ConnectionSpec, template: string, count: number): PgferryError {
  return new PgferryError(
    `from: "${template}" on ${describeConnection(source)} has ${sessions(count)} connected; CREATE DATABASE … TEMPLATE needs the template to have none: end them (pg_stat_activity lists them; a test worker or a psql left open) and run again`,
    { code: 'busy' },
  );
}
