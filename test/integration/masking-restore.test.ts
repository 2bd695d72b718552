import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { loadMaskingRules } from '../../core/masking/rules.js';
import type { ClientTools } from '../../core/pg/clients/tools.js';
import { parseConnection } from '../../core/pg/connection.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { needlesInDataDir } from '../harness/data-dir-grep.js';
import { catalog, dumpFile, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, server, sql } from '../harness/testbed.js';

/**
 * A seed with masking-rules: the rows are masked between pg_restore and psql, so the raw values
 * never reach the target server at all — checked in the bytes of its data directory (heap and WAL,
 * after a CHECKPOINT), not by querying. The source lives on another server (its WAL holds the raw
 * values by right); every raw value carries a random token of this run, so a hit is this run's leak.
 */

const SOURCE = 16;
const TARGET = 17;
const KEY = 'masking-test-key';
const token = randomBytes(6).toString('hex');
/** Four digits of this run, in every raw phone number. */
const phoneTag = String((randomBytes(2).readUInt16BE() % 9000) + 1000);
const scratch = scratchDir();
const rulesFile = path.join(scratch.dir, 'masking.yml');
let archive: string;
let tools: ClientTools;

const RULES = `# staging masking
columns:
  public.users.email: email
  public.users.full_name: name
  public.users.phone: phone
  public.users.id: { hash: { keep-format: true } }
  public.orders.user_id: { hash: { keep-format: true } }
  '"Order Notes"."line ""1"""."ünï"': { constant: redacted }
tables:
  public.audit: truncate
`;

beforeAll(async () => {
  tools = await catalog().provide({ major: TARGET });
  const db = await createDatabase(SOURCE, 'pii');
  await sql(
    SOURCE,
    db,
    `CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE, full_name text, phone text);
     CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users, total numeric);
     CREATE TABLE audit (at timestamptz, who text);
     CREATE SCHEMA "Order Notes";
     CREATE TABLE "Order Notes"."line ""1""" (id int, "ünï" text, plain text);
     INSERT INTO users SELECT i, 'p' || i || '.${token}@corp.test', 'Zed${token}' || i || ' O''Brien\tTab',
       '+49 30 ${phoneTag}' || lpad(i::text, 5, '0') FROM generate_series(1, 400) i;
     INSERT INTO orders SELECT i, 1 + i % 400, i FROM generate_series(1, 1200) i;
     INSERT INTO audit SELECT now(), 'audit${token}' || i FROM generate_series(1, 50) i;
     INSERT INTO "Order Notes"."line ""1""" SELECT i, 'note${token}' || i || E'\\n\\\\', 'kept' || i FROM generate_series(1, 30) i;`,
  );
  archive = await dumpFile(SOURCE, db, path.join(scratch.dir, 'pii.dump'));
  writeFileSync(rulesFile, RULES);
});

afterAll(() => scratch.cleanup());

const hooks = () => {
  const log = new RecordingLogger();
  return { postgresVersion: { kind: 'auto' as const }, catalog: catalog(log), log };
};
const to = (db: string) => parseConnection(connUrl(TARGET, db), 'to', {});

test('restore from a file: only masked values reach the target, joins on masked ids still match', async () => {
  const db = await createDatabase(TARGET, 'staging');
  const result = await restoreFromPath({
    from: archive,
    to: to(db),
    jobs: 2,
    maskingRules: await loadMaskingRules(rulesFile, KEY),
    ...hooks(),
  });
  expect(result.path).toBe('script');
  expect(result.masked?.get('public.users')).toStrictEqual({
    masked: 400,
    truncated: 0,
    kept: 400,
    filtered: 0,
  });
  expect(result.masked?.get('public.audit')).toStrictEqual({
    masked: 0,
    truncated: 50,
    kept: 0,
    filtered: 0,
  });
  const checked = Object.fromEntries((result.leakCheck ?? []).map((c) => [c.column, c]));
  for (const column of ['email', 'full_name', 'phone', 'id'])
    expect(checked[`public.users.${column}`]).toMatchObject({ checkedRows: 400, sampled: 400, leaks: 0 });
  expect(checked['public.orders.user_id']).toMatchObject({ checkedRows: 1200, sampled: 400, leaks: 0 });
  const users = await sql<{ id: number; email: string; full_name: string; phone: string }>(
    TARGET,
    db,
    'SELECT * FROM users',
  );
  expect(users).toHaveLength(400);
  for (const u of users) {
    expect(u.email).toMatch(/^u[0-9a-f]{16}@example\.com$/);
    expect(u.full_name).not.toContain(token);
    expect(u.phone).toMatch(/^\+\d\d \d\d \d{9}$/);
  }
  // Ids are permuted, not kept, and the orders still point at their (masked) users.
  const [moved] = await sql<{ n: string }>(
    TARGET,
    db,
    'SELECT count(*) n FROM users WHERE id BETWEEN 1 AND 400',
  );
  expect(Number(moved?.n)).toBeLessThan(10);
  const [joined] = await sql<{ n: string }>(
    TARGET,
    db,
    'SELECT count(*) n FROM orders o JOIN users u ON u.id = o.user_id',
  );
  expect(joined?.n).toBe('1200');
  expect(await sql(TARGET, db, 'SELECT * FROM audit')).toEqual([]);
  const notes = await sql<{ ü: string; plain: string }>(
    TARGET,
    db,
    'SELECT "ünï" AS ü, plain FROM "Order Notes"."line ""1"""',
  );
  expect(new Set(notes.map((n) => n.ü))).toEqual(new Set(['redacted']));
  expect(notes.map((n) => n.plain).sort()).toContain('kept1');

  // Nowhere in the target server's files: heap, indexes and WAL, flushed by a CHECKPOINT.
  await sql(TARGET, db, 'CHECKPOINT');
  const [oneMasked] = users;
  const found = needlesInDataDir(server(TARGET).dataDir, [
    token,
    users.length ? (oneMasked?.email as string) : 'none',
    ...[1, 2, 3].map((i) => `+49 30 ${phoneTag}0000${i}`),
  ]);
  expect(found.has(oneMasked?.email as string)).toBe(true); // the search does see the heap
  expect([...found].filter((n) => n !== oneMasked?.email)).toEqual([]);
});

