/**
 * Pure argv builders for pg_dump, pg_restore, psql and pg_dumpall. They never take a connection: the
 * caller sets PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE in the child's environment, so no
 * password or connection string ever shows up in argv (and in `ps`). Where a tool needs a database
 * name on the command line, it is passed as a plain name and libpq takes the rest from the environment.
 * Every builder adds --no-password, so a missing password fails at once instead of waiting on a prompt.
 */
import { InputError } from '../errors.js';
import { compressionArg } from './compression.js';
import type { CompressionSpec } from './compression.js';
import { checkExtraArgs } from './extra-args.js';
import type { ClientToolName } from './clients/tools.js';
import { FORMAT_LETTERS } from './formats.js';
import { filterFileArgs, type FilterFile } from './filter-file.js';
import type { DumpFormat } from './formats.js';

export type { DumpFormat } from './formats.js';
export { parseFormat } from './formats.js';

/** Which objects to take; pg_dump reads patterns, pg_restore plain names. */
export interface ObjectFilters {
  schemas?: string[];
  excludeSchemas?: string[];
  tables?: string[];
  excludeTables?: string[];
  excludeTableData?: string[];
}

export interface DumpArgsOptions extends ObjectFilters {
  clientMajor: number;
  format: DumpFormat;
  /** Already resolved for this client and format (see resolveCompression). */
  compression: CompressionSpec;
  jobs?: number;
  /** Omitted: the dump goes to stdout (not possible for the directory format). */
  file?: string;
  schemaOnly?: boolean;
  dataOnly?: boolean;
  noOwner?: boolean;
  noPrivileges?: boolean;
  /** pg_dump honours create, clean and ifExists in plain dumps only; archives get them at restore. */
  create?: boolean;
  clean?: boolean;
  ifExists?: boolean;
  extraArgs?: string[];
  verbose?: boolean;
  /**
   * pg_dump 18+: planner statistics in the dump (true) or not (false); `when-supported`: with an 18+
   * client only (a backup's default); undefined: pg_dump's own default.
   */
  statistics?: boolean | 'when-supported';
  /** A checked `--filter` file (pg_dump 17+; translated to flags for older clients where it can be). */
  filter?: FilterFile;
  /** pg_dump 18+. */
  noPolicies?: boolean;
  /** pg_dump 18+: sequence values even in a schema-only dump. */
  sequenceData?: boolean;
}

export function pgDumpArgs(o: DumpArgsOptions): string[] {
  const argv = [`--format=${FORMAT_LETTERS[o.format]}`];
  if (o.file !== undefined) argv.push(`--file=${nonEmpty(o.file, 'file')}`);
  else if (o.format === 'directory') {
    throw new InputError('format', 'the directory format writes a directory, so it needs a path, not stdout');
  }
  argv.push(...compressionArg(o.compression, o.clientMajor));
  const jobs = checkJobs(o.jobs);
  if (jobs > 1) {
    if (o.format !== 'directory') {
      throw new InputError(
        'jobs',
        `pg_dump can run ${jobs} jobs only with the directory format, not ${o.format}; use jobs 1 or the directory format`,
      );
    }
    argv.push(`--jobs=${jobs}`);
  }
  argv.push(...filterArgs(o, 'pg_dump'));
  argv.push(...filterFileArgs(o.filter, o.clientMajor));
  checkOnly(o);
  checkClean(o);
  argv.push(...flags(o));
  argv.push(...newerDumpFlags(o));
  return finish(argv, o.extraArgs, 'pg_dump', o.verbose);
}

