import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { parseConnection, type ConnectionSpec } from '../../core/pg/connection.js';
import { EXTRA_TESTBED_STATE_ENV, TESTBED_STATE_ENV, type ServerMajor } from './paths.js';
import type { TestbedState, TestServer } from './servers.js';

/** What the global setup started, for tests in worker processes. */
export function testbed(): TestbedState {
  const file = process.env[TESTBED_STATE_ENV];
  if (!file) throw new Error(`${TESTBED_STATE_ENV} is not set: integration tests need the Jest global setup`);
  const state = JSON.parse(readFileSync(file, 'utf8')) as TestbedState;
  const extra = process.env[EXTRA_TESTBED_STATE_ENV];
  if (extra) state.servers.push(...(JSON.parse(readFileSync(extra, 'utf8')) as TestbedState).servers);
  return state;
}

export function server(major: ServerMajor): TestServer {
  const s = testbed().servers.find((x) => x.major === major);
  if (!s) throw new Error(`no test server of major ${major}`);
  return s;
}

export function mirrorUrl(): string {
  const url = testbed().mirrorUrl;
  if (!url) throw new Error('the test mirror is not running');
  return url;
}

export function connUrl(major: ServerMajor, db = 'postgres', password = testbed().password): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${server(major).port}/${db}`;
}

export function conn(major: ServerMajor, db = 'postgres'): ConnectionSpec {
  return parseConnection(connUrl(major, db), 'test', {});
}

export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  major: ServerMajor,
  db: string,
  text: string,
): Promise<T[]> {
  const client = new pg.Client({ connectionString: connUrl(major, db) });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export async function createDatabase(major: ServerMajor, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await sql(major, 'postgres', `CREATE DATABASE ${name}`);
  return name;
}
