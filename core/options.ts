import { InputProblems } from './errors.js';
import { parseJobs, type DumpFormat, type ObjectFilters } from './pg/args.js';
import { parseCompression, type CompressionSpec } from './pg/compression.js';
import { databaseName, parseConnection, type ConnectionSpec } from './pg/connection.js';
import { splitExtraArgs } from './pg/extra-args.js';
import { parseFormat } from './pg/formats.js';
import { parseVersionRequest, type VersionRequest } from './pg/version.js';
import { isS3Uri, parseLocation, type Location } from './storage/location.js';
import { databaseNameProblem } from './storage/database-name.js';
import {
  parseBoolean,
  parseMirror,
  parseS3Endpoint,
  parseServerSideEncryption,
  parseVerification,
  type ServerSideEncryption,
  type Verification,
} from './values.js';

/**
 * The product's vocabulary (DESIGN.md, "Front-end contract"): the Action's inputs, the CLI's flags and
 * the `PGFERRY_*` variables all go through this one table and parser.
 */
export const COMMANDS = ['install', 'dump', 'restore', 'copy', 'backup'] as const;
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
const NOT_INSTALL: Applies = ['dump', 'restore', 'copy', 'backup'];

export const INPUTS: readonly InputSpec[] = [
  { name: 'command', for: 'all', description: 'install, dump, restore, copy or backup' },
  {
    name: 'from',
    for: 'all',
    description:
      'source database (postgres URL or conninfo); for restore an archive path or s3:// URI; for install the server to match',
  },
  {
    name: 'to',
    for: ['dump', 'restore', 'copy', 'backup'],
    description: 'destination path or s3:// URI, or for restore and copy the target database',
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
    for: ['dump', 'restore', 'copy'],
    default: 'auto',
    description: 'parallel jobs; auto = CPU count where the format allows',
  },
  { name: 'schemas', for: DUMPS, description: 'only these schemas (newline- or comma-separated)' },
  { name: 'exclude-schemas', for: DUMPS, description: 'leave out these schemas' },
  { name: 'tables', for: DUMPS, description: 'only these tables' },
  { name: 'exclude-tables', for: DUMPS, description: 'leave out these tables' },
  {
    name: 'exclude-table-data',
    for: DUMPS,
    description: 'keep these tables’ definitions but not their rows',
  },
  {
    name: 'schema-only',
    for: NOT_INSTALL,
    default: 'false',
    type: 'boolean',
    description: 'definitions only',
  },
  { name: 'data-only', for: NOT_INSTALL, default: 'false', type: 'boolean', description: 'rows only' },
  {
    name: 'no-owner',
    for: NOT_INSTALL,
    default: 'false',
    type: 'boolean',
    description: 'do not set object owners',
  },
  {
    name: 'no-privileges',
    for: NOT_INSTALL,
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
    for: ['restore', 'copy'],
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
    for: ['restore', 'copy'],
    description: 'the target database name; required when the operation is destructive',
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
    name: 'verify',
    for: ['backup'],
    default: 'list',
    description: 'list (pg_restore --list of the stored object) or restore (restore drill)',
  },
  {
    name: 'extra-args',
    for: ['dump', 'restore', 'copy'],
    description: 'more pg_dump / pg_restore arguments, split like a shell would',
  },
  { name: 'mirror', for: 'all', description: 'base URL for client archives (default: theseus-rs releases)' },
  { name: 'cache', for: 'all', default: 'true', type: 'boolean', description: 'keep provisioned clients' },
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

export interface S3Settings {
  endpoint?: string;
  region?: string;
  forcePathStyle: boolean;
  sse?: ServerSideEncryption;
  kmsKeyId?: string;
}

/** Everything a job needs, parsed and checked; fields that do not apply keep their defaults. */
export interface JobOptions extends ObjectFilters {
  command: Command;
  /** dump, copy, backup: the source database. */
  source?: ConnectionSpec;
  /** backup: every database to back up (`from` may list several, one per line). */
  sources: ConnectionSpec[];
  /** restore: the archive. */
  archive?: Location;
  /** dump: where the dump goes; backup: the S3 prefix. */
  destination?: Location;
  /** restore, copy: the target database. */
  target?: ConnectionSpec;
  postgresVersion: VersionRequest;
  format: DumpFormat;
  compress: CompressionSpec | 'auto';
  jobs: number | 'auto';
  schemaOnly: boolean;
  dataOnly: boolean;
  noOwner: boolean;
  noPrivileges: boolean;
  globals: boolean;
  clean: boolean;
  swap: boolean;
  confirm?: string;
  createDatabase: boolean;
  allowDowngrade: boolean;
  sqlAfter: string[];
  verify: Verification;
  extraArgs: string[];
  mirror?: string;
  cache: boolean;
  s3: S3Settings;
}

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

/** Parses every input, reporting every problem at once (InputErrors), naming inputs as written. */
export function parseJobOptions(get: InputSource, env: NodeJS.ProcessEnv = process.env): JobOptions {
  const problems = new InputProblems();
  const raw = (name: string): string | undefined => {
    const v = get(name);
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const bool = (name: string, fallback: boolean): boolean =>
    problems.collect(() => parseBoolean(raw(name), name, fallback)) ?? fallback;

  const commandText = raw('command');
  const command = COMMANDS.find((c) => c === commandText);
  if (!command) {
    problems.add(
      'command',
      commandText === undefined
        ? 'is required; expected install, dump, restore, copy or backup'
        : `"${commandText}" is not a command; expected install, dump, restore, copy or backup`,
    );
    problems.throwIfAny();
  }
  const cmd = command as Command;
  for (const spec of INPUTS) {
    if (!applies(spec, cmd) && raw(spec.name) !== undefined && spec.default !== raw(spec.name)) {
      const where = spec.for === 'all' ? '' : ` (it is for ${spec.for.join(', ')})`;
      problems.add(spec.name, `does not apply to ${cmd}${where}`);
    }
  }

  const options: JobOptions = {
    command: cmd,
    postgresVersion: problems.collect(() => parseVersionRequest(raw('postgres-version'))) ?? { kind: 'auto' },
    format: problems.collect(() => parseFormat(raw('format'))) ?? 'custom',
    compress: problems.collect(() => parseCompression(raw('compress'))) ?? 'auto',
    jobs: problems.collect(() => parseJobs(raw('jobs'))) ?? 'auto',
    schemas: splitList(raw('schemas')),
    excludeSchemas: splitList(raw('exclude-schemas')),
    tables: splitList(raw('tables')),
    excludeTables: splitList(raw('exclude-tables')),
    excludeTableData: splitList(raw('exclude-table-data')),
    schemaOnly: bool('schema-only', false),
    dataOnly: bool('data-only', false),
    noOwner: bool('no-owner', false),
    noPrivileges: bool('no-privileges', false),
    globals: bool('globals', false),
    clean: bool('clean', false),
    swap: bool('swap', true),
    confirm: raw('confirm'),
    createDatabase: bool('create-database', true),
    allowDowngrade: bool('allow-downgrade', false),
    sqlAfter: splitList(raw('sql-after')),
    verify: problems.collect(() => parseVerification(raw('verify'))) ?? 'list',
    sources: [],
    extraArgs: problems.collect(() => splitExtraArgs(raw('extra-args'))) ?? [],
    mirror: problems.collect(() => parseMirror(raw('mirror'))),
    cache: bool('cache', true),
    s3: {
      endpoint: problems.collect(() => parseS3Endpoint(raw('s3-endpoint'))),
      region: raw('s3-region'),
      forcePathStyle: bool('s3-force-path-style', false),
      sse: problems.collect(() => parseServerSideEncryption(raw('s3-sse'))),
      kmsKeyId: raw('s3-kms-key-id'),
    },
  };
  if (options.schemaOnly && options.dataOnly)
    problems.add('data-only', 'cannot be combined with schema-only');

  if (options.s3.kmsKeyId && options.s3.sse !== 'aws:kms')
    problems.add('s3-kms-key-id', 'needs s3-sse: aws:kms');

  const from = raw('from');
  const to = raw('to');
  const database = (name: 'from' | 'to', value: string | undefined): ConnectionSpec | undefined => {
    if (value === undefined) {
      problems.add(name, `is required for ${cmd}; expected a postgres URL or conninfo`);
      return undefined;
    }
    if (!isDatabase(value)) {
      problems.add(
        name,
        `${cmd} needs a database here, not a path; expected a postgres:// URL or conninfo such as "host=db dbname=app"`,
      );
      return undefined;
    }
    return problems.collect(() => parseConnection(value, name, env));
  };
  const location = (name: 'from' | 'to', value: string | undefined, what: string): Location | undefined => {
    if (value === undefined) {
      problems.add(name, `is required for ${cmd}; expected ${what}`);
      return undefined;
    }
    if (isDatabase(value)) {
      problems.add(name, `${cmd} needs ${what} here, not a database`);
      return undefined;
    }
    return problems.collect(() => parseLocation(value, name));
  };

  switch (cmd) {
    case 'dump':
      options.source = database('from', from);
      options.destination = location('to', to, 'a file path or an s3:// URI');
      break;
    case 'backup':
      // Several databases, one per line, each get their own backup.
      options.sources = (from ?? '')
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
        .map((line) => database('from', line))
        .filter((spec): spec is ConnectionSpec => spec !== undefined);
      // Each name becomes a key segment: check it before anything is dumped or written.
      for (const spec of options.sources) {
        const problem = databaseNameProblem(databaseName(spec));
        if (problem) problems.add('from', problem);
      }
      if (from === undefined) database('from', from);
      options.source = options.sources[0];
      if (to !== undefined && !isS3Uri(to)) {
        problems.add('to', `backup stores to S3; expected an s3://bucket/prefix/ URI, not "${to}"`);
      } else {
        options.destination = location('to', to, 'an s3://bucket/prefix/ URI');
      }
      break;
    case 'restore':
      options.archive = location('from', from, 'an archive path, a .sql / .sql.gz file or an s3:// URI');
      options.target = database('to', to);
      break;
    case 'copy':
      options.source = database('from', from);
      options.target = database('to', to);
      break;
    case 'install':
      if (from !== undefined) options.source = database('from', from);
      break;
  }
  problems.throwIfAny();
  return options;
}