test('a failure mid-stream leaves the target as it was (swap and in place)', async () => {
  // A constant on a UNIQUE column: the second masked row breaks the constraint inside the stream's transaction.
  const broken = path.join(scratch.dir, 'broken.yml');
  writeFileSync(broken, 'columns:\n  public.users.email: { constant: same@example.com }\n');
  for (const swap of ['always', false] as const) {
    const db = await createDatabase(TARGET, 'staging');
    await sql(TARGET, db, 'CREATE TABLE previous (id int); INSERT INTO previous VALUES (1), (2)');
    const before = [await schemaOf(tools, TARGET, db), await rowHashes(TARGET, db)];
    const error = await failureOf(
      restoreFromPath({
        from: archive,
        to: to(db),
        jobs: 1,
        clean: true,
        confirm: db,
        swap,
        maskingRules: await loadMaskingRules(broken, KEY),
        ...hooks(),
      }),
    );
    expect(error.message).toMatch(/users_email_key.*is duplicated/s);
    expect([await schemaOf(tools, TARGET, db), await rowHashes(TARGET, db)]).toEqual(before);
  }
});

describe('the leak check', () => {
  // These runs put raw values into the target on purpose: a token of their own keeps the data-directory search above honest.
  const leakToken = randomBytes(6).toString('hex');
  let copies: string;
  beforeAll(async () => {
    // A second column holds a copy of every e-mail, as a real schema might (an old login name).
    const db = await createDatabase(SOURCE, 'pii');
    await sql(
      SOURCE,
      db,
      `CREATE TABLE users (id int PRIMARY KEY, email text, login text, phone text);
       INSERT INTO users SELECT i, 'p' || i || '.${leakToken}@corp.test', 'p' || i || '.${leakToken}@corp.test', '+1 555 01' || i
       FROM generate_series(1, 100) i`,
    );
    copies = await dumpFile(SOURCE, db, path.join(scratch.dir, 'copies.dump'));
  });

  const restore = (db: string, rules: string, extra: object = {}) => {
    const file = path.join(scratch.dir, `${db}.yml`);
    writeFileSync(file, rules);
    return loadMaskingRules(file, KEY).then((maskingRules) =>
      restoreFromPath({ from: copies, to: to(db), jobs: 1, maskingRules, ...hooks(), ...extra }),
    );
  };

  test('fails a run whose regex claims to mask phones but matches none, and the swap leaves the target as it was', async () => {
    const db = await createDatabase(TARGET, 'staging');
    await sql(TARGET, db, 'CREATE TABLE previous (id int); INSERT INTO previous VALUES (1)');
    const before = await rowHashes(TARGET, db);
    const rules =
      'columns:\n  public.users.email: email\n  public.users.phone:\n    regex: { pattern: "^tel:[0-9]+", replace: "tel:0" }\n';
    const error = await failureOf(restore(db, rules, { clean: true, confirm: db, swap: 'always' }));
    expect(error.message).toBe(
      'leak check: public.users.phone (regex) holds 100 value(s) of the source; the masking rules do not mask what they claim to (values are not shown)',
    );
    expect(error.message).not.toContain(leakToken);
    expect(await rowHashes(TARGET, db)).toEqual(before);
  });

  test('fails a run whose SQL after copies raw values back into a masked column', async () => {
    const db = await createDatabase(TARGET, 'staging');
    const after = path.join(scratch.dir, 'after.sql');
    writeFileSync(after, 'UPDATE users SET email = login WHERE id <= 7;\n');
    const rules = 'columns:\n  public.users.email: email\n  public.users.phone: phone\n';
    const error = await failureOf(
      restore(db, rules, { sqlInTransaction: { files: [after], input: 'sql-after' } }),
    );
    expect(error.message).toMatch(
      /^leak check: public\.users\.email \(email\) holds 7 value\(s\) of the source;/,
    );
  });

  test('passes the same rules without the copy-back, and does not count keep', async () => {
    const db = await createDatabase(TARGET, 'staging');
    const result = await restore(db, 'columns:\n  public.users.email: email\n  public.users.login: keep\n');
    expect(result.leakCheck).toEqual([
      { column: 'public.users.email', transformer: 'email', sampled: 100, checkedRows: 100, leaks: 0 },
    ]);
  });
});
