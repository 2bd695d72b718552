/** The few PostgreSQL calls the bench and the demo make outside pgferry itself. */
import pg from 'pg';

/**
 * Runs `fn` on a fresh connection to `url` and closes it. An error the connection raises (the
 * server stopped under it, as on Ctrl-C) goes to `onError`, or is dropped: the pending query
 * rejects with it anyway, and an unhandled 'error' event would kill the process mid-cleanup.
 */
export async function withClient<T>(
  url: string,
  fn: (client: pg.Client) => Promise<T>,
  onError: (error: Error) => void = () => {},
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', onError);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** pg_database_size of the database `client` is connected to, in bytes. */
export async function currentDatabaseSize(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ size: string }>(
    'SELECT pg_database_size(current_database()) AS size',
  );
  return Number(rows[0]?.size ?? 0);
}
