import { isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { splitIdentifiers } from './copy-text.js';
import { keyedDigest } from './transformers.js';

/**
 * Row filters of the masking rules file, under `tables:`: which rows of a table reach the target.
 *
 *     public.events: { keep: { column: created_at, from: "2026-01-01", until: "2026-02-01" } }
 *     public.users:  { sample: 10%, by: id }
 *     public.orders: { sample: 10%, by: user_id }
 *
 * A row is kept when every condition holds. Conditions read the source value (before any column
 * rule masks it) in its COPY text form, the way pg_dump prints it. A sample is decided by a keyed
 * digest of the `by` value alone, so the same value is kept or left out in every table and run
 * with the same key: sampling a parent by its key and a child by its foreign key keeps exactly the
 * children of the kept parents.
 */
export interface RowFilter {
  conditions: Condition[];
  /** For the report: `keep created_at from 2026-01-01; sample 10% by id`. */
  describe: string;
}

export interface Condition {
  column: string;
  /** Whether a row whose field of `column` holds this value (null: SQL NULL) is kept. */
  keeps: (value: string | null) => boolean;
}

/** How a parse problem is raised: at the line of the node that is wrong. */
export type Fail = (node: Node | null | undefined, why: string) => Error;

const TABLE_KEYS = ['keep', 'sample', 'by'];
const KEEP_KEYS = ['column', 'from', 'until', 'equals', 'in', 'matches', 'null'];

/** A table rule that is a mapping: `{ keep: …, sample: …, by: … }`. */
export function parseRowFilter(value: Node, fail: Fail, key: Buffer | undefined): RowFilter {
  const fields = mapping(value, fail, TABLE_KEYS, 'a table rule');
  const conditions: Condition[] = [];
  const said: string[] = [];
  const keep = fields.get('keep');
  if (keep) {
    const list = isSeq(keep.value) ? (keep.value.items as Node[]) : [keep.value];
    if (list.length === 0) throw fail(keep.value, 'keep needs at least one condition');
    for (const item of list) {
      const c = parseKeep(item, fail);
      conditions.push(c.condition);
      said.push(`keep ${c.describe}`);
    }
  }
  const sample = fields.get('sample');
  const by = fields.get('by');
  if (sample || by) {
    if (!sample) throw fail(by?.key, 'by names the column a sample is decided on; add sample: a percentage');
    if (!by) throw fail(sample.key, 'sample needs by: the column whose value decides which rows are kept');
    const percent = parsePercent(sample.value, fail);
    const column = columnName(by.value, fail, 'by');
    if (!key)
      throw fail(
        sample.key,
        'a sample needs a secret key in the environment variable PGFERRY_MASKING_KEY (it decides which rows are kept)',
      );
    conditions.push({ column, keeps: sampler(key, percent) });
    said.push(`sample ${percent}% by ${shown(column)}`);
  }
  if (conditions.length === 0)
    throw fail(value, 'expected `truncate`, or a row filter with keep and/or sample and by');
  return { conditions, describe: said.join('; ') };
}

/**
 * Kept when the keyed digest of the value, read as a fraction of 2^48, is below the percentage:
 * a pure function of (key, value, percentage), and a smaller percentage keeps a subset of a larger
 * one. A NULL value belongs to no kept parent, so its row is left out.
 */
export function sampler(key: Buffer, percent: number): (value: string | null) => boolean {
  const threshold = (percent / 100) * 2 ** 48;
  // A foreign key repeats its values: the decisions on short ones are remembered, in bounded memory.
  const known = new Map<string, boolean>();
  return (value) => {
    if (value === null) return false;
    let kept = known.get(value);
    if (kept === undefined) {
      kept = keyedDigest(key, 'sample', value).readUIntBE(0, 6) < threshold;
      if (known.size >= SAMPLE_MEMORY) known.clear();
      if (value.length <= 64) known.set(value, kept);
    }
    return kept;
  };
}

const SAMPLE_MEMORY = 100_000;

function parseKeep(node: Node | null, fail: Fail): { condition: Condition; describe: string } {
  const fields = mapping(node, fail, KEEP_KEYS, 'a keep condition');
  const columnPair = fields.get('column');
  if (!columnPair) throw fail(node, 'a keep condition needs column: the column it reads');
  const column = columnName(columnPair.value, fail, 'column');
  const tests: ((v: string) => boolean)[] = [];
  const said: string[] = [shown(column)];
  const bound = (name: string): string | undefined => {
    const pair = fields.get(name);
    if (!pair) return undefined;
    const text = scalarText(pair.value, fail, name);
    said.push(`${name} ${shown(text)}`);
    return text;
  };
  const from = bound('from');
  if (from !== undefined) {
    const compare = comparerTo(from);
    tests.push((v) => compare(v) >= 0);
  }
  const until = bound('until');
  if (until !== undefined) {
    const compare = comparerTo(until);
    tests.push((v) => compare(v) < 0);
  }
  const equals = bound('equals');
  if (equals !== undefined) {
    const compare = comparerTo(equals);
    tests.push((v) => compare(v) === 0);
  }
  const inPair = fields.get('in');
  if (inPair) {
    if (!isSeq(inPair.value) || inPair.value.items.length === 0)
      throw fail(inPair.value ?? inPair.key, 'in needs a list of at least one value, e.g. [a, b]');
    const values = (inPair.value.items as Node[]).map((n) => scalarText(n, fail, 'in'));
    const compares = values.map(comparerTo);
    tests.push((v) => compares.some((compare) => compare(v) === 0));
    said.push(`in [${values.map(shown).join(', ')}]`);
  }
  const matchesPair = fields.get('matches');
  if (matchesPair) {
    const pattern = scalarText(matchesPair.value, fail, 'matches');
    let re: RegExp;
    try {
      re = new RegExp(pattern, 'u');
    } catch (e) {
      throw fail(matchesPair.value, `the regex of matches does not compile: ${(e as Error).message}`);
    }
    tests.push((v) => re.test(v));
    said.push(`matches ${shown(pattern)}`);
  }
  const nullPair = fields.get('null');
  let wantNull: boolean | undefined;
  if (nullPair) {
    const v = isScalar(nullPair.value) ? nullPair.value.value : undefined;
    if (typeof v !== 'boolean')
      throw fail(
        nullPair.value ?? nullPair.key,
        'null must be true (keep NULLs only) or false (leave them out)',
      );
    if (v && tests.length)
      throw fail(
        nullPair.key,
        'null: true keeps only NULLs, which no other condition of the same keep holds',
      );
    wantNull = v;
    said.push(`null ${v}`);
  }
  if (!tests.length && wantNull === undefined)
    throw fail(node, 'a keep condition needs one of from, until, equals, in, matches, null');
  const keeps = (value: string | null): boolean =>
    value === null ? wantNull === true : wantNull !== true && tests.every((t) => t(value));
  return { condition: { column, keeps }, describe: said.join(' ') };
}

/** A value of the rules as the report shows it: quoted when it could blur or break the line. */
const shown = (text: string): string =>
  text === '' || text.trim() !== text || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp},;[\]"]/u.test(text)
    ? JSON.stringify(text)
    : text;

