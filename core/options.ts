import { InputProblems } from './errors.js';
import { nearNames } from './near-miss.js';
import { OPTION_RULES } from './option-rules.js';
import { parseJobs } from './jobs/parallelism.js';
import type { DumpFormat, ObjectFilters } from './pg/args.js';
import { parseCompression, type CompressionSpec } from './pg/compression.js';
import { databaseName, parseConnection, type ConnectionSpec } from './pg/connection.js';
import { splitExtraArgs } from './pg/extra-args.js';
import { parseFormat } from './pg/formats.js';
import { readFilterFile, type FilterFile } from './pg/filter-file.js';
import { parseTransactionSize } from './pg/transaction-size.js';
import { parseVersionRequest, type VersionRequest } from './pg/version.js';
import { parseMinClientVersion, type MinClientVersion } from './pg/client-floor.js';
import { isS3Uri, parseLocation, type Location } from './storage/location.js';
import { databaseNameProblem } from './storage/database-name.js';
import type { S3Settings } from './storage/s3-settings.js';
import { parseClientSource, type ClientSourceName } from './pg/clients/client-source.js';
import {
  parseBoolean,
  parseMirror,
  parseS3Endpoint,
  parseServerSideEncryption,
  parseVerification,
  type Verification,
} from './values.js';

/**
 * The product's vocabulary (DESIGN.md, "Front-end contract"): the Action's inputs, the CLI's flags and
 * the `PGFERRY_*` variables all go through this one table and parser.
 */
export const COMMANDS = ['install', 'dump', 'restore', 'copy', 'backup', 'clone'] as const;
export type Command = (typeof COMMANDS)[number];

type Applies = readonly Command[] | 'all';
interface InputSpec {
  name: string;
  for: Applies;
  description: string;
  default?: string;
  /** A boolean takes `true` or `false`; the CLI also takes a bare `--name` (true) and `--no-name` (false). */
  type?: 'boolean';
}

const DUMPS: Applies = ['dump', 'copy', 'backup'];
// A backup is the whole database, with its owners and grants: what disaster recovery needs. Selection
// belongs to the restore of it (or to a dump).
const SELECTS: Applies = ['dump', 'copy'];
const SHAPES_CONTENT: Applies = ['dump', 'restore', 'copy'];

