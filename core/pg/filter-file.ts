import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';

/**
 * A pg_dump `--filter` file (PostgreSQL 17+): one `include|exclude <kind> <pattern>` per line, `#`
 * comments and blank lines allowed. Read and checked when the options are parsed, so a missing file
 * or a line pg_dump would refuse stops the run before anything is provisioned or written; for older
 * clients the lines that have a flag of their own are translated to it.
 */
export interface FilterRule {
  line: number;
  action: 'include' | 'exclude';
  kind: FilterKind;
  /** As written (quotes kept): pg_dump reads the same pattern syntax on its command line. */
  pattern: string;
}

export interface FilterFile {
  /** Absolute, so the tool finds it whatever its working directory. */
  path: string;
  rules: FilterRule[];
}

const KINDS = [
  'extension',
  'foreign_data',
  'table',
  'table_and_children',
  'table_data',
  'table_data_and_children',
  'schema',
] as const;
type FilterKind = (typeof KINDS)[number];

/** What pg_dump itself refuses in a filter file (its filter_object_type checks). */
const DUMP_REFUSES: ReadonlyArray<readonly [FilterRule['action'], FilterKind]> = [
  ['include', 'table_data'],
  ['include', 'table_data_and_children'],
  ['exclude', 'foreign_data'],
];

const INPUT = 'filter';

export function readFilterFile(raw: string | undefined): FilterFile | undefined {
  if (raw === undefined) return undefined;
  const file = path.resolve(raw);
  let text: string;
  try {
    if (!statSync(file).isFile())
      throw new InputError(INPUT, `${raw} is not a file; expected a pg_dump filter file`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(
      INPUT,
      `cannot read ${raw} (${(error as NodeJS.ErrnoException).code ?? 'error'}); expected a pg_dump filter file`,
    );
  }
  return { path: file, rules: parseFilterText(text, raw) };
}

export function parseFilterText(text: string, name = 'the filter file'): FilterRule[] {
  const rules: FilterRule[] = [];
  text.split(/\r?\n/).forEach((content, i) => {
    const line = i + 1;
    const trimmed = content.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^(\S+)\s+(\S+)\s+(\S.*)$/.exec(trimmed);
    const where = `${name}, line ${line}`;
    if (!m) {
      throw new InputError(INPUT, `${where}: expected "include|exclude <object kind> <pattern>"`);
    }
    const [, action = '', kind = '', rest = ''] = m;
    if (action !== 'include' && action !== 'exclude') {
      throw new InputError(INPUT, `${where}: "${action}" is neither include nor exclude`);
    }
    if (!(KINDS as readonly string[]).includes(kind)) {
      throw new InputError(
        INPUT,
        `${where}: "${kind}" is not an object kind; expected one of ${KINDS.join(', ')}`,
      );
    }
    const pattern = patternOf(rest, where);
    const rule: FilterRule = { line, action, kind: kind as FilterKind, pattern };
    if (DUMP_REFUSES.some(([a, k]) => a === action && k === kind)) {
      throw new InputError(INPUT, `${where}: pg_dump cannot ${action} ${kind}`);
    }
    rules.push(rule);
  });
  return rules;
}

/** The pattern, then at most a comment; a double-quoted part may hold spaces and "" for a quote. */
function patternOf(rest: string, where: string): string {
  let i = 0;
  let quoted = false;
  for (; i < rest.length; i++) {
    const c = rest.charAt(i);
    if (c === '"') {
      if (quoted && rest.charAt(i + 1) === '"') i++;
      else quoted = !quoted;
    } else if (!quoted && /\s/.test(c)) break;
  }
  if (quoted) throw new InputError(INPUT, `${where}: the pattern has an unterminated double quote`);
  const tail = rest.slice(i).trim();
  if (tail !== '' && !tail.startsWith('#')) {
    throw new InputError(
      INPUT,
      `${where}: unexpected text after the pattern; quote a pattern holding spaces`,
    );
  }
  return rest.slice(0, i);
}

/** Flags pg_dump before 17 has for a rule: the translation, or undefined when there is none. */
function flagFor(rule: FilterRule, clientMajor: number): string | undefined {
  const p = rule.pattern;
  const key = `${rule.action} ${rule.kind}`;
  switch (key) {
    case 'include table':
      return `--table=${p}`;
    case 'exclude table':
      return `--exclude-table=${p}`;
    case 'include schema':
      return `--schema=${p}`;
    case 'exclude schema':
      return `--exclude-schema=${p}`;
    case 'exclude table_data':
      return `--exclude-table-data=${p}`;
    case 'include table_and_children':
      return clientMajor >= 16 ? `--table-and-children=${p}` : undefined;
    case 'exclude table_and_children':
      return clientMajor >= 16 ? `--exclude-table-and-children=${p}` : undefined;
    case 'exclude table_data_and_children':
      return clientMajor >= 16 ? `--exclude-table-data-and-children=${p}` : undefined;
    case 'include extension':
      return clientMajor >= 14 ? `--extension=${p}` : undefined;
    case 'include foreign_data':
      return `--include-foreign-data=${p}`;
    default:
      return undefined;
  }
}

/** pg_dump's arguments for a filter file: `--filter` from 17 on, translated flags before. */
export function filterFileArgs(filter: FilterFile | undefined, clientMajor: number): string[] {
  if (filter === undefined) return [];
  if (clientMajor >= 17) return [`--filter=${filter.path}`];
  return filter.rules.map((rule) => {
    const flag = flagFor(rule, clientMajor);
    if (flag === undefined) {
      throw new InputError(
        INPUT,
        `line ${rule.line} (${rule.action} ${rule.kind}) has no equivalent in pg_dump ${clientMajor}, which has no --filter (PostgreSQL 17+); use a PostgreSQL 17+ client or drop the line`,
      );
    }
    return flag;
  });
}
