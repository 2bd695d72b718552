import pg from 'pg';
import { personalColumnsWithoutRule, type UncoveredColumn } from '../../core/masking/coverage.js';
import type { ServerMajor } from '../harness/paths.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';

/**
 * The coverage report against real databases: personal-looking columns without a rule are named
 * (by name, by type, by sampled content), whatever their identifiers; ruled columns and skipped
 * tables are not; a table that cannot be read is said to be unsampled, not passed over; and the
 * sample is bounded.
 */

const LONG = `note ${'ü'.repeat(29)}`; // 63 bytes, a name that says nothing: found by its values
const SETUP = `
  CREATE TABLE public.users (id int PRIMARY KEY, email text, full_name text, phone text, notes text, created date);
  INSERT INTO public.users SELECT i, 'u' || i || '@example.com', 'Name ' || i, '+49 151 ' || (1000000 + i), 'fine', now()
    FROM generate_series(1, 50) i;
  CREATE SCHEMA "my schema";
  CREATE TABLE "my schema"."Tëst ""Table""" (
    "E-Mail" text, contact varchar(80), bank text, pay text, reach text, description text,
    "select" text, origin inet, order_ref text, "${LONG}" text);
  INSERT INTO "my schema"."Tëst ""Table"""
    SELECT 'x', 'c' || i || '@example.org', 'DE89 3704 0044 0532 0130 00', '4111 1111 1111 1111',
           '+44 20 7946 ' || (1000 + i), 'a line of text', 'from', '10.0.0.1', '2024-01-' || (10 + i % 9),
           'l' || i || '@example.net'
      FROM generate_series(1, 30) i;
  CREATE TABLE public.events (id int, at date, email text) PARTITION BY RANGE (at);
  CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
  CREATE TABLE public.scratch (password text);
  CREATE TABLE public.late (v text);
  INSERT INTO public.late SELECT 'plain' FROM generate_series(1, 50);
  INSERT INTO public.late SELECT 'p' || i || '@example.com' FROM generate_series(1, 1000) i;
  CREATE TABLE public.hidden (v text);
  INSERT INTO public.hidden VALUES ('h@example.com');`;

async function withDb<T>(
  major: ServerMajor,
  db: string,
  fn: (c: pg.Client) => Promise<T>,
  url?: string,
): Promise<T> {
  const client = new pg.Client({ connectionString: url ?? connUrl(major, db) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const byKey = (found: UncoveredColumn[]) => Object.fromEntries(found.map((f) => [f.key, f.reason]));

describe.each([14, 18] as const)('coverage report on PostgreSQL %i', (major) => {
  let db: string;
  beforeAll(async () => {
    db = await createDatabase(major, 'coverage');
    await sql(major, db, SETUP);
  });

  it('names personal-looking columns without a rule, by name, type and content, hostile names quoted', async () => {
    const ruled = [
      { schema: 'public', table: 'users', column: 'email' },
      { schema: 'public', table: 'users', column: 'full_name' },
    ];
    const found = await withDb(major, db, (c) =>
      personalColumnsWithoutRule(c, ruled, { skipTables: [{ schema: 'public', table: 'scratch' }] }),
    );
    expect(byKey(found)).toEqual({
      'public.events.email': 'its name reads as e-mail',
      'public.hidden.v': 'values look like e-mail addresses (1 of 1 sampled)',
      'public.late.v': 'values look like e-mail addresses (150 of 200 sampled)',
      'public.users.phone': 'its name reads as phone',
      '"my schema"."Tëst ""Table"""."E-Mail"': 'its name reads as e-mail',
      '"my schema"."Tëst ""Table""".contact': 'values look like e-mail addresses (30 of 30 sampled)',
      '"my schema"."Tëst ""Table""".bank': 'values look like IBANs (30 of 30 sampled)',
      '"my schema"."Tëst ""Table""".pay': 'values look like card numbers (30 of 30 sampled)',
      '"my schema"."Tëst ""Table""".reach': 'values look like phone numbers (30 of 30 sampled)',
      '"my schema"."Tëst ""Table""".origin': 'it holds IP addresses (inet)',
      [`"my schema"."Tëst ""Table"""."${LONG}"`]: 'values look like e-mail addresses (30 of 30 sampled)',
    });
    const long = found.find((f) => f.column === LONG);
    expect(long).toMatchObject({ schema: 'my schema', table: 'Tëst "Table"' });
    expect(Buffer.byteLength(LONG)).toBe(63);
    // Partitions are the parent's: reported once, under the parent.
    expect(found.some((f) => f.table === 'events_2024')).toBe(false);
  });

  it('reads at most sampleRows rows of a table', async () => {
    const found = await withDb(major, db, (c) => personalColumnsWithoutRule(c, [], { sampleRows: 20 }));
    expect(byKey(found)['public.late.v']).toBeUndefined();
    expect(byKey(found)['public.scratch.password']).toBe('its name reads as password');
  });

  it('says which columns it could not sample, instead of passing them over', async () => {
    const role = uniqueName('auditor');
    const password = uniqueName('pw');
    await sql(
      major,
      db,
      `CREATE ROLE ${role} LOGIN PASSWORD '${password}'; GRANT USAGE ON SCHEMA "my schema" TO ${role};
      GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}; REVOKE SELECT ON public.hidden FROM ${role};`,
    );
    const url = `postgres://${role}:${password}@127.0.0.1:${new URL(connUrl(major)).port}/${db}`;
    const found = await withDb(major, db, (c) => personalColumnsWithoutRule(c, []), url);
    expect(byKey(found)['public.hidden.v']).toMatch(/^its values could not be sampled \(permission denied/);
    // The failed table did not end the report: the tables after it were still sampled.
    expect(byKey(found)['public.late.v']).toMatch(/^values look like e-mail addresses/);
    expect(byKey(found)['"my schema"."Tëst ""Table""".bank']).toMatch(/could not be sampled/);
  });
});
