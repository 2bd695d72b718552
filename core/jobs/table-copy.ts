import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { ConnectionSpec } from '../pg/connection.js';
import { connect } from '../pg/server.js';
import { quoteIdent } from './database-properties.js';

/** A table whose rows a copy moves: a leaf (plain table or partition), with the columns to carry. */
export interface TableToCopy {
  schema: string;
  name: string;
  /** Neither dropped nor generated (the target computes generated ones), in attnum order. */
  columns: string[];
  bytes: number;
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** `"schema"."name" ("a", "b")`, or without a list for a table with no column to carry. */
function target(t: TableToCopy): string {
  const list = t.columns.length ? ` (${t.columns.map(quoteIdent).join(', ')})` : '';
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}${list}`;
}

/**
 * The settings pg_dump and pg_restore give their sessions, so that text rows read the same on both
 * sides: the source database's encoding, ISO dates, exact floats, no row security silently hiding
 * rows (an error instead), no timeout ending a long COPY or the idle source transaction.
 */
function sessionSettings(encoding: string): string {
  return [
    `SET client_encoding = ${quoteLiteral(encoding)}`,
    'SET DateStyle = ISO',
    'SET IntervalStyle = postgres',
    'SET extra_float_digits = 3',
    'SET row_security = off',
    'SET statement_timeout = 0',
    'SET lock_timeout = 0',
    'SET idle_in_transaction_session_timeout = 0',
  ].join('; ');
}

/**
 * One worker of a parallel copy: a source session inside the exported snapshot and a target
 * session. Rows go as text COPY, which every pair of majors reads alike.
 */
export class TableCopySession {
  private current: Readable | undefined;
  private constructor(
    private readonly source: pg.Client,
    private readonly target: pg.Client,
  ) {}

  static async open(o: {
    from: ConnectionSpec;
    to: ConnectionSpec;
    snapshot: string;
    encoding: string;
  }): Promise<TableCopySession> {
    const source = await connect(o.from, 'from');
    const target = await connect(o.to, 'to').catch(async (error: unknown) => {
      await source.end().catch(() => {});
      throw error;
    });
    const session = new TableCopySession(source, target);
    try {
      await source.query(sessionSettings(o.encoding));
      await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await source.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(o.snapshot)}`);
      // Durability comes from the later synchronous commits (post-data), which flush this WAL too;
      // a failed copy drops the whole database anyway.
      await target.query(`${sessionSettings(o.encoding)}; SET synchronous_commit = off`);
    } catch (error) {
      await session.close();
      throw error;
    }
    return session;
  }

  /**
   * Copies one table's rows. The table is truncated in the same transaction first (it is empty,
   * freshly made by pre-data), which lets COPY FREEZE write the rows already frozen: no later
   * vacuum rewrites them.
   */
  async copy(t: TableToCopy, onBytes: (n: number) => void): Promise<void> {
    await this.target.query('BEGIN');
    await this.target.query(`TRUNCATE ONLY ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`);
    const into = this.target.query(copyFrom(`COPY ${target(t)} FROM STDIN WITH (FREEZE)`));
    const out = this.source.query(copyTo(`COPY ${target(t)} TO STDOUT`));
    this.current = out;
    out.on('data', (chunk: Buffer) => onBytes(chunk.length));
    try {
      await pipeline(out, into);
    } finally {
      this.current = undefined;
    }
    await this.target.query('COMMIT');
  }

  /** Ends both sessions; a COPY in flight fails, and its target transaction rolls back. */
  async close(): Promise<void> {
    this.current?.destroy();
    await Promise.all([this.source.end().catch(() => {}), this.target.end().catch(() => {})]);
  }
}
