import { VERSION } from './cli-version.js';
import { ENGINE_VARIABLES } from './env-variables.js';
import { COMMANDS, INPUTS, type Command } from './options.js';
import { wrapLine } from './text-wrap.js';

/**
 * `pgferry --help` and `pgferry <command> --help`, built from INPUTS (core/options.ts): a command's
 * help lists exactly the inputs whose `for` names it, so the help cannot offer a flag the command
 * then refuses. What the schema cannot say — a command's purpose, what `--from` and `--to` are for
 * it, examples — is here.
 */

/** Variables the CLI reads besides the inputs' own `PGFERRY_<NAME>`. */
export const CLI_VARIABLES = ['PGFERRY_BIN_DIR', 'PGFERRY_CACHE_DIR'];

interface CommandHelp {
  summary: string;
  usage: string;
  from: string;
  to?: string;
  examples: string[];
}

export const HELP: Record<Command, CommandHelp> = {
  install: {
    summary: 'provide pg_dump, pg_restore, psql and pg_dumpall of the right version, and print where',
    usage: '[--from …] [--postgres-version …]',
    from: 'the server to match (postgres URL or conninfo); without it, --postgres-version decides',
    examples: [
      'pgferry install --postgres-version 17',
      'PGFERRY_FROM=postgres://app@db.example.com/app pgferry install',
    ],
  },
  dump: {
    usage: '--from … --to …',
    summary: 'dump a database to a file, a directory or an s3:// URI',
    from: 'the database to dump (postgres URL or conninfo)',
    to: 'a file path (a directory for --format directory) or an s3://bucket/key URI',
    examples: [
      'pgferry dump --from postgres://app@db.example.com/app --to app.dump',
      'pgferry dump --from "host=db dbname=app" --to app-dir --format directory --jobs 4',
      'pgferry dump --from postgres://app@db.example.com/app --to s3://acme-dumps/app.dump --schema-only',
    ],
  },
  restore: {
    usage: '--from … --to …',
    summary: 'restore an archive, a .sql or .sql.gz script or an s3:// object into a database',
    from: 'the archive: a path, a .sql / .sql.gz file or an s3:// URI (a backup prefix: its latest)',
    to: 'the target database (postgres URL or conninfo)',
    examples: [
      'pgferry restore --from app.dump --to postgres://app@localhost/app_copy',
      'pgferry restore --from app.dump --to postgres://app@localhost/app --clean --confirm app',
      'PGFERRY_FROM=s3://acme-db-backups/nightly/app/ pgferry restore --to postgres://app@localhost/app_dr',
    ],
  },
  copy: {
    usage: '--from … --to …',
    summary: 'copy one database into another, with no archive in between',
    from: 'the source database (postgres URL or conninfo)',
    to: 'the target database (postgres URL or conninfo)',
    examples: [
      'pgferry copy --from postgres://app@prod.example.com/app --to postgres://app@localhost/app_dev',
      'pgferry copy --from postgres://app@prod.example.com/app --to postgres://app@staging/app --clean --confirm app --sql-after scrub.sql',
    ],
  },
  backup: {
    usage: '--from … --to …',
    summary: 'dump to S3 under a dated key, verify what was stored, write its manifest and latest.json',
    from: 'the database(s) to back up, one per line (postgres URL or conninfo)',
    to: 'an s3://bucket/prefix/ URI',
    examples: [
      'pgferry backup --from postgres://app@db.example.com/app --to s3://acme-db-backups/nightly/',
      'pgferry backup --from postgres://app@db.example.com/app --to s3://acme-db-backups/nightly/ --verify restore',
    ],
  },
  clone: {
    usage: '--from … --to …',
    summary:
      'make copies of a seeded database on its own server (CREATE DATABASE … TEMPLATE), one per test worker',
    from: 'the seeded database (postgres URL or conninfo); nobody may be connected to it',
    to: 'the copies, one per line (postgres URL or conninfo), on the same server',
    examples: [
      "PGFERRY_TO=$'postgres://ci@db/app_1\\npostgres://ci@db/app_2' pgferry clone --from postgres://ci@db/app_seed",
      'pgferry clone --from postgres://ci@db/app_seed --to postgres://ci@db/app_1 --clean --confirm app_1',
    ],
  },
};

