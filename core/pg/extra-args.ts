import { parse } from 'shell-quote';
import { InputError } from '../errors.js';
import type { ClientToolName } from './clients/tools.js';

/**
 * Splits `extra-args` into words the way a POSIX shell would (quotes, backslashes), without ever
 * running one. `$NAME` and `${NAME}` stay literal text; command substitution, unterminated quotes,
 * shell operators, globs and comments are refused rather than half-understood. The words are then
 * checked with {@link checkExtraArgs} for any of the tools.
 */
export function splitExtraArgs(raw: string | undefined, input = 'extra-args'): string[] {
  const text = (raw ?? '').trim();
  if (text === '') return [];
  const words: string[] = [];
  for (const entry of tokenize(prepare(text, input), input)) {
    if (typeof entry === 'string') words.push(entry);
    else if ('comment' in entry) {
      throw new InputError(input, '"#" starts a shell comment here; quote it to pass it literally');
    } else if (entry.op === 'glob') {
      throw new InputError(
        input,
        'an unquoted * or ? is a shell glob, which pgferry does not expand; quote the word to pass it literally',
      );
    } else {
      throw new InputError(
        input,
        `shell operator "${entry.op}" is not allowed: pgferry runs the tool directly, without a shell`,
      );
    }
  }
  checkExtraArgs(words, undefined, input);
  return words;
}

function tokenize(text: string, input: string) {
  try {
    // The env function only backs up prepare(), which has already escaped every `$` it should keep.
    return parse(text, (name): string => `$${name}`);
  } catch (error) {
    // shell-quote's own message quotes the input, which may hold a secret.
    throw new InputError(input, `cannot be split into words (${(error as Error).name})`);
  }
}

/**
 * Readies text for shell-quote, which would otherwise expand `$NAME` (losing `${}` braces), drop an
 * unterminated quote silently and take a backslash-escaped `*` for a glob. Tracks the quoting context
 * itself so that single-quoted text is left alone, as a shell would.
 */
function prepare(text: string, input: string): string {
  let out = '';
  let quote: '' | "'" | '"' | "$'" = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    const next = text.charAt(i + 1);
    if (quote === "'") {
      if (c === "'") quote = '';
      out += c;
      continue;
    }
    if (c === '\\') {
      if (i === text.length - 1) throw new InputError(input, 'ends with a lone backslash');
      // A backslash at the end of a line continues it, as in a shell script.
      const newline = /^\r?\n/.exec(text.slice(i + 1, i + 3));
      if (newline) {
        i += newline[0].length;
        continue;
      }
      out += quote === '' && (next === '*' || next === '?') ? `'${next}'` : c + next;
      i++;
      continue;
    }
    if (quote === "$'") {
      if (c === "'") quote = '';
      out += c;
      continue;
    }
    if (c === '`' || (c === '$' && next === '(')) {
      throw new InputError(
        input,
        'command substitution ($(…) or `…`) is not supported: pgferry never runs a shell; quote it with single quotes to pass it literally',
      );
    }
    if (c === '$') {
      if (quote === '' && next === "'") {
        // Bash's $'…' quoting, which shell-quote understands.
        quote = "$'";
        out += "$'";
        i++;
      } else {
        out += '\\$';
      }
      continue;
    }
    if (c === '"') quote = quote === '"' ? '' : '"';
    else if (c === "'" && quote === '') quote = "'";
    out += c;
  }
  if (quote !== '') {
    throw new InputError(input, `has an unterminated ${quote === '"' ? 'double' : 'single'} quote`);
  }
  return out;
}

/** An option pgferry sets itself, and why the caller may not. */
interface Reserved {
  short: string;
  long: string;
  why: string;
}

const CONNECTION = 'sets the connection, which pgferry takes from from/to; use from/to instead';

