import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { PgferryError } from '../errors.js';
import { splitIdentifiers } from './copy-text.js';
import { parseRowFilter, type RowFilter } from './row-filters.js';
import {
  makeTransform,
  needsKey,
  TRANSFORMER_NAMES,
  type Transform,
  type TransformerName,
  type TransformerSpec,
} from './transformers.js';

/**
 * The masking rules file (`masking-rules`), YAML or JSON (JSON is YAML):
 *
 *     columns:
 *       public.users.email: email
 *       public.users.id: { hash: { keep-format: true } }
 *     tables:
 *       public.audit_log: truncate
 *       public.events: { keep: { column: created_at, from: "2026-01-01" } }
 *       public.users: { sample: 10%, by: id }
 *
 * Every problem names the file, the line and the rule, and is found before anything touches a
 * target. Identifiers may be double-quoted as in SQL (`"My Schema".users."e-mail"`).
 */
export interface ColumnRule {
  schema: string;
  table: string;
  column: string;
  spec: TransformerSpec;
  transform: Transform;
  /** Where the rule is written, for messages: `rules.yml, line 3 (public.users.email)`. */
  where: string;
}

export interface MaskingRules {
  file: string;
  /** By `schema\0table`, the column rules of that table. */
  tables: Map<string, ColumnRule[]>;
  /** Tables whose rows are all left out (`truncate`), by `schema\0table`, with where they are written. */
  truncated: Map<string, string>;
  /** Tables whose rows are kept only when their filter holds (row-filters.ts), by `schema\0table`. */
  filters: Map<string, TableFilter>;
}

export interface TableFilter extends RowFilter {
  schema: string;
  table: string;
  /** Where the rule is written, for messages. */
  where: string;
}

export const tableKey = (schema: string, table: string): string => `${schema}\0${table}`;

export const MASKING_KEY_VARIABLE = 'PGFERRY_MASKING_KEY';

export async function loadMaskingRules(file: string, key: string | undefined): Promise<MaskingRules> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new PgferryError(
      `masking-rules: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      {
        code: 'input',
      },
    );
  }
  return parseMaskingRules(text, file, key);
}

class RulesProblem extends PgferryError {
  constructor(file: string, line: number, rule: string, why: string) {
    super(`masking-rules: ${file}, line ${line}${rule ? ` (${rule})` : ''}: ${why}`, { code: 'input' });
  }
}

export function parseMaskingRules(text: string, file: string, key: string | undefined): MaskingRules {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const lineOf = (node: Node | null | undefined): number => lines.linePos(node?.range?.[0] ?? 0).line;
  const [firstError] = doc.errors;
  if (firstError) {
    const line = lines.linePos(firstError.pos[0]).line;
    throw new RulesProblem(file, line, '', `not valid YAML or JSON: ${firstError.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root))
    throw new RulesProblem(file, lineOf(root), '', 'expected a mapping with `columns:` and/or `tables:`');
  const rules: MaskingRules = { file, tables: new Map(), truncated: new Map(), filters: new Map() };
  const keyBytes = key ? Buffer.from(key, 'utf8') : undefined;
  for (const pair of root.items as Pair<Node, Node>[]) {
    const section = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!isMap(pair.value))
      throw new RulesProblem(file, lineOf(pair.key), section, 'expected a mapping of names to rules');
    for (const item of pair.value.items as Pair<Node, Node>[]) {
      const name = isScalar(item.key) ? String(item.key.value) : '';
      const at = { file, line: lineOf(item.key), rule: name };
      if (section === 'columns') addColumn(rules, at, item.value, keyBytes);
      else if (section === 'tables') addTable(rules, at, item.value, keyBytes, lineOf);
      else
        throw new RulesProblem(
          file,
          lineOf(pair.key),
          section,
          'unknown section; expected `columns` or `tables`',
        );
    }
  }
  return rules;
}

interface At {
  file: string;
  line: number;
  rule: string;
}

const problem = (at: At, why: string): RulesProblem => new RulesProblem(at.file, at.line, at.rule, why);

function names(at: At, count: number): string[] {
  let parts: string[];
  try {
    parts = splitIdentifiers(at.rule);
  } catch (e) {
    throw problem(at, (e as Error).message);
  }
  if (parts.length !== count || parts.some((p) => p === ''))
    throw problem(at, `expected ${count === 3 ? 'schema.table.column' : 'schema.table'}`);
  return parts;
}

function addColumn(rules: MaskingRules, at: At, value: Node | null, key: Buffer | undefined): void {
  const [schema, table, column] = names(at, 3) as [string, string, string];
  const spec = readSpec(at, value);
  if (needsKey(spec.name) && !key)
    throw problem(
      at,
      `the ${spec.name} transformer needs a secret key in the environment variable PGFERRY_MASKING_KEY`,
    );
  const list = rules.tables.get(tableKey(schema, table)) ?? [];
  if (list.some((r) => r.column === column)) throw problem(at, 'a second rule for the same column');
  const where = `${at.file}, line ${at.line} (${at.rule})`;
  list.push({ schema, table, column, spec, transform: makeTransform(spec, key), where });
  rules.tables.set(tableKey(schema, table), list);
}

