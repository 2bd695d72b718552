import { readFileSync } from 'node:fs';
import pg from 'pg';
import { PgferryError } from '../errors.js';
import {
  describeConnection,
  hostPort,
  pgClientConfig,
  type ConnectionSpec,
  type PgClientConfig,
} from './connection.js';
import { versionFromNum, type PgVersion } from './version.js';

export interface ServerFacts {
  version: PgVersion;
  /** `server_version` as the server reports it, e.g. "16.4 (Debian 16.4-1.pgdg120+1)". */
  versionText: string;
  database: string;
  sizeBytes: number;
  hasUserTables: boolean;
}

/** Raised when a server cannot be reached or refuses us; `sqlState` is the PostgreSQL SQLSTATE if any. */
export class ConnectionError extends PgferryError {
  override readonly name: string = 'ConnectionError';
  constructor(
    message: string,
    readonly sqlState?: string,
  ) {
    super(message, { code: 'connection' });
  }
}

function sslCandidates(spec: ConnectionSpec): PgClientConfig['ssl'][] {
  switch (spec.params.sslmode ?? 'prefer') {
    case 'disable':
      return [false];
    case 'allow':
      return [false, { rejectUnauthorized: false }];
    case 'require':
      return [{ rejectUnauthorized: false }];
    case 'verify-ca':
    case 'verify-full': {
      const root = spec.params.sslrootcert;
      return [{ rejectUnauthorized: true, ...(root ? { ca: readFileSync(root, 'utf8') } : {}) }];
    }
    default:
      // libpq's `prefer`: try TLS, fall back to plain when the server has none.
      return [{ rejectUnauthorized: false }, false];
  }
}

/** Opens a node-postgres client, following sslmode and turning failures into clear messages. */
export async function connect(spec: ConnectionSpec, role = 'database'): Promise<pg.Client> {
  const candidates = sslCandidates(spec);
  let last: unknown;
  for (const ssl of candidates) {
    const client = new pg.Client(pgClientConfig(spec, ssl));
    // A dropped connection must not crash the process through an unhandled 'error' event.
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (error) {
      last = error;
      await client.end().catch(() => {});
      if (!/does not support SSL|SSL connection|ssl/i.test(String((error as Error).message))) break;
    }
  }
  throw explainConnectError(spec, role, last);
}

export function explainConnectError(spec: ConnectionSpec, role: string, error: unknown): ConnectionError {
  const e = error as { code?: string; message?: string };
  const where = `${role} ${describeConnection(spec)}`;
  switch (e.code) {
    case '28P01':
    case '28000':
      return new ConnectionError(
        `${where}: authentication failed for user "${spec.params.user ?? ''}" (check the password and pg_hba.conf)`,
        e.code,
      );
    case '3D000':
      return new ConnectionError(`${where}: database "${spec.params.dbname ?? ''}" does not exist`, e.code);
    case 'ECONNREFUSED':
      return new ConnectionError(`${where}: cannot connect to ${hostPort(spec)}: connection refused`, e.code);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConnectionError(`${where}: cannot resolve host of ${hostPort(spec)}`, e.code);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new ConnectionError(`${where}: cannot reach ${hostPort(spec)} (${e.code})`, e.code);
  }
  if (/timeout/i.test(e.message ?? '')) {
    return new ConnectionError(`${where}: cannot reach ${hostPort(spec)}: connection timed out`, 'ETIMEDOUT');
  }
  const password = spec.params.password;
  let detail = e.message ?? String(error);
  if (password) detail = detail.split(password).join('***');
  return new ConnectionError(`${where}: ${detail}`, e.code);
}

/** Runs `fn` with a connected client and always closes it. */
export async function withClient<T>(
  spec: ConnectionSpec,
  role: string,
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connect(spec, role);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

const FACTS_SQL = `
SELECT current_setting('server_version_num')::int AS num,
       current_setting('server_version') AS text,
       current_database() AS database,
       pg_database_size(current_database())::bigint AS size,
       EXISTS (
         SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
       ) AS has_user_tables`;

/** Everything pgferry needs to know about a server, from one connection and one query. */
export async function serverFacts(spec: ConnectionSpec, role = 'database'): Promise<ServerFacts> {
  return withClient(spec, role, async (client) => {
    const { rows } = await client.query<{
      num: number;
      text: string;
      database: string;
      size: string;
      has_user_tables: boolean;
    }>(FACTS_SQL);
    const row = rows[0];
    if (!row) throw new PgferryError(`${role} ${describeConnection(spec)}: the server returned no facts`);
    return {
      version: versionFromNum(row.num),
      versionText: row.text,
      database: row.database,
      sizeBytes: Number(row.size),
      hasUserTables: row.has_user_tables,
    };
  });
}

const TABLE_DATA_SQL = `
SELECT coalesce(sum(pg_table_size(c.oid)), 0)::bigint AS bytes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE (c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%')
    OR c.oid = 'pg_catalog.pg_largeobject'::regclass`;

/**
 * On-disk size of what a whole dump reads as data: user tables (heap and TOAST) and large objects.
 * pg_table_size takes each table's lightest lock, so a table locked by a migration would hold the
 * query up: after a short lock timeout it gives up, and the caller goes without an estimate.
 */
export async function tableDataBytes(spec: ConnectionSpec, role = 'from'): Promise<number | undefined> {
  return withClient(spec, role, async (client) => {
    try {
      await client.query('BEGIN READ ONLY');
      await client.query("SET LOCAL lock_timeout = '200ms'");
      const { rows } = await client.query<{ bytes: string }>(TABLE_DATA_SQL);
      return rows[0] ? Number(rows[0].bytes) : undefined;
    } catch {
      return undefined;
    } finally {
      await client.query('ROLLBACK').catch(() => {});
    }
  }).catch(() => undefined);
}
