import { hash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { PgferryError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConnectionSpec } from '../pg/connection.js';
import { to as copyTo } from 'pg-copy-streams';
import { withClient } from '../pg/server.js';
import type { MaskTap } from './copy-stream.js';
import { decodeCopyField } from './copy-text.js';
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

/** The source filter: 2^23 bits (1 MiB) a column, about 2.4% of them set by SAMPLE_LIMIT sources. */
const FILTER_SHIFT = 32 - 23;
const FILTER_WORDS = (1 << 23) / 32;

/** Sessions reading the target at once. */
const READERS = 2;

const UNCHECKED = new Set(['keep', 'null', 'constant', 'range']);

interface Watched {
  rule: ColumnRule;
  sources: Set<string>;
  /**
   * A bit per value of a cheap seeded hash, set for every source recorded: a target value whose
   * bit is clear is no recorded source, and needs no digest (most of a masked column's values).
   */
  maybeSource: Uint32Array;
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
  private readonly seed = randomBytes(4).readUInt32LE() ^ 0x811c9dc5;
  private readonly columns = new Map<ColumnRule, Watched>();

  readonly tap: MaskTap = (rule, source, output) => {
    if (source === null || UNCHECKED.has(rule.spec.name)) return;
    let w = this.columns.get(rule);
    if (!w)
      this.columns.set(
        rule,
        (w = {
          rule,
          sources: new Set(),
          maybeSource: new Uint32Array(FILTER_WORDS),
          outputs: new Set(),
          seen: 0,
        }),
      );
    w.seen++;
    if (w.sources.size >= SAMPLE_LIMIT) return;
    const digest = this.digest(source);
    // A source seen before gave this same output (the transformers are deterministic).
    if (w.sources.has(digest)) return;
    w.sources.add(digest);
    const bit = this.cheapHash(source) >>> FILTER_SHIFT;
    w.maybeSource[bit >>> 5] = (w.maybeSource[bit >>> 5] as number) | (1 << (bit & 31));
    if (output !== null && output !== source) w.outputs.add(this.digest(output));
  };

  /** FNV-1a over the UTF-16 units, from a seed of the run's: for the filter only, never a proof. */
  private cheapHash(value: string): number {
    let h = this.seed;
    for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
    return h >>> 0;
  }

  private mayBeSource(w: Watched, value: string): boolean {
    const bit = this.cheapHash(value) >>> FILTER_SHIFT;
    return ((w.maybeSource[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }

  /**
   * SHA-256 of the secret key followed by the value, 96 bits of it. Nobody but this process sees a
   * digest, so a prefixed hash serves as well as an HMAC here (length extension needs a digest to
   * extend), and the one-shot hash costs a fifth of an HMAC object per value: it runs for every
   * masked value streamed and every target value read back.
   */
  private digest(value: string): string {
    return hash('sha256', this.key + value, 'base64').slice(0, 16);
  }

  /**
   * Reads the target's masked columns; fails naming each column that kept a source value. Each
   * table is read once, all its checked columns together, by COPY (the server's fastest way out),
   * two tables at a time: the server scans one while this process digests the other's values.
   */
  async check(target: ConnectionSpec, log?: Logger): Promise<LeakResult[]> {
    const tables = new Map<string, Watched[]>();
    for (const w of this.columns.values()) {
      const key = JSON.stringify([w.rule.schema, w.rule.table]);
      tables.set(key, [...(tables.get(key) ?? []), w]);
    }
    const queue = [...tables.values()];
    const found: { rule: ColumnRule; result: LeakResult }[] = [];
    const reader = (): Promise<void> =>
      withClient(target, 'to', async (client) => {
        for (let next = queue.shift(); next; next = queue.shift())
          found.push(...(await this.checkTable(client, next)));
      });
    await Promise.all(Array.from({ length: Math.min(READERS, queue.length) }, reader));
    // In the order the stream first saw each column, as before the tables were read side by side.
    const order = [...this.columns.values()].map((w) => w.rule);
    const results = found.sort((a, b) => order.indexOf(a.rule) - order.indexOf(b.rule)).map((f) => f.result);
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

  /** One table's checked columns, every row of the target's, as COPY text lines. */
  private async checkTable(
    client: pg.Client,
    columns: Watched[],
  ): Promise<{ rule: ColumnRule; result: LeakResult }[]> {
    const { schema, table } = columns[0]?.rule as ColumnRule;
    const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const list = columns.map((w) => `${q(w.rule.column)}::text`).join(', ');
    const counts = columns.map(() => ({ checkedRows: 0, leaks: 0 }));
    const line = (text: string): void => {
      const fields = text.split('\t');
      for (let i = 0; i < columns.length; i++) {
        const value = decodeCopyField(fields[i] ?? '\\N');
        if (value === null) continue;
        const w = columns[i] as Watched;
        const c = counts[i] as { checkedRows: number; leaks: number };
        c.checkedRows++;
        if (!this.mayBeSource(w, value)) continue;
        const d = this.digest(value);
        if (w.sources.has(d) && !w.outputs.has(d)) c.leaks++;
      }
    };
    const out = client.query(copyTo(`COPY (SELECT ${list} FROM ${q(schema)}.${q(table)}) TO STDOUT`));
    // node-postgres asks for client_encoding UTF8, so the server converts whatever it stores.
    out.setEncoding('utf8');
    let rest = '';
    for await (const chunk of out as AsyncIterable<string>) {
      const text = rest + chunk;
      let from = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
        line(text.slice(from, nl));
        from = nl + 1;
      }
      rest = text.slice(from);
    }
    if (rest) line(rest);
    return columns.map((w, i) => ({
      rule: w.rule,
      result: {
        column: `${schema}.${table}.${w.rule.column}`,
        transformer: w.rule.spec.name,
        sampled: w.sources.size,
        ...(counts[i] as { checkedRows: number; leaks: number }),
      },
    }));
  }
}