const RESERVED: readonly Reserved[] = [
  {
    short: 'W',
    long: 'password',
    why: 'makes the tool prompt for a password; pgferry passes it through the environment, so use from/to instead',
  },
  { short: 'd', long: 'dbname', why: CONNECTION },
  { short: 'h', long: 'host', why: CONNECTION },
  { short: 'p', long: 'port', why: CONNECTION },
  { short: 'U', long: 'username', why: CONNECTION },
  { short: 'f', long: 'file', why: 'names the file pgferry writes or reads itself' },
  { short: 'F', long: 'format', why: 'use the format input instead' },
  // Set by their own inputs: given twice, the tool would quietly take whichever came last.
  { short: 'Z', long: 'compress', why: 'use the compress input instead' },
  { short: 'j', long: 'jobs', why: 'use the jobs input instead' },
];

/** Options of pg_dump 17/18 that have inputs of their own (no short letter). */
const DUMP_INPUTS: readonly Reserved[] = [
  { short: '', long: 'statistics', why: 'use the statistics input instead' },
  { short: '', long: 'no-statistics', why: 'use statistics: false instead' },
  { short: '', long: 'filter', why: 'use the filter input instead' },
  { short: '', long: 'no-policies', why: 'use the no-policies input instead' },
  { short: '', long: 'sequence-data', why: 'use the sequence-data input instead' },
];
const RESTORE_INPUTS: readonly Reserved[] = [
  { short: '', long: 'transaction-size', why: 'use the transaction-size input instead' },
];

/** psql's -F is its field separator and it has no --format; pg_dumpall connects with -l/--database. */
const RESERVED_BY_TOOL: Readonly<Record<ClientToolName, readonly Reserved[]>> = {
  pg_dump: [...RESERVED, ...DUMP_INPUTS],
  pg_restore: [...RESERVED, ...RESTORE_INPUTS],
  psql: RESERVED.filter((r) => r.long !== 'format'),
  pg_dumpall: [...RESERVED, { short: 'l', long: 'database', why: CONNECTION }],
};

/** Short options that take a value, as in each tool's getopt string (PostgreSQL 12 to 18). */
const VALUE_LETTERS: Readonly<Record<ClientToolName, string>> = {
  pg_dump: 'deEfFhjnNpStTUZ',
  pg_restore: 'dfFhIjLnNpPStTU',
  psql: 'cdfFhLopPRTUv',
  pg_dumpall: 'dEfhlpSU',
};

/** Long options that take a value (PostgreSQL 12 to 18). */
const VALUE_LONG: Readonly<Record<ClientToolName, readonly string[]>> = {
  pg_dump: [
    'compress',
    'dbname',
    'encoding',
    'exclude-extension',
    'exclude-schema',
    'exclude-table',
    'exclude-table-and-children',
    'exclude-table-data',
    'exclude-table-data-and-children',
    'extension',
    'extra-float-digits',
    'file',
    'filter',
    'format',
    'host',
    'include-foreign-data',
    'jobs',
    'lock-wait-timeout',
    'port',
    'restrict-key',
    'role',
    'rows-per-insert',
    'schema',
    'section',
    'snapshot',
    'superuser',
    'sync-method',
    'table',
    'table-and-children',
    'username',
  ],
  pg_restore: [
    'dbname',
    'exclude-schema',
    'file',
    'filter',
    'format',
    'function',
    'host',
    'index',
    'jobs',
    'port',
    'restrict-key',
    'role',
    'schema',
    'section',
    'superuser',
    'table',
    'transaction-size',
    'trigger',
    'use-list',
    'username',
  ],
  psql: [
    'command',
    'dbname',
    'field-separator',
    'file',
    'host',
    'log-file',
    'output',
    'port',
    'pset',
    'record-separator',
    'set',
    'table-attr',
    'username',
    'variable',
  ],
  pg_dumpall: [
    'database',
    'dbname',
    'encoding',
    'exclude-database',
    'extra-float-digits',
    'file',
    'filter',
    'host',
    'lock-wait-timeout',
    'port',
    'restrict-key',
    'role',
    'rows-per-insert',
    'superuser',
    'username',
  ],
};

