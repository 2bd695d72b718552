import { InputError } from '../errors.js';
import { databaseName, describeConnection, withDatabase, type ConnectionSpec } from './connection.js';
import { explainConnectError, serverFacts, withClient } from './server.js';

/**
 * Makes sure the target database exists: when it does not and `create` is set, creates it from the
 * server's maintenance database. Returns whether it was created.
 */
export async function ensureDatabase(
  target: ConnectionSpec,
  create: boolean,
  input = 'to',
): Promise<boolean> {
  const name = databaseName(target);
  return withClient(maintenanceOf(target), input, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    if (!create) {
      throw new InputError(
        input,
        `database "${name}" does not exist on ${describeConnection(target)}; create it, or set create-database to true`,
      );
    }
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } catch (error) {
      throw explainConnectError(target, input, error);
    }
    return true;
  });
}

/** The database to connect to for work on the server rather than on the target database itself. */
export function maintenanceOf(target: ConnectionSpec): ConnectionSpec {
  return withDatabase(target, databaseName(target) === 'postgres' ? 'template1' : 'postgres');
}

/**
 * A database this run created is dropped again when the run fails, so that a failed restore leaves
 * the server as it found it.
 */
export async function undoCreatedOnFailure<T>(
  created: boolean,
  target: ConnectionSpec,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (created) await dropDatabase(target).catch(() => {});
    throw error;
  }
}

export async function dropDatabase(target: ConnectionSpec, input = 'to'): Promise<void> {
  const name = databaseName(target);
  await withClient(maintenanceOf(target), input, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)}`),
  );
}

/**
 * Guarantee 2: a restore that drops objects (`clean`) or lands on a database that already has user
 * tables must be confirmed by naming the target database.
 */
export function checkDestructiveRestore(options: {
  database: string;
  clean: boolean;
  hasUserTables: boolean;
  confirm: string | undefined;
}): void {
  const { database, clean, hasUserTables, confirm } = options;
  if (confirm === database) return;
  // A confirm that names another database is a mistake whatever the restore: never go ahead.
  if (!clean && !hasUserTables && confirm === undefined) return;
  const why = clean ? 'clean drops its existing objects' : 'it already has user tables';
  throw new InputError(
    'confirm',
    confirm !== undefined
      ? `"${confirm}" does not match the target database "${database}"${clean || hasUserTables ? `; this restore is destructive (${why})` : ''}`
      : `this restore into "${database}" is destructive (${why}); set confirm to "${database}" to go ahead`,
  );
}

/**
 * The destructive-restore guard decided on the target as it is now, before anything is created:
 * a database that does not exist yet has no tables, and a refusal leaves the server untouched.
 * Returns whether the target exists.
 */
export async function guardTargetBeforeCreating(
  target: ConnectionSpec,
  options: { clean: boolean; confirm: string | undefined },
  input = 'to',
): Promise<boolean> {
  const name = databaseName(target);
  const exists = await withClient(maintenanceOf(target), input, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return (rowCount ?? 0) > 0;
  });
  const facts = exists ? await serverFacts(target, input) : undefined;
  checkDestructiveRestore({
    database: facts?.database ?? name,
    clean: options.clean,
    hasUserTables: facts?.hasUserTables ?? false,
    confirm: options.confirm,
  });
  return exists;
}