export const INPUTS: readonly InputSpec[] = [
  { name: 'command', for: 'all', description: 'install, dump, restore, copy, backup or clone' },
  {
    name: 'from',
    for: 'all',
    description:
      'source database (postgres URL or conninfo); for restore an archive path or s3:// URI; for install the server to match; for clone the database copied',
  },
  {
    name: 'to',
    for: ['dump', 'restore', 'copy', 'backup', 'clone'],
    description:
      'destination path or s3:// URI, or for restore and copy the target database; for clone the copies on the same server, one per line',
  },
  {
    name: 'postgres-version',
    for: 'all',
    default: 'auto',
    description: 'auto, a major (17) or an exact version (17.5)',
  },
  {
    name: 'format',
    for: ['dump', 'backup'],
    default: 'custom',
    description: 'custom, directory, tar or plain',
  },
  {
    name: 'compress',
    for: ['dump', 'backup'],
    default: 'auto',
    description: 'auto, none, gzip[:N], lz4[:N] or zstd[:N]',
  },
  {
    name: 'jobs',
    for: ['dump', 'restore', 'copy', 'backup'],
    default: 'auto',
    description:
      'parallel jobs; auto = CPU count where the format allows; backup: N > 1 shards the dump into N objects from one snapshot (auto = one object)',
  },
  { name: 'schemas', for: SELECTS, description: 'only these schemas (newline- or comma-separated)' },
  { name: 'exclude-schemas', for: SELECTS, description: 'leave out these schemas' },
  { name: 'tables', for: SELECTS, description: 'only these tables' },
  { name: 'exclude-tables', for: SELECTS, description: 'leave out these tables' },
  {
    name: 'exclude-table-data',
    for: SELECTS,
    description: 'keep these tables’ definitions but not their rows',
  },
  {
    name: 'schema-only',
    for: SHAPES_CONTENT,
    default: 'false',
    type: 'boolean',
    description: 'definitions only',
  },
  { name: 'data-only', for: SHAPES_CONTENT, default: 'false', type: 'boolean', description: 'rows only' },
  {
    name: 'no-owner',
    for: SHAPES_CONTENT,
    default: 'false',
    type: 'boolean',
    description: 'do not set object owners',
  },
  {
    name: 'no-privileges',
    for: SHAPES_CONTENT,
    default: 'false',
    type: 'boolean',
    description: 'do not dump or restore grants',
  },
  {
    name: 'globals',
    for: ['dump', 'copy'],
    default: 'false',
    type: 'boolean',
    description: 'also roles and tablespaces (no passwords), restored first',
  },
  {
    name: 'clean',
    for: ['restore', 'copy', 'clone'],
    default: 'false',
    type: 'boolean',
    description: 'drop existing objects in the target first (destructive)',
  },
  {
    name: 'swap',
    for: ['restore', 'copy'],
    default: 'true',
    type: 'boolean',
    description:
      'with clean: build the new database beside the target and swap it in when complete (needs CREATEDB and room for two copies); false drops and restores in place',
  },
  {
    name: 'confirm',
    for: ['restore', 'copy', 'clone'],
    description:
      'the target database name; required when the operation is destructive (clone: every copy replaced, one per line)',
  },
  {
    name: 'mark-template',
    for: ['clone'],
    default: 'false',
    type: 'boolean',
    description:
      'mark the database cloned IS_TEMPLATE once the copies are made: any role with CREATEDB may then clone it, and DROP DATABASE refuses it until it is unmarked (ALTER DATABASE … IS_TEMPLATE false)',
  },
  {
    name: 'create-database',
    for: ['restore', 'copy'],
    default: 'true',
    type: 'boolean',
    description: 'create the target database when it does not exist',
  },
  {
    name: 'allow-downgrade',
    for: ['restore', 'copy'],
    default: 'false',
    type: 'boolean',
    description: 'allow restoring a newer major’s dump into an older server',
  },
  {
    name: 'sql-after',
    for: ['restore', 'copy'],
    description: 'SQL file(s) run on the target in one transaction afterwards',
  },
  {
    name: 'masking-rules',
    for: ['restore', 'copy'],
    description:
      'a YAML or JSON file of masking rules (schema.table.column: transformer; schema.table: truncate, keep or sample); rows are masked or left out on their way into the target, key in PGFERRY_MASKING_KEY',
  },
  {
    name: 'verify',
    for: ['backup'],
    default: 'list',
    description:
      "list (the store's checksum or ETag, then pg_restore --list of the object's front), full (every byte read back) or restore (restore drill)",
  },
  {
    name: 'extra-args',
    for: ['dump', 'restore', 'copy'],
    description: 'more pg_dump / pg_restore arguments, split like a shell would',
  },
  {
    name: 'statistics',
    for: DUMPS,
    type: 'boolean',
    description:
      'planner statistics in the dump (pg_dump 18+), so a restore plans well without ANALYZE; unset: true for backup with a PostgreSQL 18+ client, pg_dump’s own default (false) otherwise; left out, and reported, when restoring into PostgreSQL 17 or older',
  },
  {
    name: 'filter',
    for: SELECTS,
    description:
      'a pg_dump filter file (include/exclude lines, pg_dump 17+); with older clients its table, schema and table_data lines become flags',
  },
  {
    name: 'no-policies',
    for: DUMPS,
    default: 'false',
    type: 'boolean',
    description: 'leave row security policies out (pg_dump 18+)',
  },
  {
    name: 'sequence-data',
    for: DUMPS,
    default: 'false',
    type: 'boolean',
    description: 'sequence values even in a schema-only dump (pg_dump 18+)',
  },
  {
    name: 'transaction-size',
    for: ['restore'],
    description:
      'pg_restore commits after every N objects instead of one transaction for all (pg_restore 17+, a whole number ≥ 1)',
  },
  {
    name: 'mirror',
    for: 'all',
    description:
      'base URL for client archives (default: theseus-rs releases); with client-source auto, a second line "<base URL> <suite>" names an apt repository',
  },
  {
    name: 'client-source',
    for: 'all',
    default: 'auto',
    description:
      'where the client comes from: auto (installed, cache, releases, then the PostgreSQL apt repository on Linux), installed, cache, releases, or pgdg (the PostgreSQL apt repository, Linux; mirror then names it as "<base URL> [suite]")',
  },
  { name: 'cache', for: 'all', default: 'true', type: 'boolean', description: 'keep provisioned clients' },
  {
    name: 'min-client-version',
    for: 'all',
    default: 'any',
    description:
      'any (warn when only a client below the security floor can be had), secure (refuse it), or an exact minimum such as 17.10 (also refuses)',
  },
  { name: 's3-endpoint', for: 'all', description: 'S3-compatible endpoint URL' },
  { name: 's3-region', for: 'all', description: 'S3 region' },
  {
    name: 's3-force-path-style',
    for: 'all',
    default: 'false',
    type: 'boolean',
    description: 'path-style S3 addressing',
  },
  { name: 's3-sse', for: 'all', description: 'server-side encryption: AES256 or aws:kms' },
  { name: 's3-kms-key-id', for: 'all', description: 'KMS key for aws:kms' },
];

