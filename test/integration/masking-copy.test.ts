import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { copyDatabase } from '../../core/jobs/copy.js';
import { runJob } from '../../core/jobs/run-job.js';
import { parseMaskingRules } from '../../core/masking/rules.js';
import { parseJobOptions } from '../../core/options.js';
import { parseConnection } from '../../core/pg/connection.js';
import { needlesInDataDir } from '../harness/data-dir-grep.js';
import { catalog, SHARED_CLIENT_CACHE, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, server, sql, uniqueName } from '../harness/testbed.js';

/**
 * copy with masking-rules: pg_dump → pg_restore -f - → masking → psql, so the source's raw values
 * never reach the target server (its data directory is searched for them); jobs 2 into a new
 * database masks through a temporary archive in parallel (masking-parallel.test.ts compares it
 * with jobs 1), and a clean copy is still built beside the target and swapped in.
 */

const SOURCE = 16;
const TARGET = 17;
const KEY = 'copy-key';
const token = randomBytes(6).toString('hex');
const scratch = scratchDir();
let source: string;

const RULES = `columns:
  public.users.email: email
  public.users.full_name: name
  public.users.id: { hash: { keep-format: true } }
  public.orders.user_id: { hash: { keep-format: true } }
  public.orders.placed: { shift: { days: 20 } }
`;

beforeAll(async () => {
  await catalog().provide({ major: TARGET });
  source = await createDatabase(SOURCE, 'prod');
  await sql(
    SOURCE,
    source,
    `CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, full_name text,
       email_upper text GENERATED ALWAYS AS (upper(email)) STORED);
     CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users, placed date);
     INSERT INTO users SELECT i, 'c' || i || '.${token}@shop.test', 'Quix${token} ' || i FROM generate_series(1, 300) i;
     INSERT INTO orders SELECT i, 1 + i % 300, date '2024-01-01' + i FROM generate_series(1, 900) i;`,
  );
});

afterAll(() => scratch.cleanup());

const hooks = () => {
  const log = new RecordingLogger();
  return { postgresVersion: { kind: 'auto' as const }, catalog: catalog(log), log };
};
const spec = (major: 16 | 17, db: string, as: string) => parseConnection(connUrl(major, db), as, {});

test('a masked copy with jobs 2 into a new database runs in parallel; only masked values reach the target; joins hold', async () => {
  const target = uniqueName('staging');
  const result = await copyDatabase({
    from: spec(SOURCE, source, 'from'),
    to: spec(TARGET, target, 'to'),
    jobs: 2,
    maskingRules: parseMaskingRules(RULES, 'rules.yml', KEY),
    ...hooks(),
  });
  expect(result).toMatchObject({ streamed: false, jobs: 2 });
  expect(result.leakCheck?.every((c) => c.leaks === 0 && c.checkedRows > 0)).toBe(true);
  expect(result.leakCheck?.map((c) => c.column).sort()).toEqual([
    'public.orders.placed',
    'public.orders.user_id',
    'public.users.email',
    'public.users.full_name',
    'public.users.id',
  ]);
  const [joined] = await sql<{ n: string }>(
    TARGET,
    target,
    'SELECT count(*) n FROM orders o JOIN users u ON u.id = o.user_id',
  );
  expect(joined?.n).toBe('900');
  // The generated column is computed by the target from the masked e-mail.
  const [u] = await sql<{ ok: boolean }>(
    TARGET,
    target,
    'SELECT bool_and(email_upper = upper(email)) ok FROM users',
  );
  expect(u?.ok).toBe(true);
  await sql(TARGET, target, 'CHECKPOINT');
  expect([...needlesInDataDir(server(TARGET).dataDir, [token, token.toUpperCase()])]).toEqual([]);
});

