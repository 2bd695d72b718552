import { InputError } from '../errors.js';

/**
 * A database connection as libpq keywords (`host`, `port`, `dbname`, `user`, `password`, `sslmode`,
 * …). Tools get it through their environment (PGHOST, …), never argv; node-postgres gets `pgConfig`.
 */
export interface ConnectionSpec {
  readonly params: Readonly<Record<string, string>>;
}

/** libpq keyword → environment variable, for every keyword that has one. */
const KEYWORD_ENV: Readonly<Record<string, string>> = {
  host: 'PGHOST',
  hostaddr: 'PGHOSTADDR',
  port: 'PGPORT',
  dbname: 'PGDATABASE',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  passfile: 'PGPASSFILE',
  service: 'PGSERVICE',
  options: 'PGOPTIONS',
  application_name: 'PGAPPNAME',
  sslmode: 'PGSSLMODE',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslrootcert: 'PGSSLROOTCERT',
  sslcrl: 'PGSSLCRL',
  sslnegotiation: 'PGSSLNEGOTIATION',
  requirepeer: 'PGREQUIREPEER',
  gssencmode: 'PGGSSENCMODE',
  krbsrvname: 'PGKRBSRVNAME',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  client_encoding: 'PGCLIENTENCODING',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
  load_balance_hosts: 'PGLOADBALANCEHOSTS',
  require_auth: 'PGREQUIREAUTH',
  channel_binding: 'PGCHANNELBINDING',
};

const URL_ALIASES: Readonly<Record<string, string>> = { ssl: 'sslmode' };

export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

/**
 * Parses what a user gives as a database: a postgres URL, a key=value conninfo string, or nothing
 * (then the PG* environment alone). The `PG*` variables of `env` fill what the string leaves out,
 * as libpq would. Errors name `input` and never repeat the text, which may hold a password.
 */
export function parseConnection(
  raw: string | undefined,
  input: string,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionSpec {
  const text = (raw ?? '').trim();
  let own: Record<string, string>;
  if (text === '') own = {};
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) own = parseUrl(text, input);
  else if (/^\s*[a-z_]+\s*=/i.test(text)) own = parseConninfo(text, input);
  else {
    throw new InputError(
      input,
      'is not a database connection; expected a postgres:// or postgresql:// URL, or key=value conninfo such as "host=db port=5432 dbname=app"',
    );
  }
  const params: Record<string, string> = {};
  for (const [keyword, variable] of Object.entries(KEYWORD_ENV)) {
    const value = env[variable];
    if (value !== undefined && value !== '') params[keyword] = value;
  }
  Object.assign(params, own);
  if (
    params.port !== undefined &&
    !(/^\d{1,5}$/.test(params.port) && +params.port >= 1 && +params.port <= 65535)
  ) {
    throw new InputError(input, `port "${params.port}" is not a port number`);
  }
  return { params };
}

function parseUrl(text: string, input: string): Record<string, string> {
  const scheme = text.slice(0, text.indexOf(':')).toLowerCase();
  if (scheme !== 'postgres' && scheme !== 'postgresql') {
    throw new InputError(
      input,
      `"${scheme}://" URLs are not databases; expected postgres:// or postgresql://`,
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(
      input,
      'is not a valid postgres URL; expected postgres://user:password@host:port/dbname',
    );
  }
  const params: Record<string, string> = {};
  const decode = (s: string, what: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new InputError(input, `the URL's ${what} is not valid percent-encoding`);
    }
  };
  if (url.hostname) params.host = decode(url.hostname.replace(/^\[(.*)\]$/, '$1'), 'host');
  if (url.port) params.port = url.port;
  if (url.username) params.user = decode(url.username, 'user name');
  if (url.password) params.password = decode(url.password, 'password');
  const db = url.pathname.replace(/^\//, '');
  if (db) params.dbname = decode(db, 'database name');
  // Not URLSearchParams: it turns `+` into a space, and libpq keeps `+` as is.
  for (const pair of url.search.replace(/^\?/, '').split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const key = decode(eq === -1 ? pair : pair.slice(0, eq), 'query parameter');
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1), 'query parameter');
    params[URL_ALIASES[key] ?? key] = key === 'ssl' && value === 'true' ? 'require' : value;
  }
  return params;
}