/**
 * Inputs only the Action has: their defaults are workflow expressions the runner evaluates, which
 * neither the CLI nor the scheduled job has, so they get no flag, no PGFERRY_ variable and no line
 * in the CLI's help. `token` defaults, as actions/setup-node's does, to the workflow's token on
 * github.com and to none on GitHub Enterprise Server (whose token api.github.com would refuse).
 */
export const ACTION_ONLY_INPUTS: readonly { name: string; description: string; default: string }[] = [
  {
    name: 'token',
    default: "${{ github.server_url == 'https://github.com' && github.token || '' }}",
    description:
      'GitHub token for the releases API lookup of client versions (rate limits); sent to api.github.com only, never to a mirror',
  },
];

/*
 * Options as a union by command, built from small parts: each job receives what it uses and nothing
 * else, and the type says which fields a command has (no optional "source?" to check again later).
 */

/** Every command: which client to use and where it comes from. */
export interface ClientOptions {
  postgresVersion: VersionRequest;
  mirror?: string;
  /** Which source alone provides the client (`client-source`); auto: all in order. */
  clientSource: ClientSourceName;
  cache: boolean;
  /** Clients below the security floor: any (warn), secure or an exact minimum (refuse). */
  minClientVersion: MinClientVersion;
}

/** What of the database a dump or restore carries, and as whom. */
export interface ContentOptions {
  schemaOnly: boolean;
  dataOnly: boolean;
  noOwner: boolean;
  noPrivileges: boolean;
}

/** How an archive is written: dump and backup. */
export interface ArchiveOptions {
  format: DumpFormat;
  compress: CompressionSpec | 'auto';
}

/** Writing into a database: restore and copy (guards, swap, the SQL after). */
export interface TargetOptions {
  target: ConnectionSpec;
  clean: boolean;
  swap: boolean;
  confirm?: string;
  createDatabase: boolean;
  allowDowngrade: boolean;
  sqlAfter: string[];
  /** masking-rules: the rules file's path (read, with PGFERRY_MASKING_KEY, by the command). */
  maskingRulesFile?: string;
}

/** Parallelism and the caller's own pg_dump / pg_restore arguments: dump, restore, copy. */
export interface ToolOptions {
  jobs: number | 'auto';
  extraArgs: string[];
}

export interface InstallJob extends ClientOptions {
  command: 'install';
  /** The server to match, when given. */
  source?: ConnectionSpec;
}

/** pg_dump 17/18 features (DUMPS): each gated on the client's major when the arguments are built. */
export interface NewerDumpOptions {
  /** Undefined: the command's default (backup: on with an 18+ client; else pg_dump's own). */
  statistics?: boolean;
  filter?: FilterFile;
  noPolicies: boolean;
  sequenceData: boolean;
}

export interface DumpJob
  extends ClientOptions, ContentOptions, ArchiveOptions, ToolOptions, ObjectFilters, NewerDumpOptions {
  command: 'dump';
  source: ConnectionSpec;
  destination: Location;
  globals: boolean;
  s3: S3Settings;
}

export interface RestoreJob extends ClientOptions, ContentOptions, TargetOptions, ToolOptions {
  command: 'restore';
  /** pg_restore 17+: commit every N objects. */
  transactionSize?: number;
  archive: Location;
  s3: S3Settings;
}

