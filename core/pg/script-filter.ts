import { Transform, type TransformCallback } from 'node:stream';
import { PgferryError } from '../errors.js';
import { PsqlLexer } from './psql-lexer.js';
import {
  classifyStatement,
  DECIDED_WHOLE,
  isStatisticsCall,
  STATISTICS_SINCE,
  UNSAFE_VARIABLES,
} from './script-statements.js';
import type { PgVersion } from './version.js';

/**
 * A SQL script (pg_restore -f -, a plain dump, a globals script) on its way to psql. Statements are
 * found as psql finds them (psql-lexer.ts), so only whole session-level statements are ever changed:
 * settings the target's server does not know, `\restrict` lines an older psql rejects, and — when
 * pgferry owns the transaction — pg_dump's own bare `BEGIN;` / `COMMIT;`. Anything that could end
 * pgferry's transaction or escape psql's SQL (other transaction control, meta-commands, statements
 * smuggled after COPY) is refused with its line. Function bodies, literals, comments and COPY data
 * pass byte for byte.
 */
export interface ScriptFilterRules {
  targetServer: PgVersion;
  /** Whether the psql that will run the script knows `\restrict` / `\unrestrict`. */
  psqlKnowsRestrict: boolean;
  /**
   * pgferry runs the script in one transaction of its own and commits it itself: bare `BEGIN;` /
   * `COMMIT;` (pg_dump's, around large objects) are left out and any other transaction control is
   * refused, so nothing in the script can commit early.
   */
  singleTransaction?: boolean;
  /** A user's own SQL (sql-after, sanitize): every transaction statement is refused, bare ones too. */
  refuseAllTransactionControl?: boolean;
}

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

/** A statement held back until it is known whether it passes: short ones only. */
const HOLD_LIMIT = 8192;

export class ScriptFilter extends Transform {
  /** What was dropped, by setting name (or `\restrict`), with the script lines: reported to the user. */
  readonly filtered = new Map<string, number>();
  private readonly filteredLines = new Map<string, number[]>();
  /** Bare `BEGIN;` / `COMMIT;` left out for pgferry's own transaction (not reported to users). */
  transactionLines = 0;
  private readonly lexer: PsqlLexer;
  /** Bytes not yet passed on, starting at absolute offset `pendingAt`. */
  private pending: Buffer[] = [];
  private pendingAt = 0;
  private out: Buffer[] = [];
  /** Where the statement being held starts; undefined while bytes stream. */
  private holdAt: number | undefined;
  private holdLine = 0;
  private words: string[] = [];
  /** Where a meta-command being read starts: held until its line is complete. */
  private metaAt: number | undefined;
  private problem: PgferryError | undefined;
  private readonly objects: { line: number; object: string }[] = [];

  /** `label` names the script in messages, e.g. "the restore script of s3://b/k". */
  constructor(
    private readonly rules: ScriptFilterRules,
    private readonly label = 'the script',
  ) {
    super();
    this.lexer = new PsqlLexer({
      statementStart: (offset, line) => {
        this.holdAt = offset;
        this.holdLine = line;
        this.words = [];
      },
      word: (word) => {
        if (this.holdAt !== undefined && this.words.length < 8) this.words.push(word);
      },
      statementEnd: (end) => this.statementEnd(end),
      quoted: (start, end, kind) => {
        if (kind === 'comment' && end - start < 2048)
          this.noteObject(this.slice(start, end).toString('utf8'));
      },
      metaStart: (offset) => {
        this.metaAt = offset;
      },
      meta: (text, offset, line, atBoundary) => {
        this.metaAt = undefined;
        this.meta(text, offset, line, atBoundary);
      },
      variable: (name, line) => {
        if (UNSAFE_VARIABLES.has(name))
          this.refuse(line, `:${name} would be replaced by psql with a value of the connection`);
      },
      afterCopy: (line) => this.refuse(line, 'a statement follows COPY … FROM stdin on the same line'),
      copyEnd: () => {},
    });
  }

  /** pg_dump's `-- Name: t; Type: TABLE; Schema: s; …` comment: the object the next lines make. */
  private noteObject(comment: string): void {
    const m = /^-- (Data for )?Name: (.*); Type: ([^;]+); Schema: ([^;]*);/.exec(comment);
    if (!m || this.objects.length >= 1_000_000) return;
    const [, data, name, type, schema] = m;
    const qualified = schema && schema !== '-' ? `${schema}.${name}` : name;
    this.objects.push({ line: this.lexer.line, object: `${data ? 'the data of ' : ''}${type} ${qualified}` });
  }

  /** The object being made at a line of the script, as pg_dump's comments name it. */
  objectAt(line: number): string | undefined {
    let found: string | undefined;
    for (const o of this.objects) {
      if (o.line > line) break;
      found = o.object;
    }
    return found;
  }

  private refuse(line: number, why: string): void {
    this.problem ??= new PgferryError(`${this.label}, line ${line}: ${why}; refusing to run it`);
  }

  private note(name: string, line: number): void {
    this.filtered.set(name, (this.filtered.get(name) ?? 0) + 1);
    const at = this.filteredLines.get(name) ?? [];
    if (at.length < 5) at.push(line);
    this.filteredLines.set(name, at);
  }