/** key=value pairs; values may be single-quoted, with \' and \\ escapes (libpq's rules). */
function parseConninfo(text: string, input: string): Record<string, string> {
  const params: Record<string, string> = {};
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i] ?? '')) i++;
  };
  while (true) {
    skipSpace();
    if (i >= text.length) break;
    const keyStart = i;
    while (i < text.length && /[a-z_]/i.test(text[i] ?? '')) i++;
    const key = text.slice(keyStart, i);
    skipSpace();
    if (!key || text[i] !== '=') {
      throw new InputError(
        input,
        `conninfo is malformed near position ${keyStart + 1}; expected key=value pairs`,
      );
    }
    i++;
    skipSpace();
    let value = '';
    if (text[i] === "'") {
      i++;
      let closed = false;
      while (i < text.length) {
        const ch = text[i];
        if (ch === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (ch === "'") {
          i++;
          closed = true;
          break;
        } else {
          value += ch;
          i++;
        }
      }
      if (!closed) throw new InputError(input, `conninfo has an unterminated quoted value for "${key}"`);
    } else {
      while (i < text.length && !/\s/.test(text[i] ?? '')) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
    }
    params[key] = value;
  }
  return params;
}

/** The same connection pointed at another database (a scratch or freshly created one). */
export function withDatabase(spec: ConnectionSpec, dbname: string): ConnectionSpec {
  return { params: { ...spec.params, dbname } };
}

export function databaseName(spec: ConnectionSpec): string {
  return spec.params.dbname ?? spec.params.user ?? 'postgres';
}

export function hostPort(spec: ConnectionSpec): string {
  const host = spec.params.host ?? spec.params.hostaddr ?? 'localhost';
  return `${host}:${spec.params.port ?? '5432'}`;
}

/** `user@host:port/dbname` — safe to log, holds no password. */
export function describeConnection(spec: ConnectionSpec): string {
  const user = spec.params.user ? `${spec.params.user}@` : '';
  return `${user}${hostPort(spec)}/${databaseName(spec)}`;
}

/** Strings a front end must mask: the password as written and as it would appear URL-encoded. */
export function secretsOf(spec: ConnectionSpec): string[] {
  const password = spec.params.password;
  if (!password) return [];
  return [...new Set([password, encodeURIComponent(password)])];
}

/** Environment for a child tool: the connection as PG* variables, the password only here. */
export function connectionEnv(spec: ConnectionSpec): Record<string, string> {
  const env: Record<string, string> = { PGCONNECT_TIMEOUT: String(DEFAULT_CONNECT_TIMEOUT_SECONDS) };
  for (const [keyword, value] of Object.entries(spec.params)) {
    const variable = KEYWORD_ENV[keyword];
    if (variable) env[variable] = value;
  }
  return env;
}

/** What node-postgres needs for metadata queries. */
export interface PgClientConfig {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database: string;
  ssl?: boolean | { rejectUnauthorized: boolean; ca?: string };
  connectionTimeoutMillis: number;
  application_name: string;
}

/** sslmode → node-postgres ssl; `prefer` is handled by the caller (SSL first, then plain). */
export function pgClientConfig(spec: ConnectionSpec, ssl: PgClientConfig['ssl']): PgClientConfig {
  const p = spec.params;
  const timeout = Number(p.connect_timeout ?? DEFAULT_CONNECT_TIMEOUT_SECONDS);
  return {
    host: p.host ?? p.hostaddr,
    port: p.port ? Number(p.port) : undefined,
    user: p.user,
    password: p.password,
    database: databaseName(spec),
    ssl,
    connectionTimeoutMillis:
      (Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_CONNECT_TIMEOUT_SECONDS) * 1000,
    application_name: p.application_name ?? 'pgferry',
  };
}