export interface CopyJob
  extends ClientOptions, ContentOptions, TargetOptions, ToolOptions, ObjectFilters, NewerDumpOptions {
  command: 'copy';
  source: ConnectionSpec;
  globals: boolean;
}

export interface BackupJob extends ClientOptions, ArchiveOptions, Omit<NewerDumpOptions, 'filter'> {
  command: 'backup';
  /** Every database to back up (`from` may list several, one per line), each its own backup. */
  sources: ConnectionSpec[];
  destination: Extract<Location, { kind: 's3' }>;
  verify: Verification;
  s3: S3Settings;
  /** More than 1: a sharded backup (that many pg_dump workers); `auto`: one object. */
  jobs: number | 'auto';
}

export interface CloneJob extends ClientOptions {
  command: 'clone';
  /** The seeded database every copy is made from. */
  source: ConnectionSpec;
  /** The copies, on the source's server (`to`, one per line). */
  copies: ConnectionSpec[];
  clean: boolean;
  /** The existing copies a clean clone may replace. */
  confirm: string[];
  markTemplate: boolean;
}

/** Everything a job needs, parsed and checked. */
export type JobOptions = InstallJob | DumpJob | RestoreJob | CopyJob | BackupJob | CloneJob;

/** Reads one input by its contract name; undefined or '' when not given. */
export type InputSource = (name: string) => string | undefined;

export function splitList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function isDatabase(text: string): boolean {
  // Any URL but s3:// names a server, so a mysql:// URL is refused as one and never taken for a path.
  return /^(?!s3:)[a-z][a-z0-9+.-]*:\/\//i.test(text) || /^\s*[a-z_]+\s*=/i.test(text);
}

function applies(spec: InputSpec, command: Command): boolean {
  return spec.for === 'all' || spec.for.includes(command);
}