  private statementEnd(end: number): void {
    const start = this.holdAt;
    this.holdAt = undefined;
    if (start === undefined) return;
    const text = this.slice(start, end).toString('latin1');
    const verdict = classifyStatement(text, this.words, this.rules);
    switch (verdict.action) {
      case 'pass':
        if (verdict.standardStrings !== undefined) this.lexer.setStandardStrings(verdict.standardStrings);
        return;
      case 'refuse':
        this.refuse(this.holdLine, verdict.why);
        return;
      case 'transaction':
        this.transactionLines++;
        this.replace(start, end, `-- pgferry: ${text.trim()} left out, the whole restore is one transaction`);
        return;
      case 'drop':
        this.note(verdict.name, this.holdLine);
        this.replace(start, end, `-- pgferry filtered: ${verdict.name}`);
        return;
    }
  }

  private meta(text: string, offset: number, line: number, atBoundary: boolean): void {
    const restrict = /^\\(un)?restrict [A-Za-z0-9]+\r?$/.test(text);
    if (!restrict || !atBoundary) {
      const name = /^\\[^\s\\]*/.exec(text)?.[0] ?? '\\';
      this.refuse(
        line,
        `the psql meta-command ${name} is not allowed (only \\restrict and \\unrestrict are)`,
      );
      return;
    }
    if (this.rules.psqlKnowsRestrict) return;
    this.note('\\restrict', line);
    this.replace(offset, offset + Buffer.byteLength(text, 'latin1'), '-- pgferry filtered: \\restrict');
  }

  /** Bytes [from, to) of what is still pending. */
  private slice(from: number, to: number): Buffer {
    const all = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    this.pending = [all];
    return all.subarray(from - this.pendingAt, to - this.pendingAt);
  }

  /** Passes everything before `from`, then `text` instead of [from, to), keeping the line count. */
  private replace(from: number, to: number, text: string): void {
    const dropped = this.slice(from, to);
    this.passUpTo(from);
    let newlines = 0;
    for (let at = dropped.indexOf(10); at !== -1; at = dropped.indexOf(10, at + 1)) newlines++;
    this.out.push(Buffer.from(text + '\n'.repeat(newlines), 'latin1'));
    this.discardUpTo(to);
  }

  private passUpTo(offset: number): void {
    const all = this.slice(this.pendingAt, offset);
    if (all.length) this.out.push(all);
    this.discardUpTo(offset);
  }

  private discardUpTo(offset: number): void {
    const all = this.slice(this.pendingAt, this.pendingAt + this.pendingBytes());
    this.pending = [all.subarray(offset - this.pendingAt)];
    this.pendingAt = offset;
  }

  private pendingBytes(): number {
    return this.pending.reduce((n, b) => n + b.length, 0);
  }

  /** A held statement too long to be one the filter changes is passed on as it streams. */
  private releaseLongStatement(): void {
    if (this.holdAt === undefined || this.pendingAt + this.pendingBytes() - this.holdAt <= HOLD_LIMIT) return;
    const first = this.words[0];
    const head = this.slice(this.holdAt, this.holdAt + 200).toString('latin1');
    if (this.rules.targetServer.major < STATISTICS_SINCE && isStatisticsCall(head)) {
      this.refuse(
        this.holdLine,
        `a statistics call longer than ${HOLD_LIMIT} bytes, which PostgreSQL ${this.rules.targetServer.major} cannot take; restore with pg_restore 18 or newer (postgres-version: 18), which leaves statistics out`,
      );
      return;
    }
    if (first && DECIDED_WHOLE.has(first)) {
      this.refuse(this.holdLine, `a ${first} statement longer than ${HOLD_LIMIT} bytes`);
      return;
    }
    this.holdAt = undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    this.lexer.write(chunk);
    if (this.problem) return done(this.problem);
    this.releaseLongStatement();
    if (this.problem) return done(this.problem);
    const end = this.pendingAt + this.pendingBytes();
    this.passUpTo(Math.min(this.holdAt ?? end, this.metaAt ?? end));
    this.flushOut(done);
  }

  override _flush(done: TransformCallback): void {
    this.lexer.end();
    const open = this.lexer.openConstruct();
    if (!this.problem && open)
      this.refuse(this.lexer.line, `the script ends inside ${open}: it is incomplete`);
    if (this.problem) return done(this.problem);
    this.passUpTo(this.pendingAt + this.pendingBytes());
    this.flushOut(done);
  }

  private flushOut(done: TransformCallback): void {
    const out = this.out;
    this.out = [];
    done(null, out.length === 0 ? undefined : out.length === 1 ? out[0] : Buffer.concat(out));
  }

  /** Newlines read so far: the output has as many (a dropped statement keeps its line breaks). */
  get lines(): number {
    return this.lexer.line - 1;
  }

  /** What was dropped, e.g. `transaction_timeout (2×: lines 12, 40)`. */
  summary(): string[] {
    return [...this.filtered].map(([name, n]) => {
      const at = this.filteredLines.get(name) ?? [];
      const more = n > at.length ? ', …' : '';
      return `${name} (${n}×: line${at.length > 1 ? 's' : ''} ${at.join(', ')}${more})`;
    });
  }
}
