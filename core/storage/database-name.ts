import { InputError } from '../errors.js';

/**
 * The one rule for a database name that becomes a segment of backup keys
 * (`<prefix>/<database>/…/<database>-….dump`, `<prefix>/<database>/latest.json`) and the value of
 * a CloudWatch `Database` dimension. PostgreSQL accepts almost any name, but:
 * - a key segment must not carry `/` (another level), nor be `.` or `..` (a store or proxy that
 *   normalises paths would write outside the prefix), nor a NUL or another control character;
 * - a dimension value must be ASCII without control characters;
 * - S3 documents letters, digits and `! - _ . * ' ( )` as the characters that never need special
 *   handling.
 * So: ASCII letters, digits and `_ $ . -`, not starting with `.` or `-` (no dot segments, nothing
 * that reads as an option), at most 63 bytes (PostgreSQL's own limit). `$` stays because unquoted
 * PostgreSQL identifiers may hold it. Anything else is refused, never rewritten: two databases
 * must never end up under one escaped key.
 */
export const STORABLE_DATABASE_NAME_PATTERN = /^[A-Za-z0-9_$][A-Za-z0-9_$.-]{0,62}$/;

export const STORABLE_DATABASE_NAME =
  'ASCII letters, digits and _ $ . -, not starting with . or -, at most 63 characters';

/** Undefined when `name` may become a key segment and a metric dimension; else what is wrong. */
export function databaseNameProblem(name: string): string | undefined {
  if (STORABLE_DATABASE_NAME_PATTERN.test(name)) return undefined;
  // JSON quoting shows a NUL, a newline or a control character as an escape, never raw.
  return `database ${JSON.stringify(name)} cannot name backups in the bucket; expected ${STORABLE_DATABASE_NAME}`;
}

/** Throws an InputError naming `input` when `name` cannot become a key segment. */
export function checkStorableDatabaseName(name: string, input: string): string {
  const problem = databaseNameProblem(name);
  if (problem) throw new InputError(input, problem);
  return name;
}