/** The inputs of one run, read and parsed as far as one input alone allows; problems collected. */
class InputReader {
  readonly problems = new InputProblems();
  constructor(
    private readonly get: InputSource,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  raw(name: string): string | undefined {
    const v = this.get(name);
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  bool(name: string, fallback: boolean): boolean {
    return this.problems.collect(() => parseBoolean(this.raw(name), name, fallback)) ?? fallback;
  }

  parsed<T>(name: string, parse: (raw: string | undefined) => T, fallback: T): T {
    return this.problems.collect(() => parse(this.raw(name))) ?? fallback;
  }

  list(name: string): string[] {
    return splitList(this.raw(name));
  }

  /** `from` or `to` as a database; undefined (and a problem) when missing or not one. */
  database(name: 'from' | 'to', value: string | undefined, cmd: Command): ConnectionSpec | undefined {
    if (value === undefined) {
      this.problems.add(name, `is required for ${cmd}; expected a postgres URL or conninfo`);
      return undefined;
    }
    if (!isDatabase(value)) {
      this.problems.add(
        name,
        `${cmd} needs a database here, not a path; expected a postgres:// URL or conninfo such as "host=db dbname=app"`,
      );
      return undefined;
    }
    return this.problems.collect(() => parseConnection(value, name, this.env));
  }

  /** `from` or `to` as a file path or s3:// URI; undefined (and a problem) when missing or a database. */
  location(name: 'from' | 'to', cmd: Command, what: string): Location | undefined {
    const value = this.raw(name);
    if (value === undefined) {
      this.problems.add(name, `is required for ${cmd}; expected ${what}`);
      return undefined;
    }
    if (isDatabase(value)) {
      this.problems.add(name, `${cmd} needs ${what} here, not a database`);
      return undefined;
    }
    return this.problems.collect(() => parseLocation(value, name));
  }
}

/** `did you mean dump? ` for `dupm`, else nothing. */
function nearMiss(text: string): string {
  const near = nearNames(text, COMMANDS);
  return near.length === 0 ? '' : `did you mean ${near.join(' or ')}? `;
}

/** What is wrong with `text` as a command (with its near miss), or undefined when it is one. */
export function commandProblem(text: string | undefined): string | undefined {
  if (COMMANDS.some((c) => c === text)) return undefined;
  return text === undefined
    ? 'is required; expected install, dump, restore, copy, backup or clone'
    : `"${text}" is not a command; ${nearMiss(text)}expected install, dump, restore, copy, backup or clone`;
}

function readCommand(r: InputReader): Command {
  const text = r.raw('command');
  const problem = commandProblem(text);
  if (problem === undefined) return text as Command;
  r.problems.add('command', problem);
  return r.problems.throwIfAny() as never;
}

/** An input given to a command it is not for is an error, not silently ignored. */
function refuseInapplicable(r: InputReader, cmd: Command): void {
  for (const spec of INPUTS) {
    const value = r.raw(spec.name);
    if (!applies(spec, cmd) && value !== undefined && spec.default !== value) {
      const where = spec.for === 'all' ? '' : ` (it is for ${spec.for.join(', ')})`;
      r.problems.add(spec.name, `does not apply to ${cmd}${where}`);
    }
  }
}

/** The parts every command is built from, each input parsed alone. */
function readParts(r: InputReader) {
  return {
    client: {
      postgresVersion: r.parsed('postgres-version', parseVersionRequest, { kind: 'auto' } as VersionRequest),
      mirror: r.parsed('mirror', parseMirror, undefined),
      clientSource: r.parsed('client-source', parseClientSource, 'auto' as ClientSourceName),
      cache: r.bool('cache', true),
      minClientVersion: r.parsed('min-client-version', parseMinClientVersion, {
        kind: 'any',
      } as MinClientVersion),
    } satisfies ClientOptions,
    content: {
      schemaOnly: r.bool('schema-only', false),
      dataOnly: r.bool('data-only', false),
      noOwner: r.bool('no-owner', false),
      noPrivileges: r.bool('no-privileges', false),
    } satisfies ContentOptions,
    filters: {
      schemas: r.list('schemas'),
      excludeSchemas: r.list('exclude-schemas'),
      tables: r.list('tables'),
      excludeTables: r.list('exclude-tables'),
      excludeTableData: r.list('exclude-table-data'),
    } satisfies ObjectFilters,
    archive: {
      format: r.parsed('format', parseFormat, 'custom' as DumpFormat),
      compress: r.parsed('compress', parseCompression, 'auto' as CompressionSpec | 'auto'),
    } satisfies ArchiveOptions,
    tool: {
      jobs: r.parsed('jobs', parseJobs, 'auto' as number | 'auto'),
      extraArgs: r.parsed('extra-args', splitExtraArgs, [] as string[]),
    } satisfies ToolOptions,
    guards: {
      clean: r.bool('clean', false),
      swap: r.bool('swap', true),
      confirm: r.raw('confirm'),
      createDatabase: r.bool('create-database', true),
      allowDowngrade: r.bool('allow-downgrade', false),
      sqlAfter: r.list('sql-after'),
      maskingRulesFile: r.raw('masking-rules'),
    } satisfies Omit<TargetOptions, 'target'>,
    s3: {
      endpoint: r.parsed('s3-endpoint', parseS3Endpoint, undefined),
      region: r.raw('s3-region'),
      forcePathStyle: r.bool('s3-force-path-style', false),
      sse: r.parsed('s3-sse', parseServerSideEncryption, undefined),
      kmsKeyId: r.raw('s3-kms-key-id'),
    } satisfies S3Settings,
    newer: {
      statistics: r.raw('statistics') === undefined ? undefined : r.bool('statistics', false),
      filter: r.parsed('filter', readFilterFile, undefined),
      noPolicies: r.bool('no-policies', false),
      sequenceData: r.bool('sequence-data', false),
    } satisfies NewerDumpOptions,
    transactionSize: r.parsed('transaction-size', parseTransactionSize, undefined),
    globals: r.bool('globals', false),
    verify: r.parsed('verify', parseVerification, 'list' as Verification),
  };
}

type Parts = ReturnType<typeof readParts>;

/** backup: several databases, one per line, each its own backup and its name a key segment. */
function backupSources(r: InputReader): ConnectionSpec[] {
  const sources = databaseLines(r, 'from', 'backup');
  for (const spec of sources) {
    const problem = databaseNameProblem(databaseName(spec));
    if (problem) r.problems.add('from', problem);
  }
  return sources;
}

/** A list of connections, one per line (`from` of backup, `to` of clone). */
function databaseLines(r: InputReader, name: 'from' | 'to', cmd: Command): ConnectionSpec[] {
  const value = r.raw(name);
  if (value === undefined) {
    r.database(name, value, cmd);
    return [];
  }
  return value
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => r.database(name, line, cmd))
    .filter((spec): spec is ConnectionSpec => spec !== undefined);
}

/** Names in `confirm`, one per line: a database name may hold a comma. */
function confirmLines(r: InputReader): string[] {
  return (r.raw('confirm') ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

function backupDestination(r: InputReader): Extract<Location, { kind: 's3' }> | undefined {
  const to = r.raw('to');
  if (to !== undefined && !isS3Uri(to)) {
    r.problems.add('to', `backup stores to S3; expected an s3://bucket/prefix/ URI, not "${to}"`);
    return undefined;
  }
  const location = r.location('to', 'backup', 'an s3://bucket/prefix/ URI');
  return location?.kind === 's3' ? location : undefined;
}

/**
 * The command's own options from its parts and its endpoints; undefined when an endpoint is
 * missing or wrong (the reader holds the problem).
 */
function assemble(r: InputReader, cmd: Command, p: Parts): JobOptions | undefined {
  const client = p.client;
  switch (cmd) {
    case 'install': {
      const from = r.raw('from');
      return {
        command: cmd,
        ...client,
        source: from === undefined ? undefined : r.database('from', from, cmd),
      };
    }
    case 'dump': {
      const source = r.database('from', r.raw('from'), cmd);
      const destination = r.location('to', cmd, 'a file path or an s3:// URI');
      if (!source || !destination) return undefined;
      const { globals, s3 } = p;
      return {
        command: cmd,
        ...client,
        ...p.content,
        ...p.archive,
        ...p.tool,
        ...p.filters,
        ...p.newer,
        source,
        destination,
        globals,
        s3,
      };
    }
    case 'restore': {
      const archive = r.location('from', cmd, 'an archive path, a .sql / .sql.gz file or an s3:// URI');
      const target = r.database('to', r.raw('to'), cmd);
      if (!archive || !target) return undefined;
      const transactionSize = p.transactionSize;
      return {
        command: cmd,
        ...client,
        ...p.content,
        ...p.guards,
        ...p.tool,
        archive,
        target,
        s3: p.s3,
        transactionSize,
      };
    }
    case 'copy': {
      const source = r.database('from', r.raw('from'), cmd);
      const target = r.database('to', r.raw('to'), cmd);
      if (!source || !target) return undefined;
      const globals = p.globals;
      return {
        command: cmd,
        ...client,
        ...p.content,
        ...p.guards,
        ...p.tool,
        ...p.filters,
        ...p.newer,
        source,
        target,
        globals,
      };
    }
    case 'backup': {
      const sources = backupSources(r);
      const destination = backupDestination(r);
      if (!sources.length || !destination) return undefined;
      const { verify, s3 } = p;
      return {
        command: cmd,
        ...client,
        ...p.archive,
        noPolicies: p.newer.noPolicies,
        sequenceData: p.newer.sequenceData,
        statistics: p.newer.statistics,
        sources,
        destination,
        verify,
        s3,
        jobs: p.tool.jobs,
      };
    }
    case 'clone': {
      const source = r.database('from', r.raw('from'), cmd);
      const copies = databaseLines(r, 'to', cmd);
      if (!source || !copies.length) return undefined;
      const { clean } = p.guards;
      return {
        command: cmd,
        ...client,
        source,
        copies,
        clean,
        confirm: confirmLines(r),
        markTemplate: r.bool('mark-template', false),
      };
    }
  }
}

/** Parses every input, reporting every problem at once (InputErrors), naming inputs as written. */
export function parseJobOptions(get: InputSource, env: NodeJS.ProcessEnv = process.env): JobOptions {
  const r = new InputReader(get, env);
  const cmd = readCommand(r);
  refuseInapplicable(r, cmd);
  const parts = readParts(r);
  const options = assemble(r, cmd, parts);
  for (const rule of OPTION_RULES) rule(parts, options, r.problems);
  r.problems.throwIfAny();
  return options as JobOptions;
}
