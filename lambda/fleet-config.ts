import type { InputProblems } from '../core/errors.js';
import { refuseUnknownVariables } from '../core/env-variables.js';
import { readSharedSettings, type SourceAuth } from './config.js';
import { JsonFields } from './json-fields.js';
import {
  checkDatabaseNames,
  parseDatabaseName,
  parseRulesLocation,
  parseSecretArn,
  parseSqlFiles,
  parseSslmode,
  verifying,
  type Sslmode,
} from './job-values.js';
import { JOB_VARIABLE_NAMES, type JobVariableName } from './job-variables.js';
import { VariableReader } from './variable-reader.js';

export const FLEET_VARIABLE = 'PGFERRY_FLEET';
export const FLEET_VARIABLES = [
  FLEET_VARIABLE,
  'PGFERRY_FLEET_FARGATE',
  'PGFERRY_FLEET_UNIT',
  'PGFERRY_FLEET_JOB',
] as const;

/** What the fleet's JSON sets per source or seed: beside PGFERRY_FLEET these would be ambiguous. */
const SINGLE_DATABASE_VARIABLES: readonly JobVariableName[] = JOB_VARIABLE_NAMES.filter(
  (name) =>
    /^PGFERRY_(SOURCE_|SEED_)/.test(name) ||
    [
      'PGFERRY_JOB',
      'PGFERRY_DATABASES',
      'PGFERRY_SSL_ROOT_CERT',
      'PGFERRY_SWAP',
      'PGFERRY_SANITIZE_SQL',
      'PGFERRY_MASKING_RULES',
      'PGFERRY_MASKING_KEY_SECRET_ARN',
      'PGFERRY_DEADLINE_MARGIN_SECONDS',
    ].includes(name),
);

// Same rule as the construct's: an id is a unit-name segment and a metric dimension.
const FLEET_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

export interface FleetSource {
  id: string;
  auth: SourceAuth;
  sslmode: Sslmode;
  sslRootCert?: string;
  databases: string[];
}

export interface FleetSeed {
  id: string;
  /** The backup unit whose latest verified backup seeds staging. */
  from: { source: string; database: string };
  secretArn: string;
  database: string;
  confirm: string;
  sslmode: Sslmode;
  sslRootCert?: string;
  swap: boolean;
  sanitizeSql: string[];
  /** The masking rules: a path or `s3://bucket/key` (PGFERRY_MASKING_RULES of the single job). */
  maskingRules?: string;
  /** The secret whose string is the masking key (PGFERRY_MASKING_KEY_SECRET_ARN). */
  maskingKeySecretArn?: string;
}

/** Settings every unit shares (bucket, prefix, S3, client tools …), read from the job's variables. */
export type SharedSettings = ReturnType<typeof readSharedSettings>;

export interface FleetConfig {
  sources: FleetSource[];
  seeds: FleetSeed[];
  /** The Lambda function's timeout; 0 when the fleet has no Lambda (Fargate only). */
  lambdaLimitSeconds: number;
  deadlineMarginSeconds: number;
  shared: SharedSettings;
}

function parseJson(env: NodeJS.ProcessEnv, problems: InputProblems): unknown {
  const text = env[FLEET_VARIABLE];
  if (text === undefined || text.trim() === '') {
    problems.add(FLEET_VARIABLE, 'is required; expected the fleet as JSON ({"sources": [...], ...})');
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    problems.add(FLEET_VARIABLE, `is not JSON (${(error as Error).message})`);
    return undefined;
  }
}

/**
 * The fleet's configuration: PGFERRY_FLEET (sources, seeds, Lambda limit) and the storage and
 * client variables the single-database job reads. Every problem is reported at once, each named
 * by its variable or JSON path.
 */
export function parseFleetConfig(env: NodeJS.ProcessEnv): FleetConfig {
  const r = new VariableReader(env, {});
  const problems = r.problems;
  const known = [...JOB_VARIABLE_NAMES, ...FLEET_VARIABLES];
  refuseUnknownVariables(env, known, problems, "the README's table of the job's environment");
  for (const name of SINGLE_DATABASE_VARIABLES)
    if (env[name] !== undefined)
      problems.add(
        name,
        `is a single-database variable and cannot be set beside ${FLEET_VARIABLE}; the fleet's sources and seeds set it per unit`,
      );
  const shared = readSharedSettings(r);
  const json = parseJson(env, problems);
  const fleet: FleetConfig = {
    sources: [],
    seeds: [],
    lambdaLimitSeconds: 0,
    deadlineMarginSeconds: 0,
    shared,
  };
  if (json !== undefined) readFleet(new JsonFields(json, FLEET_VARIABLE, problems, TOP_FIELDS), fleet);
  problems.throwIfAny();
  return fleet;
}

const TOP_FIELDS = ['sources', 'seeds', 'lambdaLimitSeconds', 'deadlineMarginSeconds'];

