import { Transform, type TransformCallback } from 'node:stream';
import { PgferryError } from '../errors.js';
import { decodeCopyField, encodeCopyField, parseCopyHeader } from './copy-text.js';
import { tableKey, type ColumnRule, type MaskingRules } from './rules.js';

/** Sees every masked value on its way (the leak check's tap): source and output, never stored raw. */
export type MaskTap = (rule: ColumnRule, source: string | null, output: string | null) => void;

/** A line longer than this that can hold nothing to mask streams on without being held whole. */
const HOLD_LIMIT = 64 * 1024;

/** How the script's bytes decode: the dump's client_encoding, as pg_dump sets it at the top. */
const ENCODINGS: Readonly<Record<string, BufferEncoding>> = {
  UTF8: 'utf8',
  LATIN1: 'latin1',
  SQL_ASCII: 'latin1',
};

interface Block {
  /** By field, the column rule of that field; empty when the table has none. */
  rules: (ColumnRule | undefined)[];
  /** The fields that have a rule, in order. */
  ruled: number[];
  skip: boolean;
  /** The row filter's conditions, each with the field it reads. */
  conditions: { field: number; keeps: (value: string | null) => boolean }[];
  fields: number;
}

/** Per table: rows rewritten by column rules, left out by `truncate`, kept, left out by a row filter. */
export interface TableRows {
  masked: number;
  truncated: number;
  kept: number;
  filtered: number;
  /** With a row filter: what it keeps, e.g. `sample 10% by id`. */
  filter?: string;
}

/**
 * Rewrites the COPY data of ruled tables in a SQL script (pg_restore -f -, a plain dump) line by
 * line, before the script reaches psql: rows of `truncate`d tables, and rows a row filter does
 * not keep, are left out (the filter reads the source values, before masking, and the tap sees
 * only kept rows), masked columns are transformed, everything else passes byte for byte. Memory
 * is bounded by the longest line of a ruled table. A COPY header is recognised only at a line start outside COPY data, as pg_dump
 * writes it, and data lines are only ever read inside such a block, so a row cannot end one.
 */
export class MaskingStream extends Transform {
  /** Rows rewritten, kept and left out, by `schema.table`, for the report (shared with `another()`'s). */
  readonly rows: Map<string, TableRows>;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private block: Block | undefined;
  /** Inside a COPY block of a table without rules. */
  private plainData = false;
  /** The rest of a long line that needs no rewriting is passing through. */
  private passing = false;
  private encoding: BufferEncoding | undefined = 'utf8';
  private encodingName = 'UTF8';
  private tableName = '';
  /** Field starts of the data line at hand (reused: one line is read at a time). */
  private bounds = new Int32Array(16);

  constructor(
    private readonly rules: MaskingRules,
    private readonly tap?: MaskTap,
    rows?: MaskingStream['rows'],
  ) {
    super();
    this.rows = rows ?? new Map();
  }