function mapping(
  node: Node | null,
  fail: Fail,
  allowed: string[],
  what: string,
): Map<string, Pair<Node, Node>> {
  if (!isMap(node)) throw fail(node, `${what} must be a mapping of ${allowed.join(', ')}`);
  const fields = new Map<string, Pair<Node, Node>>();
  for (const pair of node.items as Pair<Node, Node>[]) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!allowed.includes(name))
      throw fail(pair.key, `unknown key ${JSON.stringify(name)} in ${what}; expected ${allowed.join(', ')}`);
    fields.set(name, pair);
  }
  return fields;
}

/** A bound as the user wrote it (`007` stays `007`), to compare with COPY text. */
function scalarText(node: Node | null, fail: Fail, name: string): string {
  if (!isScalar(node) || node.value === null || typeof node.value === 'object')
    throw fail(node, `${name} must be a single value (a string or a number; use null: true for NULL)`);
  return typeof node.source === 'string' ? node.source : String(node.value);
}

/** A column name, bare (`created_at`, taken as written) or double-quoted as in SQL (`"e-mail"`). */
function columnName(node: Node | null, fail: Fail, name: string): string {
  const text = isScalar(node) && typeof node.value === 'string' ? node.value : '';
  if (text === '') throw fail(node, `${name} must name a column`);
  if (!text.startsWith('"')) return text;
  let parts: string[];
  try {
    parts = splitIdentifiers(text);
  } catch (e) {
    throw fail(node, (e as Error).message);
  }
  if (parts.length !== 1 || parts[0] === '') throw fail(node, `${name} must name one column`);
  return parts[0] as string;
}

