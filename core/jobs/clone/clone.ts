import type pg from 'pg';
import { InputError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { databaseName, describeConnection, type ConnectionSpec } from '../../pg/connection.js';
import { connect } from '../../pg/server.js';
import { maintenanceOf } from '../../pg/target-database.js';
import { createCopies, planCopies, strategyFor, type CloneStrategy } from './create-copies.js';
import { checkReplaceConfirmed, checkSameServer, copyNames, refuseBusy } from './guards.js';

export interface CloneRequest {
  /** The seeded database, the template of every copy. */
  source: ConnectionSpec;
  copies: ConnectionSpec[];
  clean: boolean;
  /** The copies a clean clone may replace, by name. */
  confirm: string[];
  /** Mark the source IS_TEMPLATE once the copies are made. */
  markTemplate: boolean;
  log: Logger;
  signal?: AbortSignal;
}

export interface CloneResult {
  databases: string[];
  replaced: string[];
  strategy: CloneStrategy;
  serverVersion: string;
  serverMajor: number;
}

/** The server's own databases: a clone never replaces nor shadows them. */
const SERVER_DATABASES = ['postgres', 'template0', 'template1'];

interface ServerState {
  serverMajor: number;
  serverVersion: string;
  existing: string[];
}

async function readServerState(
  client: pg.Client,
  source: ConnectionSpec,
  names: string[],
): Promise<ServerState> {
  const template = databaseName(source);
  const { rows } = await client.query<{ num: number; text: string; found: string[]; has_template: boolean }>(
    `SELECT current_setting('server_version_num')::int AS num, current_setting('server_version') AS text,
            ARRAY(SELECT datname::text FROM pg_database WHERE datname = ANY($1::text[])) AS found,
            EXISTS (SELECT 1 FROM pg_database WHERE datname = $2) AS has_template`,
    [names, template],
  );
  const row = rows[0];
  if (!row?.has_template)
    throw new InputError('from', `database "${template}" does not exist on ${describeConnection(source)}`);
  // In the order the copies were given, not pg_database's (which a replace by rename reshuffles).
  const existing = names.filter((n) => row.found.includes(n));
  return { serverMajor: Math.floor(row.num / 10000), serverVersion: row.text, existing };
}

function refuseServerDatabases(names: readonly string[]): void {
  const own = names.filter((n) => SERVER_DATABASES.includes(n));
  if (own.length)
    throw new InputError(
      'to',
      `"${own[0]}" is one of the server's own databases; a copy needs a name of its own`,
    );
}

/**
 * clone: N copies of a seeded database on its own server, for parallel test workers. Every check
 * runs before the first CREATE DATABASE; a failure after it drops what this run created.
 */
export async function cloneDatabase(req: CloneRequest): Promise<CloneResult> {
  const names = copyNames(req.source, req.copies);
  refuseServerDatabases(names);
  await checkSameServer(req.source, req.copies);
  const template = databaseName(req.source);
  // On the maintenance database: a session on the template itself would block its own clone.
  const client = await connect(maintenanceOf(req.source), 'from');
  try {
    const state = await readServerState(client, req.source, names);
    checkReplaceConfirmed(state.existing, req.clean, req.confirm);
    await refuseBusy(client, req.source, template, state.existing);
    const plan = { template, serverMajor: state.serverMajor, copies: planCopies(names, state.existing) };
    // CREATE DATABASE waits a few seconds for sessions to go before it fails: say whose they are.
    const onBusy = () =>
      refuseBusy(client, req.source, template, state.existing).then(
        () => undefined,
        (error: Error) => error,
      );
    await createCopies(client, { ...plan, log: req.log, signal: req.signal }, onBusy);
    if (req.markTemplate)
      await client.query(`ALTER DATABASE ${client.escapeIdentifier(template)} IS_TEMPLATE true`);
    const strategy = strategyFor(state.serverMajor);
    const { serverMajor, serverVersion } = state;
    return { databases: names, replaced: state.existing, strategy, serverMajor, serverVersion };
  } finally {
    await client.end().catch(() => {});
  }
}
