import type pg from 'pg';
import type { ConnectionSpec } from './connection.js';
import { connect } from './server.js';

/**
 * A snapshot exported by a session pgferry holds open (`pg_export_snapshot()`): every `pg_dump
 * --snapshot=<id>` started while it is held reads exactly the same data. The session stays in its
 * read-only repeatable-read transaction until `close()`; queries on `client` see the same snapshot
 * (a drill counts rows in it, a shard plan lists tables in it).
 */
export interface ExportedSnapshot {
  /** The id pg_dump takes as `--snapshot`. */
  readonly id: string;
  /** The session holding the snapshot; its queries run inside the snapshot's transaction. */
  readonly client: pg.Client;
  /** Ends the transaction and the session; safe to call twice and after the server dropped it. */
  close(): Promise<void>;
}

export async function exportSnapshot(spec: ConnectionSpec, role = 'from'): Promise<ExportedSnapshot> {
  const client = await connect(spec, role);
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    const id = rows[0]?.id;
    if (!id) throw new Error('pg_export_snapshot() returned no id');
    let closed: Promise<void> | undefined;
    return {
      id,
      client,
      close: () =>
        (closed ??= client
          .query('COMMIT')
          .then(
            () => undefined,
            () => undefined,
          )
          .finally(() => client.end().catch(() => {}))),
    };
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
}
