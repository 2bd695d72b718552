import { hash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { PgferryError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConnectionSpec } from '../pg/connection.js';
import { withClient } from '../pg/server.js';
import type { MaskTap } from './copy-stream.js';
import type { ColumnRule } from './rules.js';

/**
 * The leak check. While the stream masks, it keeps keyed digests of each masked column's source
 * values, and of the outputs that differ from their source; after the restore it reads the target's
 * values of that column and counts as a leak every value that is a source value and not an output
 * the transformer made from another value (a masked "Ada Ward" that happens to be someone's real
 * name is not a leak; a raw value that got through is). The digest key is random per run and never
 * leaves the process, so no digest, let alone a raw value, is stored or logged.
 *
 * Bounded: per column, the rows of the first SAMPLE_LIMIT distinct source values are recorded (a
 * few MB); the target's values are all read, through a cursor. Not checked: `keep` (the value is
 * itself by design), `null` and `constant` (nothing of the source can come out), and `range` (a
 * value in range may come out as itself by chance).
 */
export const SAMPLE_LIMIT = 200_000;

const UNCHECKED = new Set(['keep', 'null', 'constant', 'range']);

interface Watched {
  rule: ColumnRule;
  sources: Set<string>;
  /** Outputs that differ from their own source. */
  outputs: Set<string>;
  seen: number;
}

export interface LeakResult {
  column: string;
  transformer: string;
  /** Source values the stream recorded (distinct, at most SAMPLE_LIMIT). */
  sampled: number;
  /** Target rows read. */
  checkedRows: number;
  leaks: number;
}

export class LeakWatch {
  /** Random per run, as text: it only ever prefixes the value hashed (see digest). */
  private readonly key = randomBytes(32).toString('hex');
  private readonly columns = new Map<ColumnRule, Watched>();

  readonly tap: MaskTap = (rule, source, output) => {
    if (source === null || UNCHECKED.has(rule.spec.name)) return;
    let w = this.columns.get(rule);
    if (!w) this.columns.set(rule, (w = { rule, sources: new Set(), outputs: new Set(), seen: 0 }));
    w.seen++;
    if (w.sources.size >= SAMPLE_LIMIT) return;
    const digest = this.digest(source);
    // A source seen before gave this same output (the transformers are deterministic).
    if (w.sources.has(digest)) return;
    w.sources.add(digest);
    if (output !== null && output !== source) w.outputs.add(this.digest(output));
  };

  /**
   * SHA-256 of the secret key followed by the value, 96 bits of it. Nobody but this process sees a
   * digest, so a prefixed hash serves as well as an HMAC here (length extension needs a digest to
   * extend), and the one-shot hash costs a fifth of an HMAC object per value: it runs for every
   * masked value streamed and every target value read back.
   */
  private digest(value: string): string {
    return hash('sha256', this.key + value, 'base64').slice(0, 16);
  }

  /** Reads the target's masked columns; fails naming each column that kept a source value. */
  async check(target: ConnectionSpec, log?: Logger): Promise<LeakResult[]> {
    const results = await withClient(target, 'to', async (client) => {
      const out: LeakResult[] = [];
      for (const w of this.columns.values()) out.push(await this.checkColumn(client, w));
      return out;
    });
    for (const r of results)
      log?.info(
        `leak check: ${r.column}: ${r.checkedRows} row(s) checked against ${r.sampled} source value(s), ${r.leaks} leak(s)`,
      );
    const leaking = results.filter((r) => r.leaks > 0);
    if (leaking.length)
      throw new PgferryError(
        `leak check: ${leaking.map((r) => `${r.column} (${r.transformer}) holds ${r.leaks} value(s) of the source`).join('; ')}; the masking rules do not mask what they claim to (values are not shown)`,
        { code: 'integrity' },
      );
    return results;
  }

  private async checkColumn(client: pg.Client, w: Watched): Promise<LeakResult> {
    const { schema, table, column } = w.rule;
    const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
    let checkedRows = 0;
    let leaks = 0;
    await client.query('BEGIN READ ONLY');
    try {
      await client.query(
        `DECLARE pgferry_leak NO SCROLL CURSOR FOR SELECT ${q(column)}::text AS v FROM ${q(schema)}.${q(table)} WHERE ${q(column)} IS NOT NULL`,
      );
      for (;;) {
        // Arrays, not an object per row: a column's every row passes here.
        const { rows } = await client.query<[string]>({
          text: 'FETCH 10000 FROM pgferry_leak',
          rowMode: 'array',
        });
        if (rows.length === 0) break;
        checkedRows += rows.length;
        for (const [v] of rows) {
          const d = this.digest(v);
          if (w.sources.has(d) && !w.outputs.has(d)) leaks++;
        }
      }
    } finally {
      await client.query('ROLLBACK');
    }
    const name = `${schema}.${table}.${column}`;
    return { column: name, transformer: w.rule.spec.name, sampled: w.sources.size, checkedRows, leaks };
  }
}