/** The flags of the CLI itself, not inputs of the contract. */
const CLI_FLAGS: [flag: string, description: string][] = [
  ['--json', 'print the report, or a failure, as a JSON object on stdout'],
  ['--help, -h', 'this text; pgferry <command> --help for a command'],
  ['--version, -V', "pgferry's version"],
];

const EXIT_CODES =
  'Exit codes: 0 done; 1 the job failed; 2 a usage error (unknown command or flag, a bad value, no arguments); 130 stopped by SIGINT (Ctrl-C), 143 by SIGTERM.';

const COLUMN = 26;

/** `  --flag   description`, the description wrapped under itself; a long flag on a line of its own. */
function row(flag: string, description: string, width: number, column = COLUMN): string {
  const head = `  ${flag}`;
  // A narrow terminal: every description on its own lines below its flag.
  if (width - column < 30) column = 6;
  const lines = wrapLine(description, width - column, 0);
  const indent = ' '.repeat(column);
  const first = head.length < column ? [head.padEnd(column) + (lines.shift() ?? '')] : [head];
  return [...first, ...lines.map((l) => indent + l)].join('\n');
}

/** A paragraph of help, wrapped flush left. */
function paragraph(text: string, width: number): string {
  return wrapLine(text, width, 0).join('\n');
}

function inputRow(name: string, description: string, width: number): string {
  const spec = INPUTS.find((i) => i.name === name);
  const value = spec?.type === 'boolean' ? '' : ' <value>';
  const fallback = spec?.default !== undefined ? ` (default ${spec.default})` : '';
  return row(`--${name}${value}`, `${description}${fallback}`, width);
}

/** Inputs for every command except `from` (whose meaning differs by command). */
const GLOBAL_INPUTS = INPUTS.filter((i) => i.for === 'all' && i.name !== 'command' && i.name !== 'from');

export function overviewHelp(width: number): string {
  const commands = COMMANDS.map((c) => row(c, HELP[c].summary, width, 12));
  const globals = [
    ...GLOBAL_INPUTS.map((i) => inputRow(i.name, i.description, width)),
    ...CLI_FLAGS.map(([flag, description]) => row(flag, description, width)),
  ];
  return [
    paragraph(`pgferry ${VERSION}: PostgreSQL dumps and restores with the right client tools.`, width),
    '',
    paragraph('usage: pgferry <command> [--flag value …] [--json]', width),
    '',
    'Commands:',
    ...commands,
    '',
    'Flags of every command:',
    ...globals,
    '',
    paragraph(
      'Run "pgferry <command> --help" for the flags of a command, with examples. Every flag also reads from a PGFERRY_<NAME> environment variable (PGFERRY_FROM, PGFERRY_POSTGRES_VERSION).',
      width,
    ),
    '',
    paragraph(EXIT_CODES, width),
  ].join('\n');
}

export function commandHelp(command: Command, width: number): string {
  const help = HELP[command];
  const own = INPUTS.filter((i) => i.name !== 'command' && (i.for === 'all' || i.for.includes(command))).map(
    (i) => {
      if (i.name === 'from') return inputRow('from', help.from, width);
      if (i.name === 'to') return inputRow('to', help.to ?? i.description, width);
      return inputRow(i.name, i.description, width);
    },
  );
  return [
    paragraph(`usage: pgferry ${command} ${help.usage} [--flag value …] [--json]`, width),
    '',
    paragraph(`${command}: ${help.summary}.`, width),
    '',
    'Flags:',
    ...own,
    ...CLI_FLAGS.map(([flag, description]) => row(flag, description, width)),
    '',
    'Examples:',
    // Wrapped as a shell would read it: each cut ends in a backslash.
    ...help.examples.map((e) => wrapLine(`  ${e}`, width - 2, 4).join(' \\\n')),
    '',
    paragraph(
      `Booleans take true or false, or stand bare (--cache) and negated (--no-cache); --no-owner and --no-privileges are inputs of their own. Every flag also reads from PGFERRY_<NAME> (PGFERRY_FROM): a password there stays out of the process list. Other variables: ${[...CLI_VARIABLES, ...ENGINE_VARIABLES].join(', ')}.`,
      width,
    ),
    '',
    paragraph(EXIT_CODES, width),
  ].join('\n');
}
