import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { connectionEnv } from '../../core/pg/connection.js';
import { toolPath, type ClientTools } from '../../core/pg/clients/tools.js';
import { runTool } from '../../core/pg/run.js';
import { conn, connUrl } from './testbed.js';
import type { ServerMajor } from './paths.js';

/** `pg_dump --schema-only` without the lines that differ between any two dumps (versions, keys). */
export async function schemaOf(tools: ClientTools, major: ServerMajor, db: string): Promise<string> {
  const { stdout } = await runTool({
    file: toolPath(tools, 'pg_dump'),
    args: ['--schema-only', '--no-password'],
    env: connectionEnv(conn(major, db)),
    stdout: 'capture',
  });
  return stdout
    .split('\n')
    .filter((line) => !/^-- Dumped (from|by) /.test(line) && !/^\\(un)?restrict /.test(line))
    .join('\n');
}

/** Per table (and materialized view): row count and an order-independent hash of its rows. */
export async function rowHashes(major: ServerMajor, db: string): Promise<Record<string, string>> {
  return rowHashesAt(connUrl(major, db));
}

/** rowHashes of the database at a connection URL (the bench's own server). */
export async function rowHashesAt(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(`
      SELECT format('%I.%I', n.nspname, c.relname) AS name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY 1`);
    const out: Record<string, string> = {};
    for (const { name } of tables) {
      const { rows } = await client.query<{ n: string; h: string }>(
        `SELECT count(*) AS n, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS h FROM ${name} t`,
      );
      out[name] = `${rows[0]?.n}:${rows[0]?.h}`;
    }
    const { rows: lo } = await client.query<{ n: string; h: string }>(
      `SELECT count(*) AS n, md5(coalesce(string_agg(oid::text || ':' || md5(lo_get(oid)), ',' ORDER BY oid), '')) AS h FROM pg_largeobject_metadata`,
    );
    out['(large objects)'] = `${lo[0]?.n}:${lo[0]?.h}`;
    return out;
  } finally {
    await client.end();
  }
}

/**
 * The objects a schema dump holds (type, schema, name, owner), without ids: for comparing databases
 * of different majors, whose servers word view definitions differently.
 */
export async function objectsOf(tools: ClientTools, major: ServerMajor, db: string): Promise<string[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgferry-objects-'));
  try {
    const file = path.join(dir, 'schema.dump');
    await runTool({
      file: toolPath(tools, 'pg_dump'),
      args: ['--schema-only', '--format=custom', `--file=${file}`, '--no-password'],
      env: connectionEnv(conn(major, db)),
      stdout: 'ignore',
    });
    const { stdout } = await runTool({
      file: toolPath(tools, 'pg_restore'),
      args: ['--list', file],
      stdout: 'capture',
    });
    return stdout
      .split('\n')
      .filter((line) => /^\d+;/.test(line))
      .map((line) => line.replace(/^\d+; \d+ \d+ /, ''))
      .sort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
