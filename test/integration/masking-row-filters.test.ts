import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { maskingLines } from '../../core/masking/for-job.js';
import { loadMaskingRules } from '../../core/masking/rules.js';
import { sampler } from '../../core/masking/row-filters.js';
import { parseConnection } from '../../core/pg/connection.js';
import { catalog, dumpFile, scratchDir } from '../harness/engine.js';
import { connUrl, createDatabase, sql } from '../harness/testbed.js';

/**
 * Row filters on a real archive: a parent and a child with a foreign key, both kept from a bound on
 * the key and sampled by it, the child also by a time window. The restore adds the foreign key
 * after the data, so it restores only if the sample kept exactly the children of kept parents. The
 * expected rows are computed in SQL on the source, with pgcrypto's HMAC standing in for the stream's
 * keyed digest (HMAC-SHA256 under the key of `sample` NUL value, the first 48 bits as a fraction).
 */

const SOURCE = 16;
const TARGET = 17;
const KEY = 'row-filter-integration-key';
/**
 * Beyond 2^53, one more than a sampled id that a float cannot tell from it: a comparison through
 * Number would keep that id too, and the row sets below would differ.
 */
const FROM_ID = (() => {
  const kept = sampler(Buffer.from(KEY), 25);
  let id = 9007199254740992n;
  while (!kept(String(id)) || Number(String(id + 1n)) !== Number(String(id))) id += 4n;
  return String(id + 1n);
})();
const scratch = scratchDir();
const rulesFile = path.join(scratch.dir, 'filters.yml');
let source: string;
let archive: string;

const RULES = `columns:
  public.users.email: email
tables:
  public.users:
    keep: { column: id, from: ${FROM_ID} }
    sample: 25%
    by: id
  public.orders:
    keep:
      - { column: user_id, from: ${FROM_ID} }
      - { column: placed_at, from: "2026-01-01", until: "2026-06-01 12:00" }
    sample: 25%
    by: user_id
`;

beforeAll(async () => {
  await catalog().provide({ major: TARGET });
  source = await createDatabase(SOURCE, 'filtered');
  await sql(
    SOURCE,
    source,
    `CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE, joined date);
     CREATE TABLE orders (id int PRIMARY KEY, user_id bigint REFERENCES users, placed_at timestamp, note text);
     INSERT INTO users SELECT 9007199254740000 + i, 'p' || i || '@corp.test', date '2024-01-01' + i % 700
       FROM generate_series(1, 2000) i;
     INSERT INTO orders SELECT i, CASE WHEN i % 50 = 0 THEN NULL ELSE 9007199254740000 + 1 + i % 2000 END,
       CASE WHEN i % 97 = 0 THEN NULL ELSE timestamp '2025-09-01 12:00' + (i % 400) * interval '17 hours' END,
       E'tab\\there \\\\ back ünï 😀 \\\\N' || i
       FROM generate_series(1, 8000) i;`,
  );
  archive = await dumpFile(SOURCE, source, path.join(scratch.dir, 'filtered.dump'));
  // Only after the dump: the archive does not carry the extension the check uses.
  await sql(SOURCE, source, 'CREATE SCHEMA calc; CREATE EXTENSION pgcrypto SCHEMA calc');
  writeFileSync(rulesFile, RULES);
});

afterAll(() => scratch.cleanup());

/** The stream's sample decision for a value, in SQL. */
const sampled = (column: string) =>
  `(('x' || left(encode(calc.hmac(convert_to('sample', 'UTF8') || '\\x00'::bytea || convert_to(${column}::text, 'UTF8'),
     convert_to('${KEY}', 'UTF8'), 'sha256'), 'hex'), 12))::bit(48)::bigint < 0.25 * 2 ^ 48)`;

const rowsOf = async (major: 16 | 17, db: string, table: string, where = 'true') =>
  (
    await sql<{ id: string; row: string }>(
      major,
      db,
      `SELECT id::text, md5(t::text) AS row FROM ${table} t WHERE ${where} ORDER BY id`,
    )
  ).map((r) => `${r.id} ${r.row}`);

