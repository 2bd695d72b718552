import type { PgVersion } from './version.js';

/** What the script filter does with one whole statement. */
export type StatementVerdict =
  | { action: 'pass'; standardStrings?: boolean }
  | { action: 'drop'; name: string }
  | { action: 'transaction' }
  | { action: 'refuse'; why: string };

/** Session settings pg_dump/pg_restore emit, with the first server major that knows them. */
const SETTING_SINCE: Readonly<Record<string, number>> = {
  transaction_timeout: 17,
  default_toast_compression: 14,
  default_table_access_method: 12,
};

/** Statements that begin, end or split a transaction. */
const TRANSACTION_WORDS = new Set([
  'BEGIN',
  'COMMIT',
  'END',
  'ROLLBACK',
  'ABORT',
  'START',
  'SAVEPOINT',
  'RELEASE',
]);

/** Statements only decided whole: one of them too long to hold is refused, never streamed. */
export const DECIDED_WHOLE: ReadonlySet<string> = new Set([...TRANSACTION_WORDS, 'PREPARE', 'SET', 'RESET']);

/**
 * psql variables whose values come from the connection (a database or user name can hold `;`):
 * `:DBNAME` in a script would put them into the SQL unquoted.
 */
export const UNSAFE_VARIABLES: ReadonlySet<string> = new Set([
  'DBNAME',
  'USER',
  'HOST',
  'HOSTADDR',
  'PORT',
  'SERVICE',
]);

/**
 * Client-only encodings, in which a multibyte character may end in the byte of `\` or `'`: psql lexes
 * them differently, so the filter could no longer see statements where psql does.
 */
const UNSAFE_ENCODING =
  /^(sjis|shift_?jis(_2004)?|mskanji|big5|gbk|gb18030|uhc|win(932|936|949|950)|cp(932|936|949|950))$/i;

interface Rules {
  targetServer: PgVersion;
  singleTransaction?: boolean;
  /** A user's own SQL (sql-after, sanitize): even a bare `BEGIN;` / `COMMIT;` is refused, not left out. */
  refuseAllTransactionControl?: boolean;
}

function unquote(value: string): string {
  const v = value.trim();
  return v.startsWith("'") && v.endsWith("'") && v.length >= 2 ? v.slice(1, -1) : v;
}

/** `SET [SESSION|LOCAL] name {=|TO} value;` → name and value. */
function setStatement(text: string): { name: string; value: string } | undefined {
  const m =
    /^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*(?:=|\s+TO\s)\s*([\s\S]*?)\s*;?\s*$/i.exec(
      text,
    );
  return m ? { name: (m[1] ?? '').toLowerCase(), value: m[2] ?? '' } : undefined;
}

/** `SELECT [pg_catalog.]set_config('name', 'value', false);` → name and value. */
function setConfigCall(text: string): { name: string; value: string } | undefined {
  const m =
    /^\s*SELECT\s+(?:pg_catalog\s*\.\s*)?set_config\s*\(\s*'([A-Za-z_][A-Za-z0-9_.]*)'\s*,\s*'([^']*)'\s*,\s*(?:false|true)\s*\)\s*;?\s*$/i.exec(
      text,
    );
  return m ? { name: (m[1] ?? '').toLowerCase(), value: m[2] ?? '' } : undefined;
}

function standardStringsValue(value: string): boolean | undefined {
  const v = unquote(value).toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return true;
  if (['off', 'false', 'no', '0'].includes(v)) return false;
  return undefined;
}

/** A session setting: dropped when the target server does not know it; kept lexable otherwise. */
function setting(name: string, value: string, rules: Rules): StatementVerdict {
  if ((SETTING_SINCE[name] ?? 0) > rules.targetServer.major) return { action: 'drop', name };
  if (name === 'standard_conforming_strings') {
    const on = standardStringsValue(value);
    if (on === undefined) return { action: 'refuse', why: `standard_conforming_strings is set to ${value}` };
    return { action: 'pass', standardStrings: on };
  }
  if (name === 'client_encoding' && UNSAFE_ENCODING.test(unquote(value)))
    return {
      action: 'refuse',
      why: `client_encoding ${unquote(value)} is a client-only encoding psql lexes differently`,
    };
  return { action: 'pass' };
}

/** pg_dump 18 restores planner statistics with functions older servers do not have. */
export const STATISTICS_SINCE = 18;

/** pg_dump 18's `SELECT * FROM pg_catalog.pg_restore_relation_stats(…)` (or _attribute_stats). */
export function isStatisticsCall(text: string): boolean {
  return /^\s*SELECT\s+\*\s+FROM\s+pg_catalog\.pg_restore_(relation|attribute)_stats\s*\(/.test(text);
}

/**
 * Decides one statement from its text (held only while short) and its first bare words. The text is
 * read as latin1: keywords and setting names are ASCII, and no byte is changed.
 */
export function classifyStatement(text: string, words: readonly string[], rules: Rules): StatementVerdict {
  const first = words[0];
  if (first && (TRANSACTION_WORDS.has(first) || (first === 'PREPARE' && words[1] === 'TRANSACTION'))) {
    if (!rules.singleTransaction) return { action: 'pass' };
    const bare = /^\s*(BEGIN|COMMIT|END)(\s+(WORK|TRANSACTION))?\s*;\s*$/i.test(text);
    if (bare && !rules.refuseAllTransactionControl) return { action: 'transaction' };
    return {
      action: 'refuse',
      why: `${words.slice(0, 2).join(' ')} is transaction control; pgferry runs the whole script in one transaction and commits it itself`,
    };
  }
  if (first === 'SET') {
    const set = setStatement(text);
    return set ? setting(set.name, set.value, rules) : { action: 'pass' };
  }
  if (first === 'RESET') {
    if (/^\s*RESET\s+(ALL|standard_conforming_strings|client_encoding)\s*;/i.test(text))
      return { action: 'refuse', why: `${text.trim()} changes how psql reads the rest of the script` };
    return { action: 'pass' };
  }
  if (first === 'SELECT') {
    if (isStatisticsCall(text) && rules.targetServer.major < STATISTICS_SINCE)
      return { action: 'drop', name: 'statistics' };
    const call = setConfigCall(text);
    if (call) return setting(call.name, call.value, rules);
    if (/set_config\s*\(\s*'(standard_conforming_strings|client_encoding)'/i.test(text))
      return { action: 'refuse', why: 'set_config of standard_conforming_strings or client_encoding' };
  }
  return { action: 'pass' };
}
