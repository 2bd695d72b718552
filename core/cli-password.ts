import type { ParsedArgs } from './cli-args.js';
import { parseConnection } from './pg/connection.js';

/** The inputs that may name a database, hence carry a password. */
const DATABASE_FLAGS = ['from', 'to'] as const;

/** True when the connection text itself (not PGPASSWORD, not a passfile) holds a password. */
function holdsPassword(text: string): boolean {
  try {
    // No environment: only what the text says counts.
    return Boolean(parseConnection(text, 'from', {}).params.password);
  } catch {
    // Not a connection (a path, an s3:// URI) or a bad one, which the options parser reports.
    return false;
  }
}

/**
 * The warning for passwords given as flags, where `ps` and shell history show them to others; it
 * names the flags and where the password belongs instead, never the password. Undefined when none.
 */
export function commandLinePasswordWarning(args: ParsedArgs): string | undefined {
  const flags = DATABASE_FLAGS.filter(
    (name) =>
      args.flags.has(name) &&
      (args.values.get(name) ?? '').split('\n').some((line) => holdsPassword(line.trim())),
  );
  if (!flags.length) return undefined;
  const given = flags.map((f) => `--${f}`).join(' and ');
  const variables = flags.map((f) => `PGFERRY_${f.toUpperCase()}`).join(' / ');
  const carry = flags.length > 1 ? 'carry passwords' : 'carries a password';
  return `${given} ${carry} on the command line, where other users of this machine can read it (ps, shell history); give the connection in ${variables} instead, or the password in PGPASSWORD or a passfile (~/.pgpass, PGPASSFILE)`;
}
