import type { TocEntry } from '../pg/archive-toc.js';
import { takeSnapshot } from '../pg/catalog-snapshot.js';
import type { ConnectionSpec } from '../pg/connection.js';
import { withClient } from '../pg/server.js';
import type { Logger } from '../log.js';
import { PgferryError } from '../errors.js';
import { quoteIdent } from './database-properties.js';

/**
 * `clean` drops and restores what the new contents carry; whatever else the target holds stays. A
 * swap replaces the whole database, so it is used only where it means the same: checked cheaply by
 * the archive's TOC before anything is built, and by the whole catalog once the new database is
 * built (publications, foreign servers, access methods and the like belong to no schema).
 */

const KEPT_KINDS: Record<string, string> = {
  r: 'TABLE',
  p: 'TABLE',
  v: 'VIEW',
  m: 'MATERIALIZED VIEW',
  S: 'SEQUENCE',
  f: 'FOREIGN TABLE',
};

/** An object as `kind schema name`, named the way the archive's TOC names it. */
interface NamedObject {
  desc: string;
  namespace: string;
  tag: string;
}

const keyOf = (o: NamedObject): string => `${o.desc}\u0000${o.namespace}\u0000${o.tag}`;

/** A database's own schemas and relations (extension members, owned sequences and the system's left out). */
async function catalogObjects(spec: ConnectionSpec, input: string): Promise<NamedObject[]> {
  const { rows } = await withClient(spec, input, (c) =>
    c.query<{ kind: string; nspname: string; relname: string | null }>(
      `SELECT 'SCHEMA' AS kind, n.nspname, NULL AS relname FROM pg_namespace n
        WHERE n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'public')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
       UNION ALL
       SELECT c.relkind::text, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'i', 'a'))`,
    ),
  );
  return rows.map((r) =>
    r.relname === null
      ? { desc: 'SCHEMA', namespace: '', tag: r.nspname }
      : { desc: KEPT_KINDS[r.kind] ?? 'TABLE', namespace: r.nspname, tag: r.relname },
  );
}

/**
 * What of the target a swap would lose: its schemas and relations that the new contents (the
 * archive's TOC, or the copy's source) do not carry. clean drops only what it carries; when the
 * target has more, the restore runs in place instead, so a swap never changes what clean means.
 */
export async function objectsSwapWouldLose(
  target: ConnectionSpec,
  carried: readonly TocEntry[] | { source: ConnectionSpec },
): Promise<string[]> {
  const kept =
    'source' in carried
      ? await catalogObjects(carried.source, 'from')
      : carried.map((e) => ({ desc: e.desc, namespace: e.namespace ?? '', tag: e.tag }));
  const carriedKeys = new Set(kept.map(keyOf));
  return (await catalogObjects(target, 'to'))
    .filter((o) => !carriedKeys.has(keyOf(o)))
    .map((o) =>
      o.desc === 'SCHEMA'
        ? `schema ${quoteIdent(o.tag)}`
        : `${o.desc.toLowerCase()} ${quoteIdent(o.namespace)}.${quoteIdent(o.tag)}`,
    );
}

/**
 * Whether the swap keeps clean's meaning for this target: it does not exist yet, the caller asked to
 * replace it whole (`always`: a seed), or it holds nothing the new contents lack. Says why not.
 */
export async function swapKeepsMeaning(
  o: { to: ConnectionSpec; swap?: boolean | 'always'; log: Logger },
  exists: boolean,
  carried: readonly TocEntry[] | { source: ConnectionSpec },
): Promise<boolean> {
  if (!exists || o.swap === 'always') return true;
  const lost = await objectsSwapWouldLose(o.to, carried);
  if (!lost.length) return true;
  const shown = lost.slice(0, 5).join(', ') + (lost.length > 5 ? ` and ${lost.length - 5} more` : '');
  o.log.warn(
    `clean: restoring in place, in one transaction with one job, because the target holds what the new contents do not carry and a swap would drop it (${shown})`,
  );
  return false;
}

/** The built database lacks objects the target holds: the swap is abandoned for an in-place restore. */
export class SwapWouldLose extends PgferryError {
  override readonly name = 'SwapWouldLose';
}

/** Objects as PostgreSQL describes them by name, internal ones (extension members, row types) left out. */
async function describedObjects(spec: ConnectionSpec, input: string): Promise<Set<string>> {
  return withClient(spec, input, async (c) => {
    const { rows } = await c.query<{ major: number }>(
      `SELECT current_setting('server_version_num')::int / 10000 AS major`,
    );
    const snapshot = await takeSnapshot(c, rows[0]?.major ?? 0);
    // The snapshot lists user objects by OID only; a schema made from the template (public) counts
    // too, since clean recreates public with a user OID in the target while the built one keeps 2200.
    const { rows: fromTemplate } = await c.query<{ label: string }>(
      `SELECT pg_describe_object('pg_namespace'::regclass, oid, 0) AS label FROM pg_namespace WHERE oid < 16384`,
    );
    return new Set([
      ...[...snapshot.values()].filter((o) => !o.internal).map((o) => o.label),
      ...fromTemplate.map((r) => r.label),
    ]);
  });
}

/**
 * Run on the built database before its SQL after the restore (which may drop what it masks): throws
 * SwapWouldLose naming what of the target's the new database lacks.
 */
export async function refuseSwapThatLoses(
  target: ConnectionSpec,
  built: ConnectionSpec,
  log: Logger,
): Promise<void> {
  const carried = await describedObjects(built, 'to');
  const lost = [...(await describedObjects(target, 'to'))].filter((label) => !carried.has(label)).sort();
  if (!lost.length) return;
  const shown = lost.slice(0, 5).join(', ') + (lost.length > 5 ? ` and ${lost.length - 5} more` : '');
  log.warn(
    `clean: restoring in place after all, in one transaction with one job: the target holds what the new contents do not carry, and a swap would drop it (${shown})`,
  );
  throw new SwapWouldLose(`a swap would drop ${lost.length} object(s) of the target`);
}