export interface RestoreArgsOptions extends ObjectFilters {
  clientMajor: number;
  /** Plain database name to restore into; required unless toStdout or list. */
  dbname?: string;
  /** Archive path; omitted: the archive is read from stdin. */
  file?: string;
  jobs?: number;
  singleTransaction?: boolean;
  /** Default true: stop at the first error instead of reporting a half-restored database as done. */
  exitOnError?: boolean;
  clean?: boolean;
  ifExists?: boolean;
  create?: boolean;
  schemaOnly?: boolean;
  dataOnly?: boolean;
  noOwner?: boolean;
  noPrivileges?: boolean;
  list?: boolean;
  /** Write the SQL script to stdout (`--file=-`) instead of restoring into a database. */
  toStdout?: boolean;
  extraArgs?: string[];
  verbose?: boolean;
  /** false: leave the archive's statistics out (a target older than 18 cannot take them). */
  statistics?: boolean;
  /** pg_restore 17+: commit after every N objects instead of one transaction for all. */
  transactionSize?: number;
  /** Only this section of the archive (a masked parallel restore runs them one by one). */
  section?: 'pre-data' | 'data' | 'post-data';
  /** A list file of the entries to restore (`pg_restore -L`), written by pgferry itself. */
  useList?: string;
}

export function pgRestoreArgs(o: RestoreArgsOptions): string[] {
  const argv: string[] = [];
  if (o.dbname !== undefined) {
    if (o.toStdout) throw new InputError('to', 'restore into a database or to stdout, not both');
    argv.push(`--dbname=${plainDbname(o.dbname, 'to')}`);
  } else if (o.toStdout) argv.push('--file=-');
  else if (!o.list) {
    // Without -d or -f, pg_restore refuses to run; it never falls back to PGDATABASE.
    throw new InputError('to', 'pg_restore needs the name of the database to restore into');
  }
  const jobs = checkJobs(o.jobs);
  if (jobs > 1) {
    if (o.singleTransaction) {
      throw new InputError(
        'jobs',
        `a single-transaction restore runs on one connection, so it cannot use ${jobs} jobs; use jobs 1 or turn single-transaction off`,
      );
    }
    if (o.file === undefined) {
      throw new InputError(
        'jobs',
        `pg_restore needs an archive file it can seek in to run ${jobs} jobs, not stdin; use jobs 1 or restore from a file`,
      );
    }
    argv.push(`--jobs=${jobs}`);
  }
  if (o.create && o.singleTransaction) {
    throw new InputError(
      'single-transaction',
      'cannot be combined with create: CREATE DATABASE cannot run inside a transaction',
    );
  }
  if (o.transactionSize !== undefined) {
    requireClient(o.clientMajor, 17, 'transaction-size', 'pg_restore --transaction-size');
    if (o.singleTransaction) {
      throw new InputError(
        'transaction-size',
        'commits every N objects, so it cannot run in a single transaction',
      );
    }
    argv.push(`--transaction-size=${checkTransactionSize(o.transactionSize)}`);
  }
  if (o.singleTransaction) argv.push('--single-transaction');
  if (o.exitOnError ?? true) argv.push('--exit-on-error');
  // pg_restore before 18 knows no statistics (and cannot read an archive that has them).
  if (o.statistics === false && o.clientMajor >= 18) argv.push('--no-statistics');
  argv.push(...filterArgs(o, 'pg_restore'));
  checkOnly(o);
  checkClean(o);
  argv.push(...flags(o));
  if (o.list) argv.push('--list');
  if (o.section) argv.push(`--section=${o.section}`);
  if (o.useList !== undefined) argv.push(`--use-list=${nonEmpty(o.useList, 'use-list')}`);
  const done = finish(argv, o.extraArgs, 'pg_restore', o.verbose);
  // The archive is the one positional argument; "./" keeps a name starting with "-" from reading as an option.
  if (o.file !== undefined) {
    const file = nonEmpty(o.file, 'file');
    done.push(file.startsWith('-') ? `./${file}` : file);
  }
  return done;
}

export interface PsqlArgsOptions {
  /** Plain database name; omitted: libpq uses PGDATABASE. */
  dbname?: string;
  /** Script to run; '-' or omitted: stdin. */
  file?: string;
  /** Several scripts run one after the other (with singleTransaction: all in one transaction). */
  files?: string[];
  /** Default true: stop at the first failing statement, with a non-zero exit. */
  onErrorStop?: boolean;
  singleTransaction?: boolean;
  quiet?: boolean;
  variables?: Record<string, string>;
  /** One command to run instead of a script. */
  command?: string;
  /** Commands run first, in the same session, before the script (e.g. pgferry's own `BEGIN`). */
  before?: string[];
  extraArgs?: string[];
}

