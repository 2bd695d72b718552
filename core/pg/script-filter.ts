import { Transform, type TransformCallback } from 'node:stream';
import type { PgVersion } from './version.js';

/**
 * A SQL script (pg_restore -f -, or a plain dump) made by newer tools than the target understands:
 * drop the session settings the target's server does not know and the `\restrict` lines an older
 * psql rejects. COPY data is passed through untouched.
 */
export interface ScriptFilterRules {
  targetServer: PgVersion;
  /** Whether the psql that will run the script knows `\restrict` / `\unrestrict`. */
  psqlKnowsRestrict: boolean;
  /**
   * The script runs inside one transaction (psql --single-transaction): pg_dump's own `BEGIN;` /
   * `COMMIT;` lines around large objects would commit it halfway, so they are neutralised.
   */
  singleTransaction?: boolean;
}

/** Session settings pg_dump/pg_restore emit, with the first server major that knows them. */
const SETTING_SINCE: Readonly<Record<string, number>> = {
  transaction_timeout: 17,
  default_toast_compression: 14,
  default_table_access_method: 12,
};

/** psql learned `\restrict` in these minors (the August 2025 security releases). */
const RESTRICT_SINCE_MINOR: Readonly<Record<number, number>> = {
  13: 22,
  14: 19,
  15: 14,
  16: 10,
  17: 6,
  18: 0,
};

export function psqlKnowsRestrict(psql: PgVersion): boolean {
  if (psql.major > 18) return true;
  const since = RESTRICT_SINCE_MINOR[psql.major];
  return since !== undefined && psql.minor !== undefined && psql.minor >= since;
}

/** Whether a script for this target needs filtering at all. */
export function needsFilter(rules: ScriptFilterRules, dumpedBy: PgVersion | undefined): boolean {
  if (!rules.psqlKnowsRestrict || rules.singleTransaction) return true;
  return dumpedBy === undefined || dumpedBy.major > rules.targetServer.major;
}

export class ScriptFilter extends Transform {
  /** What was dropped, by setting name (or `\restrict`), with counts: reported to the user. */
  readonly filtered = new Map<string, number>();
  /** `BEGIN;` / `COMMIT;` lines neutralised for the single transaction (not reported to users). */
  transactionLines = 0;
  private carry: Buffer = Buffer.alloc(0);
  private inCopy = false;

  constructor(private readonly rules: ScriptFilterRules) {
    super();
  }

  private droppedName(line: string): string | undefined {
    if (!this.rules.psqlKnowsRestrict && /^\\(un)?restrict\b/.test(line)) return '\\restrict';
    const set =
      /^SET\s+([a-z_]+)\s*(=|TO)/i.exec(line) ?? /^SELECT pg_catalog\.set_config\('([a-z_]+)'/i.exec(line);
    const name = set?.[1]?.toLowerCase();
    if (name && (SETTING_SINCE[name] ?? 0) > this.rules.targetServer.major) return name;
    return undefined;
  }

  /** One line without its newline; bytes pass through unchanged unless the line is dropped. */
  private line(bytes: Buffer): Buffer {
    // Only short lines can be commands we care about, except a COPY of a wide table; long ones are data.
    if (this.isLongData(bytes)) return bytes;
    const line = bytes.toString('latin1');
    if (this.inCopy) {
      if (line === '\\.' || line === '\\.\r') this.inCopy = false;
      return bytes;
    }
    if (/^COPY .* FROM stdin;\s*$/.test(line)) this.inCopy = true;
    if (this.rules.singleTransaction && /^(BEGIN|COMMIT);\r?$/.test(line)) {
      this.transactionLines++;
      return Buffer.from(`-- pgferry: ${line.trim()} left out, the whole restore is one transaction`);
    }
    const dropped = this.droppedName(line);
    if (dropped === undefined) return bytes;
    this.filtered.set(dropped, (this.filtered.get(dropped) ?? 0) + 1);
    return Buffer.from(`-- pgferry filtered: ${dropped}`);
  }

  /** The current line is long data being passed through unexamined until its newline. */
  private streaming = false;

  private isLongData(partial: Buffer): boolean {
    return partial.length > LONG_LINE && (this.inCopy || partial.toString('latin1', 0, 5) !== 'COPY ');
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const out: Buffer[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      if (this.streaming) {
        const end = nl === -1 ? chunk.length : nl + 1;
        out.push(chunk.subarray(start, end));
        if (nl !== -1) this.streaming = false;
        start = end;
        continue;
      }
      if (nl === -1) {
        this.carry = Buffer.concat([this.carry, chunk.subarray(start)]);
        // A long line cannot be a setting or a COPY terminator: pass it on instead of buffering it
        // (buffering whole multi-megabyte rows made the filter quadratic in the row length).
        if (this.isLongData(this.carry)) {
          out.push(this.carry);
          this.carry = Buffer.alloc(0);
          this.streaming = true;
        }
        break;
      }
      const piece = chunk.subarray(start, nl);
      const line = this.carry.length ? Buffer.concat([this.carry, piece]) : piece;
      this.carry = Buffer.alloc(0);
      out.push(this.line(line), NEWLINE);
      start = nl + 1;
    }
    done(null, out.length ? Buffer.concat(out) : undefined);
  }

  override _flush(done: TransformCallback): void {
    done(null, this.carry.length ? this.line(this.carry) : undefined);
  }

  summary(): string[] {
    return [...this.filtered].map(([name, n]) => `${name} (${n}×)`);
  }
}

const NEWLINE = Buffer.from('\n');
/** Lines longer than this are data or DDL bodies, never a session setting or a COPY terminator. */
const LONG_LINE = 200;
