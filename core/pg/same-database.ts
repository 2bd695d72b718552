import { databaseName, hostPort, type ConnectionSpec } from './connection.js';
import { maintenanceOf } from './target-database.js';
import { withClient } from './server.js';

async function systemIdentifier(spec: ConnectionSpec): Promise<string | undefined> {
  // The maintenance database always exists, so this also works for a target not created yet.
  return withClient(maintenanceOf(spec), 'database', async (c) => {
    const { rows } = await c.query<{ id: string }>(
      'SELECT system_identifier::text AS id FROM pg_control_system()',
    );
    return rows[0]?.id;
  }).catch(() => undefined);
}

/**
 * Whether two connections reach the same database of the same server. Servers are told apart by
 * their system identifier (one server has many host names); by host:port when that is unreadable.
 */
export async function isSameDatabase(a: ConnectionSpec, b: ConnectionSpec): Promise<boolean> {
  if (databaseName(a) !== databaseName(b)) return false;
  return isSameServer(a, b);
}

/** Whether two connections reach the same server (whatever their databases). */
export async function isSameServer(a: ConnectionSpec, b: ConnectionSpec): Promise<boolean> {
  const [idA, idB] = await Promise.all([systemIdentifier(a), systemIdentifier(b)]);
  return idA !== undefined && idB !== undefined ? idA === idB : hostPort(a) === hostPort(b);
}
