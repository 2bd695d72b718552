import { coverageOf } from '../../core/masking/after-checks.js';
import { RecordingLogger } from '../../core/log.js';
import { parseMaskingRules } from '../../core/masking/rules.js';
import { conn, createDatabase, sql, uniqueName } from '../harness/testbed.js';

/**
 * The coverage report as a masked job runs it on its target: the rules' columns count as ruled,
 * their truncated tables as skipped, each column found is a warning, and a report that cannot be
 * made is a warning, not a failure.
 */

const MAJOR = 17;
const RULES = parseMaskingRules(
  [
    'columns:',
    '  public.customers.email: email',
    `  '"Odd Schema"."Ünï ""T""".phone': phone`,
    'tables:',
    '  public.audit_log: truncate',
  ].join('\n'),
  'rules.yml',
  'key',
);

test('ruled columns and truncated tables are left out; the rest that looks personal is warned about', async () => {
  const db = await createDatabase(MAJOR, 'after_checks');
  await sql(
    MAJOR,
    db,
    `CREATE TABLE customers (id int, email text, contact_email text);
     CREATE TABLE audit_log (actor_email text, ip inet);
     CREATE SCHEMA "Odd Schema";
     CREATE TABLE "Odd Schema"."Ünï ""T""" (phone text, mobile text);`,
  );
  const log = new RecordingLogger();
  const found = await coverageOf(RULES, conn(MAJOR, db), log);
  expect(found?.map((c) => c.key)).toEqual([
    '"Odd Schema"."Ünï ""T""".mobile',
    'public.customers.contact_email',
  ]);
  expect(log.warnings).toEqual([
    'masking coverage: "Odd Schema"."Ünï ""T""".mobile has no rule and its name reads as phone',
    'masking coverage: public.customers.contact_email has no rule and its name reads as e-mail',
  ]);
});

test('a report that cannot be made is a warning, and no coverage', async () => {
  const log = new RecordingLogger();
  expect(await coverageOf(RULES, conn(MAJOR, uniqueName('no_such_db')), log)).toBeUndefined();
  expect(log.warnings).toEqual([
    expect.stringMatching(
      /^masking coverage: the report could not be made \(.*\); the masking and its leak check are not affected$/,
    ),
  ]);
});