export function psqlArgs(o: PsqlArgsOptions): string[] {
  // --no-psqlrc: a ~/.psqlrc on the runner must not change how a restore behaves.
  const argv = ['--no-psqlrc'];
  if (o.dbname !== undefined) argv.push(`--dbname=${plainDbname(o.dbname, 'to')}`);
  if (o.onErrorStop ?? true) argv.push('--set=ON_ERROR_STOP=1');
  for (const [name, value] of Object.entries(o.variables ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new InputError(
        'variables',
        `"${name}" is not a psql variable name; expected letters, digits and _`,
      );
    }
    argv.push(`--set=${name}=${value}`);
  }
  if (o.singleTransaction) argv.push('--single-transaction');
  if (o.quiet) argv.push('--quiet');
  for (const command of o.before ?? []) argv.push(`--command=${nonEmpty(command, 'command')}`);
  if (o.command !== undefined) {
    if (o.file !== undefined) throw new InputError('command', 'runs instead of a script file, not with one');
    argv.push(`--command=${o.command}`);
  } else if (o.files?.length) {
    for (const f of o.files) argv.push(`--file=${nonEmpty(f, 'file')}`);
  } else {
    // An explicit --file=- (rather than plain stdin) makes psql report errors with line numbers.
    argv.push(`--file=${nonEmpty(o.file ?? '-', 'file')}`);
  }
  return finish(argv, o.extraArgs, 'psql');
}

export interface DumpallArgsOptions {
  clientMajor: number;
  /** Default true: roles and tablespaces only; databases are dumped one by one with pg_dump. */
  globalsOnly?: boolean;
  /** Default true: leave password hashes out of the dump. */
  noRolePasswords?: boolean;
  /** Database to connect to; omitted: pg_dumpall tries postgres, then template1 (it ignores PGDATABASE). */
  dbname?: string;
  file?: string;
  extraArgs?: string[];
}

export function pgDumpallArgs(o: DumpallArgsOptions): string[] {
  const argv: string[] = [];
  if (o.globalsOnly ?? true) argv.push('--globals-only');
  if (o.noRolePasswords ?? true) argv.push('--no-role-passwords');
  if (o.dbname !== undefined) argv.push(`--database=${plainDbname(o.dbname, 'from')}`);
  if (o.file !== undefined) argv.push(`--file=${nonEmpty(o.file, 'file')}`);
  return finish(argv, o.extraArgs, 'pg_dumpall');
}

/** A newer client's feature asked of an older one: named as the caller wrote it. */
function requireClient(clientMajor: number, since: number, input: string, feature: string): void {
  if (clientMajor < since) {
    throw new InputError(
      input,
      `needs ${feature}, which PostgreSQL ${since}+ clients have; the client chosen is ${clientMajor} (pin postgres-version to ${since} or newer, or leave ${input} out)`,
    );
  }
}

/** pg_dump 18's flags: asked for explicitly only (false for statistics says --no-statistics). */
function newerDumpFlags(o: DumpArgsOptions): string[] {
  const argv: string[] = [];
  if (o.statistics === 'when-supported') {
    if (o.clientMajor >= 18) argv.push('--statistics');
  } else if (o.statistics !== undefined) {
    // false on an older client asks for what it does anyway: nothing to pass.
    if (o.statistics) requireClient(o.clientMajor, 18, 'statistics', 'pg_dump --statistics');
    if (o.clientMajor >= 18) argv.push(o.statistics ? '--statistics' : '--no-statistics');
  }
  if (o.noPolicies) {
    requireClient(o.clientMajor, 18, 'no-policies', 'pg_dump --no-policies');
    argv.push('--no-policies');
  }
  if (o.sequenceData) {
    requireClient(o.clientMajor, 18, 'sequence-data', 'pg_dump --sequence-data');
    argv.push('--sequence-data');
  }
  return argv;
}

export function checkTransactionSize(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InputError('transaction-size', `${n} is not an object count; expected a whole number ≥ 1`);
  }
  return n;
}