function addTable(
  rules: MaskingRules,
  at: At,
  value: Node | null,
  key: Buffer | undefined,
  lineOf: (node: Node | null | undefined) => number,
): void {
  const [schema, table] = names(at, 2) as [string, string];
  const id = tableKey(schema, table);
  if (rules.truncated.has(id) || rules.filters.has(id)) throw problem(at, 'a second rule for the same table');
  const where = `${at.file}, line ${at.line} (${at.rule})`;
  if (isScalar(value) && value.value === 'truncate') return void rules.truncated.set(id, where);
  if (!isMap(value))
    throw problem(
      at,
      'a table rule is `truncate` (leave every row out) or a row filter: { keep: { column: c, from: x } } or { sample: 10%, by: c }',
    );
  // A problem inside a multi-line filter names the line it is on.
  const fail = (node: Node | null | undefined, why: string): RulesProblem =>
    new RulesProblem(at.file, node?.range ? lineOf(node) : at.line, at.rule, why);
  rules.filters.set(id, { schema, table, where, ...parseRowFilter(value, fail, key) });
}

/** `email` or `{ hash: { keep-format: true } }`. */
function readSpec(at: At, value: Node | null): TransformerSpec {
  let name: string;
  let options: Record<string, unknown> = {};
  if (isScalar(value)) name = String(value.value);
  else if (isMap(value) && value.items.length === 1) {
    const pair = value.items[0] as Pair<Node, Node>;
    name = isScalar(pair.key) ? String(pair.key.value) : '';
    const raw: unknown = pair.value && 'toJSON' in pair.value ? pair.value.toJSON() : pair.value;
    if (isScalar(pair.value) || raw === null) options = { value: raw };
    else if (raw && typeof raw === 'object' && !Array.isArray(raw)) options = raw as Record<string, unknown>;
    else throw problem(at, `the options of ${name} must be a mapping`);
  } else
    throw problem(at, 'expected a transformer name, or a mapping of one transformer name to its options');
  if (!(TRANSFORMER_NAMES as readonly string[]).includes(name))
    throw problem(
      at,
      `unknown transformer ${JSON.stringify(name)}; expected one of ${TRANSFORMER_NAMES.join(', ')}`,
    );
  return specOptions(at, name as TransformerName, options);
}

const ALLOWED: Readonly<Record<TransformerName, readonly string[]>> = {
  null: [],
  keep: [],
  email: [],
  name: [],
  phone: [],
  uuid: [],
  constant: ['value'],
  hash: ['keep-format', 'length'],
  shift: ['by', 'days'],
  range: ['min', 'max'],
  regex: ['pattern', 'flags', 'replace'],
};

function specOptions(at: At, name: TransformerName, o: Record<string, unknown>): TransformerSpec {
  const unknown = Object.keys(o).filter(
    (k) => !ALLOWED[name].includes(k) && !(k === 'value' && o[k] === null),
  );
  if (unknown.length)
    throw problem(at, `${name} takes ${ALLOWED[name].join(', ') || 'no options'}, not ${unknown.join(', ')}`);
  const spec: TransformerSpec = { name };
  const num = (k: string): number | undefined => {
    if (o[k] === undefined) return undefined;
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k]) || o[k] < 0)
      throw problem(at, `${k} must be a number ≥ 0`);
    return o[k];
  };
  if (name === 'constant') spec.value = o.value === null || o.value === undefined ? null : String(o.value);
  if (name === 'hash') {
    spec.keepFormat = o['keep-format'] === true;
    spec.length = num('length');
  }
  if (name === 'shift') spec.by = num('by') ?? num('days') ?? 0;
  if (name === 'range') {
    if (o.min === undefined || o.max === undefined) throw problem(at, 'range needs min and max');
    spec.min = String(o.min instanceof Date ? o.min.toISOString() : o.min);
    spec.max = String(o.max instanceof Date ? o.max.toISOString() : o.max);
  }
  if (name === 'regex') spec.pattern = compile(at, o);
  if (name === 'regex') spec.replace = String(o.replace ?? '');
  return spec;
}

function compile(at: At, o: Record<string, unknown>): RegExp {
  if (typeof o.pattern !== 'string') throw problem(at, 'regex needs a pattern (a string)');
  const flags = typeof o.flags === 'string' ? o.flags : '';
  try {
    return new RegExp(o.pattern, flags.includes('g') ? flags : flags + 'g');
  } catch (e) {
    throw problem(at, `the regex does not compile: ${(e as Error).message}`);
  }
}

/** Column rules that name a column the archive's table does not have, or a table it does not have. */
export function checkRulesAgainst(
  rules: MaskingRules,
  tableColumns: Map<string, string[]>,
  where = 'the archive',
): void {
  for (const [key, list] of rules.tables) {
    const columns = tableColumns.get(key);
    for (const rule of list) {
      if (!columns)
        throw new PgferryError(
          `masking-rules: ${rule.where}: the table ${rule.schema}.${rule.table} is not in ${where}`,
          { code: 'input' },
        );
      if (!columns.includes(rule.column))
        throw new PgferryError(
          `masking-rules: ${rule.where}: the table ${rule.schema}.${rule.table} has no column ${rule.column} (it has ${columns.join(', ')})`,
          { code: 'input' },
        );
    }
  }
  for (const [key, at] of rules.truncated)
    if (!tableColumns.has(key))
      throw new PgferryError(`masking-rules: ${at}: this table is not in ${where}`, { code: 'input' });
  for (const [key, filter] of rules.filters) {
    const columns = tableColumns.get(key);
    const name = `${filter.schema}.${filter.table}`;
    if (!columns)
      throw new PgferryError(`masking-rules: ${filter.where}: the table ${name} is not in ${where}`, {
        code: 'input',
      });
    const missing = filter.conditions.find((c) => !columns.includes(c.column));
    if (missing)
      throw new PgferryError(
        `masking-rules: ${filter.where}: the table ${name} has no column ${missing.column} (it has ${columns.join(', ')})`,
        { code: 'input' },
      );
  }
}
