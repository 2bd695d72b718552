import type pg from 'pg';

export interface TableCounts {
  tables: number;
  rows: number;
  perTable: Record<string, number>;
}

/** Exact row counts of every user table (partitions counted once, as leaves). */
export async function tableCounts(client: pg.Client): Promise<TableCounts> {
  const { rows: tables } = await client.query<{ name: string }>(`
    SELECT format('%I.%I', n.nspname, c.relname) AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1`);
  const perTable: Record<string, number> = {};
  let total = 0;
  for (const { name } of tables) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`);
    const n = Number(rows[0]?.n ?? 0);
    perTable[name] = n;
    total += n;
  }
  return { tables: tables.length, rows: total, perTable };
}

/** The first differences between two count sets, for a failed drill's message. */
export function countDifferences(expected: TableCounts, actual: TableCounts): string[] {
  const names = new Set([...Object.keys(expected.perTable), ...Object.keys(actual.perTable)]);
  const out: string[] = [];
  for (const name of [...names].sort()) {
    const a = expected.perTable[name];
    const b = actual.perTable[name];
    if (a !== b) out.push(`${name}: ${a ?? 'missing'} in the source, ${b ?? 'missing'} restored`);
  }
  return out;
}