function checkJobs(jobs: number | undefined): number {
  if (jobs === undefined) return 1;
  if (!Number.isSafeInteger(jobs) || jobs < 1) {
    throw new InputError('jobs', `${jobs} is not a job count; expected a whole number ≥ 1`);
  }
  return jobs;
}

/** pg_restore has no table exclusion: its -T means trigger. */
function filterArgs(o: ObjectFilters, tool: 'pg_dump' | 'pg_restore'): string[] {
  const argv = [
    ...listArgs(o.schemas, 'schemas', '--schema'),
    ...listArgs(o.excludeSchemas, 'exclude-schemas', '--exclude-schema'),
    ...listArgs(o.tables, 'tables', '--table'),
  ];
  if (tool === 'pg_restore') {
    for (const [list, input] of [
      [o.excludeTables, 'exclude-tables'],
      [o.excludeTableData, 'exclude-table-data'],
    ] as const) {
      if (list !== undefined && list.length > 0) {
        throw new InputError(input, 'pg_restore cannot leave tables out; exclude them when dumping instead');
      }
    }
    return argv;
  }
  return [
    ...argv,
    ...listArgs(o.excludeTables, 'exclude-tables', '--exclude-table'),
    ...listArgs(o.excludeTableData, 'exclude-table-data', '--exclude-table-data'),
  ];
}

function listArgs(list: string[] | undefined, input: string, flag: string): string[] {
  return (list ?? []).map((entry, i) => {
    const name = entry.trim();
    if (name === '') throw new InputError(input, `entry ${i + 1} is empty; expected a name or pattern`);
    return `${flag}=${name}`;
  });
}

interface CommonFlags {
  schemaOnly?: boolean;
  dataOnly?: boolean;
  noOwner?: boolean;
  noPrivileges?: boolean;
  create?: boolean;
  clean?: boolean;
  ifExists?: boolean;
}

function checkOnly(o: CommonFlags): void {
  if (o.schemaOnly && o.dataOnly) {
    throw new InputError('data-only', 'cannot be combined with schema-only; pick one, or neither for both');
  }
}

function checkClean(o: CommonFlags): void {
  if (o.clean && o.dataOnly) {
    throw new InputError(
      'clean',
      'cannot be combined with data-only: it drops the objects the data goes into',
    );
  }
  if (o.ifExists && !o.clean) {
    throw new InputError(
      'if-exists',
      'needs clean: it only adds IF EXISTS to the DROP commands clean writes',
    );
  }
}

function flags(o: CommonFlags): string[] {
  const argv: string[] = [];
  if (o.schemaOnly) argv.push('--schema-only');
  if (o.dataOnly) argv.push('--data-only');
  if (o.noOwner) argv.push('--no-owner');
  if (o.noPrivileges) argv.push('--no-privileges');
  if (o.create) argv.push('--create');
  if (o.clean) argv.push('--clean');
  if (o.ifExists) argv.push('--if-exists');
  return argv;
}

/** Common tail: verbosity, never prompting, then the caller's checked extra arguments. */
function finish(
  argv: string[],
  extraArgs: string[] | undefined,
  tool: ClientToolName,
  verbose?: boolean,
): string[] {
  if (verbose) argv.push('--verbose');
  argv.push('--no-password');
  const extra = extraArgs ?? [];
  checkExtraArgs(extra, tool);
  return [...argv, ...extra];
}

function nonEmpty(value: string, input: string): string {
  if (value.trim() === '') throw new InputError(input, 'is empty; expected a path');
  return value;
}

/**
 * libpq reads a dbname containing "=" or starting with a postgres:// URI as a whole connection string,
 * which would override the environment and could carry a password into argv.
 */
function plainDbname(name: string, input: string): string {
  if (name.trim() === '') throw new InputError(input, 'the database name is empty');
  if (name.includes('=') || /^postgres(ql)?:\/\//i.test(name)) {
    throw new InputError(
      input,
      'the database name looks like a connection string; pass the name only, pgferry gives libpq the rest through the environment',
    );
  }
  return name;
}