/** What each tool makes of a word that is neither an option nor an option's value. */
const POSITIONAL: Readonly<Record<ClientToolName, string>> = {
  pg_dump: 'the database to dump',
  pg_restore: 'the archive to restore',
  psql: 'a database or user name',
  pg_dumpall: 'a stray argument',
};

interface Rules {
  reserved: readonly Reserved[];
  valueLetters: string;
  valueLong: ReadonlySet<string>;
  positional: string;
}

/** Without a tool, any tool's reading counts: stricter on reserved options, looser on values. */
const ANY_TOOL: Rules = {
  reserved: RESERVED,
  valueLetters: [...new Set(Object.values(VALUE_LETTERS).join(''))].join(''),
  valueLong: new Set(Object.values(VALUE_LONG).flat()),
  positional: 'the database name or archive path',
};

function rulesFor(tool: ClientToolName | undefined): Rules {
  if (tool === undefined) return ANY_TOOL;
  return {
    reserved: RESERVED_BY_TOOL[tool],
    valueLetters: VALUE_LETTERS[tool],
    valueLong: new Set(VALUE_LONG[tool]),
    positional: POSITIONAL[tool],
  };
}

/**
 * Checks extra arguments for one tool (or, without a tool, for whichever reads them most dangerously):
 * refuses the options pgferry controls, including getopt's abbreviations (`--user`) and bundled short
 * options (`-vW`), and any word the tool would take as a positional argument, which for pg_dump and psql
 * is a database name or connection string. Messages name options, never values, which may be secrets.
 */
export function checkExtraArgs(args: readonly string[], tool?: ClientToolName, input = 'extra-args'): void {
  const rules = rulesFor(tool);
  let pending: string | undefined;
  args.forEach((arg, index) => {
    // Checked even when the word is a value: refusing an odd value beats missing a hidden option.
    const awaitsValue = arg === '--' ? undefined : inspectOption(arg, rules, input);
    if (pending !== undefined) {
      pending = undefined;
      return;
    }
    if (arg === '--') {
      throw new InputError(
        input,
        `"--" ends the options, so later words would be read as ${rules.positional}`,
      );
    }
    if (awaitsValue === undefined) {
      throw new InputError(
        input,
        `word ${index + 1} is neither an option nor an option's value, so ${tool ?? 'the tool'} would read it as ${rules.positional}; attach values to their options (--table=name, -tname) and set the connection with from/to`,
      );
    }
    if (awaitsValue) pending = arg;
  });
  if (pending !== undefined) throw new InputError(input, `${pending} at the end is missing its value`);
}

/**
 * Throws on a reserved option; otherwise returns whether the option takes the next word as its value,
 * or undefined when the word is not an option at all.
 */
function inspectOption(arg: string, rules: Rules, input: string): boolean | undefined {
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    // getopt_long accepts any unambiguous prefix of a long option name.
    const reserved = rules.reserved.find((r) => name !== '' && r.long.startsWith(name));
    if (reserved) refuse(reserved, input);
    return eq < 0 && rules.valueLong.has(name);
  }
  if (arg.startsWith('-') && arg.length > 1) {
    // A bundle of short options; the first one taking a value swallows the rest of the word.
    for (let i = 1; i < arg.length; i++) {
      const letter = arg.charAt(i);
      const reserved = rules.reserved.find((r) => r.short === letter);
      if (reserved) refuse(reserved, input);
      if (rules.valueLetters.includes(letter)) return i === arg.length - 1;
    }
    return false;
  }
  return undefined;
}

function refuse(option: Reserved, input: string): never {
  const names = option.short === '' ? `--${option.long}` : `-${option.short}/--${option.long}`;
  throw new InputError(input, `${names} ${option.why}`);
}