test('a clean copy with masking is swapped in; a job through the input reports the masking', async () => {
  const target = await createDatabase(TARGET, 'staging');
  await sql(TARGET, target, 'CREATE TABLE users (id int)');
  const file = path.join(scratch.dir, 'rules.yml');
  writeFileSync(file, RULES);
  process.env.PGFERRY_MASKING_KEY = KEY;
  try {
    const inputs: Record<string, string> = {
      command: 'copy',
      from: connUrl(SOURCE, source),
      to: connUrl(TARGET, target),
      clean: 'true',
      confirm: target,
      'masking-rules': file,
      'postgres-version': '17',
    };
    const report = await runJob(
      parseJobOptions((n) => inputs[n], {}),
      {
        log: new RecordingLogger(),
        cacheDir: SHARED_CLIENT_CACHE,
      },
    );
    expect(report.swapped).toBe(true);
    expect(report.masking).toContain('public.users: 300 row(s) masked');
    expect(report.masking).toContain('leak check public.users.email (email): 300 row(s) checked, 0 leaks');
  } finally {
    delete process.env.PGFERRY_MASKING_KEY;
  }
  const [n] = await sql<{ n: string }>(
    TARGET,
    target,
    `SELECT count(*) n FROM users WHERE email LIKE '%@example.com'`,
  );
  expect(n?.n).toBe('300');
});

test.each([1, 2])(
  'a copy with row filters and jobs %i: only the kept rows reach the target, masked, and the foreign key holds',
  async (jobs) => {
    const target = uniqueName('filtered');
    // Filters read the source's values before masking: users 1–99, and the orders of those users
    // placed in January; the foreign key is added after the data, so a kept order of a left-out
    // user would fail the copy.
    const rules = `${RULES}tables:
  public.users: { keep: { column: id, until: 100 } }
  public.orders:
    keep:
      - { column: user_id, until: 100 }
      - { column: placed, from: '2024-01-01', until: '2024-02-01' }
`;
    const result = await copyDatabase({
      from: spec(SOURCE, source, 'from'),
      to: spec(TARGET, target, 'to'),
      jobs,
      maskingRules: parseMaskingRules(rules, 'rules.yml', KEY),
      ...hooks(),
    });
    const [expected] = await sql<{ users: string; orders: string }>(
      SOURCE,
      source,
      `SELECT (SELECT count(*) FROM users WHERE id < 100) users,
              (SELECT count(*) FROM orders WHERE user_id < 100 AND placed >= '2024-01-01' AND placed < '2024-02-01') orders`,
    );
    expect(Number(expected?.orders)).toBeGreaterThan(0);
    expect(result.masked?.get('public.users')).toMatchObject({
      kept: Number(expected?.users),
      filtered: 300 - Number(expected?.users),
    });
    expect(result.masked?.get('public.orders')).toMatchObject({
      kept: Number(expected?.orders),
      filtered: 900 - Number(expected?.orders),
    });
    const [got] = await sql<{ users: string; orders: string; joined: string; raw: string }>(
      TARGET,
      target,
      `SELECT (SELECT count(*) FROM users) users, (SELECT count(*) FROM orders) orders,
              (SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id) joined,
              (SELECT count(*) FROM users WHERE email LIKE '%${token}%') raw`,
    );
    expect(got).toEqual({
      users: expected?.users,
      orders: expected?.orders,
      joined: expected?.orders,
      raw: '0',
    });
  },
);

test('rules naming a column the source lacks (or a generated one) are refused before the target is created', async () => {
  for (const [rule, why] of [
    [
      'public.users.mail: email',
      /rules\.yml, line 2 \(public\.users\.mail\): the table public\.users has no column mail/,
    ],
    [
      'public.users.email_upper: email',
      /line 2 \(public\.users\.email_upper\): the table public\.users has no column email_upper/,
    ],
    [
      'public.people.email: email',
      /line 2 \(public\.people\.email\): the table public\.people is not in the source database/,
    ],
  ] as const) {
    const target = uniqueName('untouched');
    const error = await failureOf(
      copyDatabase({
        from: spec(SOURCE, source, 'from'),
        to: spec(TARGET, target, 'to'),
        jobs: 1,
        maskingRules: parseMaskingRules(`columns:\n  ${rule}\n`, 'rules.yml', KEY),
        ...hooks(),
      }),
    );
    expect(error.message).toMatch(why);
    const rows = await sql(TARGET, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${target}'`);
    expect(rows).toEqual([]);
  }
});
