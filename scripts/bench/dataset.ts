/** The generated databases: four tables of one application-like shape, filled to a target size. */
import type pg from 'pg';
import { currentDatabaseSize, withClient as withPgClient } from '../shared/postgres.js';
import { log } from './format.js';

const TABLES = ['accounts', 'orders', 'events', 'audit_log'] as const;

/** A connection that logs its errors (the query rejects too), as every bench connection does. */
export function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withPgClient(url, fn, (error) => log(`connection error: ${error.message}`));
}

const databaseSize = (url: string): Promise<number> => withClient(url, currentDatabaseSize);

/**
 * One shape for every table: ids, timestamps, amounts, a few repeated labels, an e-mail address,
 * free text (half md5 hex, half repeated words) and a jsonb document. It compresses like
 * application data usually does: neither all random nor all zeros.
 */
function createTableSql(table: string): string {
  return `CREATE TABLE ${table} (
    id bigint PRIMARY KEY,
    account_id integer NOT NULL,
    created_at timestamptz NOT NULL,
    amount numeric(12, 2) NOT NULL,
    status text NOT NULL,
    email text NOT NULL,
    note text NOT NULL,
    payload jsonb NOT NULL
  )`;
}

function insertSql(table: string, from: number, to: number): string {
  return `INSERT INTO ${table}
    SELECT g,
      (g::bigint * 7919) % 100000,
      timestamptz '2024-01-01' + g * interval '17 seconds',
      round((random() * 10000)::numeric, 2),
      (ARRAY['new', 'paid', 'shipped', 'refunded', 'cancelled'])[1 + g % 5],
      'user' || ((g::bigint * 31) % 250000) || '@example.' || (ARRAY['com', 'org', 'net'])[1 + g % 3],
      md5(random()::text) || ' ' || repeat((ARRAY['lorem ', 'ipsum ', 'dolor ', 'sit ', 'amet '])[1 + g % 5], 1 + g % 6),
      jsonb_build_object(
        'ip', '10.' || (g % 256) || '.' || ((g / 256) % 256) || '.' || (random() * 255)::int,
        'agent', (ARRAY['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (Macintosh)', 'curl/8.5.0', 'okhttp/4.12'])[1 + g % 4],
        'items', (random() * 20)::int,
        'tags', jsonb_build_array('t' || g % 13, 't' || g % 7),
        'score', random())
    FROM generate_series(${from}, ${to - 1}) AS g`;
}

/** Where each table's next id starts, and how many rows all tables hold together. */
interface Fill {
  url: string;
  next: Map<string, number>;
  loaded: number;
}

/** Appends `n` rows to `table`, continuing its ids. */
function append(fill: Fill, c: pg.Client, table: string, n: number): Promise<pg.QueryResult> {
  const from = fill.next.get(table) ?? 0;
  fill.next.set(table, from + n);
  fill.loaded += n;
  return c.query(insertSql(table, from, from + n));
}

/** The bulk load: two loaders (one per core) take the tables in turn, a batch at a time. */
async function load(fill: Fill, rowsWanted: number): Promise<void> {
  const batch = Math.max(10_000, Math.min(500_000, Math.round(rowsWanted / 16)));
  let turn = 0;
  const loader = (): Promise<void> =>
    withClient(fill.url, async (c) => {
      while (fill.loaded < rowsWanted) {
        const table = TABLES[turn++ % TABLES.length] ?? TABLES[0];
        await append(fill, c, table, Math.min(batch, rowsWanted - fill.loaded));
      }
    });
  await Promise.all([loader(), loader()]);
}

/** Indexes and page fill are only estimated by the load: top up until the database reaches the target. */
async function topUp(fill: Fill, empty: number, target: number): Promise<void> {
  for (let round = 0; round < 4; round++) {
    const size = await databaseSize(fill.url);
    if (size >= target) break;
    const perRow = (size - empty) / fill.loaded;
    const more = Math.max(1000, Math.ceil(((target - size) / perRow) * 1.05));
    const per = Math.ceil(more / TABLES.length);
    await Promise.all(
      TABLES.map((t) =>
        withClient(fill.url, async (c) => {
          await append(fill, c, t, per);
          await c.query(`VACUUM ANALYZE ${t}`);
        }),
      ),
    );
  }
}

/** Creates `db` and fills it until it holds about `target` bytes. */
export async function generate(adminUrl: string, dbUrl: (db: string) => string, db: string, target: number) {
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${db}`));
  const fill: Fill = { url: dbUrl(db), next: new Map(TABLES.map((t) => [t, 0])), loaded: 0 };
  await withClient(fill.url, async (c) => {
    for (const t of TABLES) await c.query(createTableSql(t));
  });
  const empty = await databaseSize(fill.url);
  // A sample tells the bytes per row; the rest is loaded in batches.
  const sampleRows = Math.max(1000, Math.min(20_000, Math.round(target / 4000)));
  await withClient(fill.url, (c) => append(fill, c, TABLES[0], sampleRows));
  const bytesPerRow = Math.max(50, ((await databaseSize(fill.url)) - empty) / sampleRows) * 1.3; // + indexes
  await load(fill, Math.max(sampleRows, Math.round((target - empty) / bytesPerRow)));
  await Promise.all(
    TABLES.map((t) =>
      withClient(fill.url, async (c) => {
        await c.query(`CREATE INDEX ON ${t} (account_id, created_at)`);
        await c.query(`CREATE INDEX ON ${t} (status)`);
        await c.query(`VACUUM ANALYZE ${t}`);
      }),
    ),
  );
  await topUp(fill, empty, target);
  await withClient(fill.url, (c) => c.query('CHECKPOINT'));
  return { rows: fill.loaded, bytes: await databaseSize(fill.url) };
}