  /**
   * A stream of its own for another script of the same restore (a parallel worker's), masking with
   * the same rules into the same tap and counting into the same rows: each table is in one script.
   */
  another(): MaskingStream {
    return new MaskingStream(this.rules, this.tap, this.rows);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const out: Buffer[] = [];
    try {
      let from = 0;
      for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, from)) {
        this.hold(chunk.subarray(from, nl + 1), out);
        this.endLine(out);
        from = nl + 1;
      }
      if (from < chunk.length) this.hold(chunk.subarray(from), out);
    } catch (error) {
      return done(error as Error);
    }
    done(null, out.length ? Buffer.concat(out) : undefined);
  }

  override _flush(done: TransformCallback): void {
    if (this.block)
      return done(new PgferryError(`masking: the script ends inside the data of ${this.tableName}`));
    const out: Buffer[] = [];
    if (this.heldBytes) this.endLine(out);
    done(null, out.length ? Buffer.concat(out) : undefined);
  }

  private hold(part: Buffer, out: Buffer[]): void {
    if (this.passing) return void out.push(part);
    this.held.push(part);
    this.heldBytes += part.length;
    if (this.heldBytes > HOLD_LIMIT && !this.block) {
      const head = this.line().subarray(0, 5).toString('latin1');
      if (this.plainData || head !== 'COPY ') {
        out.push(this.line());
        this.held = [];
        this.heldBytes = 0;
        this.passing = true;
      }
    }
  }

  private line(): Buffer {
    if (this.held.length > 1) this.held = [Buffer.concat(this.held)];
    return this.held[0] ?? Buffer.alloc(0);
  }

  private endLine(out: Buffer[]): void {
    const line = this.line();
    this.held = [];
    this.heldBytes = 0;
    if (this.passing) {
      this.passing = false;
      return;
    }
    if (this.block || this.plainData) return this.dataLine(line, out);
    out.push(line);
    if (line.subarray(0, 5).toString('latin1') === 'COPY ') this.copyHeader(line);
    else if (line.subarray(0, 19).toString('latin1') === 'SET client_encoding') this.readEncoding(line);
  }

  private readEncoding(line: Buffer): void {
    const name = /'([^']*)'/.exec(line.toString('latin1'))?.[1] ?? '';
    this.encodingName = name;
    this.encoding = ENCODINGS[name.toUpperCase().replace(/[-_]/g, '')];
  }

  private copyHeader(line: Buffer): void {
    const header = parseCopyHeader(line.toString('utf8').replace(/\r?\n$/, ''));
    if (!header) return;
    const key = tableKey(header.schema, header.table);
    this.tableName = `${header.schema}.${header.table}`;
    const list = this.rules.tables.get(key);
    const skip = this.rules.truncated.has(key);
    const filter = this.rules.filters.get(key);
    if (!list && !skip && !filter) return void (this.plainData = true);
    if (!this.encoding && !skip)
      throw new PgferryError(
        `masking: the dump's encoding is ${this.encodingName}; masking reads UTF8, LATIN1 and SQL_ASCII dumps`,
      );
    const rules = list ? header.columns.map((c) => list.find((r) => r.column === c)) : [];
    const missing = list?.find((r) => !header.columns.includes(r.column));
    if (missing && !skip)
      throw new PgferryError(
        `masking-rules: ${missing.where}: the data of ${this.tableName} has no column ${missing.column}`,
        { code: 'input' },
      );
    // A table has one table rule: a filter, or truncate, never both.
    const conditions = (filter?.conditions ?? []).map((c) => {
      const field = header.columns.indexOf(c.column);
      if (field === -1)
        throw new PgferryError(
          `masking-rules: ${filter?.where}: the data of ${this.tableName} has no column ${c.column} (it has ${header.columns.join(', ')})`,
          { code: 'input' },
        );
      return { field, keeps: c.keeps };
    });
    const ruled = rules.flatMap((rule, i) => (rule ? [i] : []));
    this.block = { rules, ruled, skip, conditions, fields: header.columns.length };
    const counts: TableRows = { masked: 0, truncated: 0, kept: 0, filtered: 0 };
    if (filter) counts.filter = filter.describe;
    this.rows.set(this.tableName, counts);
  }

  private dataLine(line: Buffer, out: Buffer[]): void {
    const marker = line.length <= 3 ? line.toString('latin1') : '';
    if (marker === '\\.\n' || marker === '\\.') {
      this.block = undefined;
      this.plainData = false;
      return void out.push(line);
    }
    const block = this.block;
    if (!block) return void out.push(line);
    const counts = this.rows.get(this.tableName) as TableRows;
    if (block.skip) return void counts.truncated++;
    const end = line.at(-1) === 10 ? line.length - 1 : line.length;
    this.splitFields(line, end, block.fields);
    // The filter reads the source values; a row left out is never masked, so the leak check never sees it.
    for (const c of block.conditions)
      if (!c.keeps(decodeCopyField(this.fieldText(line, c.field)))) return void counts.filtered++;
    counts.kept++;
    if (!block.ruled.length) return void out.push(line);
    this.maskRow(line, block, out);
    counts.masked++;
  }

  /**
   * Where each field of a data line starts, into `bounds`: `bounds[i]`, and `bounds[fields]` one past the end
   * (each field ends one byte before the next starts). A tab byte is never part of a multibyte
   * character in the encodings read here, so the bytes split as the decoded text would.
   */
  private splitFields(line: Buffer, end: number, fields: number): void {
    if (this.bounds.length < fields + 1) this.bounds = new Int32Array(fields + 1);
    const bounds = this.bounds;
    let n = 1;
    for (let at = line.indexOf(9); at !== -1 && at < end; at = line.indexOf(9, at + 1)) {
      if (n < fields) bounds[n] = at + 1;
      n++;
    }
    if (n !== fields)
      throw new PgferryError(
        `masking: a row of ${this.tableName} has ${n} fields, its COPY names ${fields} columns`,
      );
    bounds[fields] = end + 1;
  }

  private fieldText(line: Buffer, i: number): string {
    return line.toString(this.encoding, this.bounds[i], (this.bounds[i + 1] as number) - 1);
  }

  /**
   * Only ruled fields are decoded and re-encoded; the bytes between them go out as they came, as
   * slices of the line (no copy of the row is made).
   */
  private maskRow(line: Buffer, block: Block, out: Buffer[]): void {
    const bounds = this.bounds;
    let from = 0;
    for (const i of block.ruled) {
      const rule = block.rules[i] as ColumnRule;
      const source = decodeCopyField(this.fieldText(line, i));
      const output = rule.transform(source);
      this.tap?.(rule, source, output);
      const start = bounds[i] as number;
      if (start > from) out.push(line.subarray(from, start));
      out.push(Buffer.from(encodeCopyField(output), this.encoding));
      from = (bounds[i + 1] as number) - 1;
    }
    out.push(line.subarray(from));
  }
}