function parsePercent(node: Node | null, fail: Fail): number {
  const text = isScalar(node) ? String(node.value) : '';
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%\s*$/.exec(text);
  const percent = m ? Number(m[1]) : NaN;
  if (!(percent > 0 && percent <= 100))
    throw fail(
      node,
      `sample must be a percentage more than 0% and at most 100%, written with %, e.g. 10% (not ${JSON.stringify(text)})`,
    );
  return percent;
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const ISO =
  /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?$/;

/**
 * How a field's COPY text compares with a bound: numbers numerically when both are numbers
 * (exactly for plain decimals, so bigint ids beyond 2^53 compare right), ISO dates and timestamps
 * by their text when both are ISO (`T` read as a space, so a date is the start of its day), else
 * text by Unicode code point (PostgreSQL's C collation, not the database's).
 */
export function compareCopyText(a: string, b: string): number {
  return comparerTo(b)(a);
}

/** compareCopyText(value, bound), with what kind of value the bound is read once, not per row. */
export function comparerTo(bound: string): (value: string) => number {
  const float = FLOAT.test(bound);
  const decimal = float && DECIMAL.test(bound) ? decimalParts(bound) : undefined;
  const number = Number(bound);
  const iso = ISO.test(bound) ? isoText(bound) : undefined;
  return (a) => {
    if (float && FLOAT.test(a)) {
      if (decimal && DECIMAL.test(a)) return compareDecimal(decimalParts(a), decimal);
      return Math.sign(Number(a) - number);
    }
    if (iso !== undefined && ISO.test(a)) return compareCodePoints(isoText(a), iso);
    return compareCodePoints(a, bound);
  };
}

const isoText = (s: string): string => (s[10] === 'T' ? `${s.slice(0, 10)} ${s.slice(11)}` : s);

/** Code point order without encoding: UTF-16 order, but surrogates (code points above U+FFFF) last. */
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return Math.sign(a.length - b.length);
  const x = codePointRank(a.charCodeAt(i));
  const y = codePointRank(b.charCodeAt(i));
  return x < y ? -1 : 1;
}

const codePointRank = (unit: number): number =>
  unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit;

function compareDecimal(x: Decimal, y: Decimal): number {
  if (x.sign !== y.sign) return Math.sign(x.sign - y.sign);
  return x.sign * compareMagnitude(x, y);
}

interface Decimal {
  sign: number;
  int: string;
  frac: string;
}

function decimalParts(s: string): Decimal {
  const negative = s.startsWith('-');
  const [int = '', frac = ''] = s.replace(/^[+-]/, '').split('.');
  const i = int.replace(/^0+/, '');
  const f = frac.replace(/0+$/, '');
  return { sign: i === '' && f === '' ? 0 : negative ? -1 : 1, int: i, frac: f };
}

function compareMagnitude(x: { int: string; frac: string }, y: { int: string; frac: string }): number {
  if (x.int.length !== y.int.length) return Math.sign(x.int.length - y.int.length);
  if (x.int !== y.int) return x.int < y.int ? -1 : 1;
  const width = Math.max(x.frac.length, y.frac.length);
  const fx = x.frac.padEnd(width, '0');
  const fy = y.frac.padEnd(width, '0');
  return fx === fy ? 0 : fx < fy ? -1 : 1;
}