function readFleet(f: JsonFields, fleet: FleetConfig): void {
  if (!f.ok) return;
  // 900 s is Lambda's own ceiling; 0 says the fleet has no Lambda.
  fleet.lambdaLimitSeconds = f.integer('lambdaLimitSeconds', 0, 900, true) ?? 0;
  fleet.deadlineMarginSeconds = f.integer('deadlineMarginSeconds', 0, 899, true) ?? 0;
  if (fleet.lambdaLimitSeconds > 0 && fleet.deadlineMarginSeconds >= fleet.lambdaLimitSeconds)
    f.problems.add(
      f.at('deadlineMarginSeconds'),
      `${fleet.deadlineMarginSeconds} leaves no time inside lambdaLimitSeconds ${fleet.lambdaLimitSeconds}`,
    );
  const sources = f.list('sources', true);
  if (f.has('sources') && sources.length === 0)
    f.problems.add(f.at('sources'), 'is empty; expected a source');
  sources.forEach((s, i) => {
    const source = readSource(new JsonFields(s, `${f.at('sources')}[${i}]`, f.problems, SOURCE_FIELDS));
    if (source) fleet.sources.push(source);
  });
  f.list('seeds', false).forEach((s, i) => {
    const seed = readSeed(new JsonFields(s, `${f.at('seeds')}[${i}]`, f.problems, SEED_FIELDS), fleet);
    if (seed) fleet.seeds.push(seed);
  });
  checkUnique(fleet, f);
}

/** Ids name units and metrics: one id, one source or seed; one server's database, one unit. */
function checkUnique(fleet: FleetConfig, f: JsonFields): void {
  const ids = new Map<string, string>();
  const endpoints = new Map<string, string>();
  const claim = (map: Map<string, string>, key: string, at: string, what: string): void => {
    const first = map.get(key);
    if (first) f.problems.add(at, `${what} is listed twice (first at ${first})`);
    else map.set(key, at);
  };
  fleet.sources.forEach((s, i) => {
    const at = `${f.at('sources')}[${i}]`;
    claim(ids, s.id, `${at}.id`, `id "${s.id}"`);
    s.databases.forEach((d, j) => {
      // With IAM the server is known here; two secrets may hide the same server, which no one can see.
      if (s.auth.kind === 'iam')
        claim(
          endpoints,
          `${s.auth.host}:${s.auth.port}/${d}`,
          `${at}.databases[${j}]`,
          `database "${d}" of ${s.auth.host}:${s.auth.port}`,
        );
    });
  });
  fleet.seeds.forEach((s, i) => claim(ids, s.id, `${f.at('seeds')}[${i}].id`, `id "${s.id}"`));
}

function readId(f: JsonFields): string | undefined {
  const id = f.text('id', true);
  if (id !== undefined && !FLEET_ID.test(id)) {
    f.problems.add(
      f.at('id'),
      `"${id}" is not an id; expected 1–32 letters, digits, _ or -, starting with a letter or digit`,
    );
    return undefined;
  }
  return id;
}

const SOURCE_FIELDS = [
  'id',
  'endpoint',
  'port',
  'secretArn',
  'iamAuth',
  'sslMode',
  'sslRootCert',
  'databases',
];

function readSource(f: JsonFields): FleetSource | undefined {
  if (!f.ok) return undefined;
  const id = readId(f);
  const sslmode = f.parsed('sslMode', parseSslmode) ?? 'require';
  const sslRootCert = f.text('sslRootCert', false);
  if (verifying(sslmode) && !sslRootCert)
    f.problems.add(f.at('sslRootCert'), `is required with sslMode ${sslmode}; expected the CA bundle's path`);
  const auth = readAuth(f, sslmode);
  const databases = readDatabases(f);
  if (id === undefined || auth === undefined) return undefined;
  return { id, auth, sslmode, ...(sslRootCert ? { sslRootCert } : {}), databases };
}

/** A secret, or IAM authentication to an endpoint: exactly one. */
function readAuth(f: JsonFields, sslmode: Sslmode): SourceAuth | undefined {
  const secretArn = f.parsed('secretArn', parseSecretArn);
  if (f.has('secretArn') && f.has('iamAuth')) {
    f.problems.add(f.at('iamAuth'), 'cannot be combined with secretArn; choose one');
    return undefined;
  }
  if (f.has('secretArn')) {
    for (const key of ['endpoint', 'port'])
      if (f.has(key))
        f.problems.add(f.at(key), "is for iamAuth; with secretArn the secret's host and port are used");
    return secretArn ? { kind: 'secret', secretArn } : undefined;
  }
  if (!f.has('iamAuth')) {
    f.problems.add(f.path, 'needs secretArn or iamAuth (with endpoint); expected one of them');
    return undefined;
  }
  const iam = new JsonFields(f.raw('iamAuth'), f.at('iamAuth'), f.problems, ['username', 'resourceId']);
  const user = iam.ok ? iam.text('username', true) : undefined;
  if (iam.ok) iam.text('resourceId', true); // the construct's IAM policy needs it; the job does not
  const host = f.text('endpoint', true);
  const port = f.integer('port', 1, 65535, false) ?? 5432;
  if (['disable', 'allow', 'prefer'].includes(sslmode))
    f.problems.add(
      f.at('sslMode'),
      `"${sslmode}" cannot carry an IAM token; IAM authentication needs require or stricter`,
    );
  return user && host ? { kind: 'iam', host, port, user } : undefined;
}

