import type { ConnectionSpec } from '../pg/connection.js';
import { withClient } from '../pg/server.js';
import { checkRulesAgainst, tableKey, type MaskingRules } from './rules.js';

/**
 * A copy's rules checked against the source database before anything is created: every ruled table
 * must be there with the ruled columns, as COPY will carry them (generated columns are not dumped).
 */
export async function checkRulesAgainstSource(rules: MaskingRules, source: ConnectionSpec): Promise<void> {
  const columns = await withClient(source, 'from', async (c) => {
    const { rows } = await c.query<{ schema: string; table: string; columns: string[] | null }>(`
      SELECT n.nspname AS schema, t.relname AS table,
             array_agg(a.attname::text ORDER BY a.attnum)
               FILTER (WHERE a.attnum > 0 AND NOT a.attisdropped
                       AND coalesce(to_jsonb(a) ->> 'attgenerated', '') = '') AS columns
      FROM pg_class t
      JOIN pg_namespace n ON n.oid = t.relnamespace
      LEFT JOIN pg_attribute a ON a.attrelid = t.oid
      WHERE t.relkind IN ('r', 'p', 'm')
      GROUP BY 1, 2`);
    return new Map(rows.map((r) => [tableKey(r.schema, r.table), r.columns ?? []]));
  });
  checkRulesAgainst(rules, columns, 'the source database');
}
