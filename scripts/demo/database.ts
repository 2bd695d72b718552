/** What the demo asks the source and the restored database. */
import { withClient } from '../shared/postgres.js';

/** Rows per user table (partitioned parents included: their count is their partitions' rows). */
export async function rowCounts(url: string): Promise<Map<string, number>> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ name: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1`,
    );
    const counts = new Map<string, number>();
    for (const { name } of rows) {
      const result = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`);
      counts.set(name, Number(result.rows[0]?.n ?? 0));
    }
    return counts;
  });
}

/** One line per table whose row count differs between `source` and `restored` (or that one lacks). */
export function rowCountMismatches(source: Map<string, number>, restored: Map<string, number>): string[] {
  const names = new Set([...source.keys(), ...restored.keys()]);
  return [...names]
    .filter((n) => source.get(n) !== restored.get(n))
    .map((n) => `${n}: source ${source.get(n) ?? 'missing'}, restored ${restored.get(n) ?? 'missing'}`);
}