function readDatabases(f: JsonFields): string[] {
  const list = f.list('databases', true);
  if (f.has('databases') && list.length === 0)
    f.problems.add(f.at('databases'), 'is empty; expected the names of the databases to back up');
  const names: string[] = [];
  const first = new Map<string, number>();
  list.forEach((name, i) => {
    const at = `${f.at('databases')}[${i}]`;
    if (typeof name !== 'string' || name === '') {
      f.problems.add(at, 'expected a database name');
      return;
    }
    const seen = first.get(name);
    if (seen !== undefined) {
      f.problems.add(at, `database "${name}" is listed twice (first at ${f.at('databases')}[${seen}])`);
      return;
    }
    first.set(name, i);
    if (f.problems.collect(() => checkDatabaseNames([name], at))) names.push(name);
  });
  return names;
}

const SEED_FIELDS = [
  'id',
  'from',
  'secretArn',
  'database',
  'confirm',
  'sslMode',
  'sslRootCert',
  'swap',
  'sanitizeSql',
  'maskingRules',
  'maskingKeySecretArn',
];

function readSeed(f: JsonFields, fleet: FleetConfig): FleetSeed | undefined {
  if (!f.ok) return undefined;
  const id = readId(f);
  const from = readSeedFrom(f, fleet);
  const secretArn = f.text('secretArn', true) && f.parsed('secretArn', parseSecretArn);
  const database = f.text('database', true) && f.parsed('database', parseDatabaseName);
  const confirm = f.text('confirm', true);
  if (confirm !== undefined && database !== undefined && confirm !== database)
    f.problems.add(
      f.at('confirm'),
      `must equal ${f.at('database')} ("${database}"): seeding replaces its contents`,
    );
  const sslmode = f.parsed('sslMode', parseSslmode) ?? 'require';
  const sslRootCert = f.text('sslRootCert', false);
  if (verifying(sslmode) && !sslRootCert)
    f.problems.add(f.at('sslRootCert'), `is required with sslMode ${sslmode}; expected the CA bundle's path`);
  const swap = f.boolean('swap', true);
  const sanitizeSql = readSanitizeSql(f);
  const maskingRules = f.parsed('maskingRules', parseRulesLocation);
  const maskingKeySecretArn = f.parsed('maskingKeySecretArn', parseSecretArn);
  if (maskingKeySecretArn && !maskingRules)
    f.problems.add(
      f.at('maskingKeySecretArn'),
      `is set without ${f.at('maskingRules')}; nothing would use the key`,
    );
  if (!id || !from || !secretArn || !database || !confirm) return undefined;
  return {
    id,
    from,
    secretArn,
    database,
    confirm,
    sslmode,
    ...(sslRootCert ? { sslRootCert } : {}),
    swap,
    sanitizeSql,
    ...(maskingRules ? { maskingRules } : {}),
    ...(maskingKeySecretArn ? { maskingKeySecretArn } : {}),
  };
}

/** `<sourceId>/<database>`: a backup unit of this fleet (sources are read before seeds). */
function readSeedFrom(f: JsonFields, fleet: FleetConfig): FleetSeed['from'] | undefined {
  const from = f.text('from', true);
  if (from === undefined) return undefined;
  const slash = from.indexOf('/');
  const source = fleet.sources.find((s) => s.id === from.slice(0, slash));
  const database = from.slice(slash + 1);
  if (slash < 0 || !source || !source.databases.includes(database)) {
    f.problems.add(
      f.at('from'),
      `"${from}" is not a unit of the fleet; expected <sourceId>/<database> of a source`,
    );
    return undefined;
  }
  return { source: source.id, database };
}

/** One `s3://…` or path (what the construct writes), or a list of them. */
function readSanitizeSql(f: JsonFields): string[] {
  const value = f.raw('sanitizeSql');
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  if (!items.every((v): v is string => typeof v === 'string')) {
    f.problems.add(f.at('sanitizeSql'), 'expected a path or s3://bucket/key, or an array of them');
    return [];
  }
  return items.flatMap((v) => f.problems.collect(() => parseSqlFiles(v, f.at('sanitizeSql'))) ?? []);
}
