import type pg from 'pg';

/** A leaf table (where rows live: plain tables and partitions) and its on-disk size, TOAST included. */
export interface TableSize {
  schema: string;
  name: string;
  bytes: number;
}

/**
 * Leaf tables pg_dump writes data for: ordinary tables and partitions (relkind `r`; a partitioned
 * parent holds no rows), unlogged ones included, not temporary ones, not the system schemas', not
 * an extension's own tables (pg_dump leaves their data to the extension). Largest first, then by
 * name, so a plan is the same for the same database. Run it in the snapshot the dump reads, so the
 * list is the dump's.
 */
export async function tableSizes(client: pg.Client): Promise<TableSize[]> {
  const { rows } = await client.query<{ schema: string; name: string; bytes: string }>(`
    SELECT n.nspname AS schema, c.relname AS name, pg_catalog.pg_table_size(c.oid)::bigint AS bytes
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND c.relpersistence <> 't'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                        WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY 3 DESC, 1, 2`);
  return rows.map((r) => ({ schema: r.schema, name: r.name, bytes: Number(r.bytes) }));
}

export interface Bin<T> {
  items: T[];
  bytes: number;
}

/**
 * Greedy balance: largest first, each into the lightest bin so far (ties: the lower index). At most
 * `n` bins and never an empty one, so fewer items than `n` give one bin per item.
 */
export function balance<T extends { bytes: number }>(items: readonly T[], n: number): Bin<T>[] {
  const count = Math.max(1, Math.min(Math.floor(n), items.length));
  const bins: Bin<T>[] = Array.from({ length: count }, () => ({ items: [], bytes: 0 }));
  const sorted = [...items].sort((a, b) => b.bytes - a.bytes);
  for (const item of sorted) {
    let lightest = bins[0] as Bin<T>;
    for (const bin of bins) if (bin.bytes < lightest.bytes) lightest = bin;
    lightest.items.push(item);
    lightest.bytes += item.bytes;
  }
  return items.length === 0 ? [] : bins;
}