test('keep and sample on a parent and its child: the foreign key restores, the rows are those SQL picks', async () => {
  const target = await createDatabase(TARGET, 'filtered');
  const log = new RecordingLogger();
  const result = await restoreFromPath({
    from: archive,
    to: parseConnection(connUrl(TARGET, target), 'to', {}),
    jobs: 1,
    maskingRules: await loadMaskingRules(rulesFile, KEY),
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
  });

  const keptUsers = `id >= ${FROM_ID} AND ${sampled('id')}`;
  const keptOrders = `user_id >= ${FROM_ID} AND placed_at >= '2026-01-01' AND placed_at < '2026-06-01 12:00' AND ${sampled('user_id')}`;
  const [{ users, orders } = { users: '', orders: '' }] = await sql<{ users: string; orders: string }>(
    SOURCE,
    source,
    `SELECT (SELECT count(*) FROM users WHERE ${keptUsers}) AS users,
            (SELECT count(*) FROM orders WHERE ${keptOrders}) AS orders`,
  );
  const [below] = await sql<{ kept: boolean }>(
    SOURCE,
    source,
    `SELECT ${sampled(`(${FROM_ID}::bigint - 1)`)} AS kept`,
  );
  expect(below?.kept).toBe(true);
  const nUsers = Number(users);
  const nOrders = Number(orders);
  // The filters leave out a real share, and keep a real share.
  expect(nUsers).toBeGreaterThan(150);
  expect(nUsers).toBeLessThan(350);
  expect(nOrders).toBeGreaterThan(100);

  // The foreign key is there and holds: pg_restore added it after the filtered data.
  const fks = await sql<{ n: string }>(
    TARGET,
    target,
    `SELECT count(*) n FROM pg_constraint WHERE contype = 'f'`,
  );
  expect(fks[0]?.n).toBe('1');
  const [orphans] = await sql<{ n: string }>(
    TARGET,
    target,
    'SELECT count(*) n FROM orders o WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id)',
  );
  expect(orphans?.n).toBe('0');

  // Exactly the rows SQL picks on the source; the orders byte for byte (tabs, backslashes, unicode).
  expect(await rowsOf(TARGET, target, 'orders')).toEqual(await rowsOf(SOURCE, source, 'orders', keptOrders));
  const targetUsers = await sql<{ id: string; email: string }>(
    TARGET,
    target,
    'SELECT id::text, email FROM users ORDER BY id',
  );
  const sourceUsers = await sql<{ id: string }>(
    SOURCE,
    source,
    `SELECT id::text FROM users WHERE ${keptUsers} ORDER BY id`,
  );
  expect(targetUsers.map((u) => u.id)).toEqual(sourceUsers.map((u) => u.id));
  expect(targetUsers.every((u) => /^u[0-9a-f]{16}@example\.com$/.test(u.email))).toBe(true);

  // The report counts them; the leak check saw the kept rows only.
  expect(result.masked?.get('public.users')).toStrictEqual({
    masked: nUsers,
    truncated: 0,
    kept: nUsers,
    filtered: 2000 - nUsers,
    filter: `keep id from ${FROM_ID}; sample 25% by id`,
  });
  expect(result.masked?.get('public.orders')).toMatchObject({
    masked: 0,
    kept: nOrders,
    filtered: 8000 - nOrders,
  });
  expect(result.leakCheck).toEqual([
    { column: 'public.users.email', transformer: 'email', sampled: nUsers, checkedRows: nUsers, leaks: 0 },
  ]);
  expect(maskingLines(result)).toContain(
    `public.orders: ${nOrders} row(s) kept, ${8000 - nOrders} left out (keep user_id from ${FROM_ID}; keep placed_at from 2026-01-01 until 2026-06-01 12:00; sample 25% by user_id)`,
  );
});

test('a sample the parent does not share breaks the foreign key, and the restore says so', async () => {
  // The child sampled by its own id, not the parent's key: orders of left-out users remain.
  const broken = path.join(scratch.dir, 'broken.yml');
  writeFileSync(
    broken,
    'tables:\n  public.users: { sample: 25%, by: id }\n  public.orders: { sample: 25%, by: id }\n',
  );
  const target = await createDatabase(TARGET, 'filtered');
  const log = new RecordingLogger();
  await expect(
    restoreFromPath({
      from: archive,
      to: parseConnection(connUrl(TARGET, target), 'to', {}),
      jobs: 1,
      maskingRules: await loadMaskingRules(broken, KEY),
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    }),
  ).rejects.toThrow(/orders_user_id_fkey/);
});
