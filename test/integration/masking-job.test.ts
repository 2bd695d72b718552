import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { runJob } from '../../core/jobs/run-job.js';
import { parseJobOptions } from '../../core/options.js';
import { catalog, dumpFile, SHARED_CLIENT_CACHE, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';

/**
 * masking-rules as an input of the contract: read and checked against the archive before the job
 * touches the target, every problem naming the file, the line and the rule.
 */

const MAJOR = 17;
const scratch = scratchDir();
let archive: string;

beforeAll(async () => {
  await catalog().provide({ major: MAJOR });
  const db = await createDatabase(MAJOR, 'pii');
  await sql(
    MAJOR,
    db,
    `CREATE TABLE users (id int PRIMARY KEY, email text, phone text);
     INSERT INTO users SELECT i, 'real' || i || '@corp.test', '555-01' || i FROM generate_series(1, 20) i`,
  );
  archive = await dumpFile(MAJOR, db, path.join(scratch.dir, 'pii.dump'));
});

afterAll(() => {
  scratch.cleanup();
  delete process.env.PGFERRY_MASKING_KEY;
});

function rules(name: string, text: string): string {
  const file = path.join(scratch.dir, name);
  writeFileSync(file, text);
  return file;
}

async function restoreJob(target: string, rulesFile: string, key: string | null = 'k3y') {
  if (key === null) delete process.env.PGFERRY_MASKING_KEY;
  else process.env.PGFERRY_MASKING_KEY = key;
  const inputs: Record<string, string> = {
    command: 'restore',
    from: archive,
    to: connUrl(MAJOR, target),
    'masking-rules': rulesFile,
  };
  const options = parseJobOptions((name) => inputs[name], {});
  return runJob(options, { log: new RecordingLogger(), cacheDir: SHARED_CLIENT_CACHE });
}

const exists = async (db: string) =>
  (await sql(MAJOR, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${db}'`)).length === 1;

test('the input masks a restore job', async () => {
  const target = uniqueName('masked');
  const file = rules('ok.yml', 'columns: { public.users.email: email, public.users.phone: phone }\n');
  const report = await restoreJob(target, file);
  expect(report.masking).toEqual([
    'public.users: 20 row(s) masked',
    'leak check public.users.email (email): 20 row(s) checked, 0 leaks',
    'leak check public.users.phone (phone): 20 row(s) checked, 0 leaks',
    'coverage: every personal-looking column has a rule',
  ]);
  const rows = await sql<{ email: string; phone: string }>(MAJOR, target, 'SELECT email, phone FROM users');
  expect(rows).toHaveLength(20);
  expect(rows.every((r) => r.email.endsWith('@example.com') && !r.phone.startsWith('555-01'))).toBe(true);
});

const BAD: [string, string, string | null, RegExp][] = [
  [
    'an unknown transformer',
    'columns:\n  public.users.email: email\n  public.users.phone: scramble\n',
    'k',
    /masking-rules: .*unknown\.yml, line 3 \(public\.users\.phone\): unknown transformer "scramble"; expected one of null, constant/,
  ],
  [
    'a column the archive does not have',
    'columns:\n  public.users.email: email\n  public.users.mail: email\n',
    'k',
    /column\.yml, line 3 \(public\.users\.mail\): the table public\.users has no column mail \(it has id, email, phone\)/,
  ],
  [
    'a table the archive does not have',
    'columns:\n  public.people.email: email\n',
    'k',
    /table\.yml, line 2 \(public\.people\.email\): the table public\.people is not in the archive/,
  ],
  [
    'a regex that does not compile',
    'columns:\n  public.users.phone:\n    regex: { pattern: "[0-9", replace: "#" }\n',
    'k',
    /regex\.yml, line 2 \(public\.users\.phone\): the regex does not compile/,
  ],
  [
    'a missing key for hash',
    'columns:\n  public.users.id: { hash: { keep-format: true } }\n',
    null,
    /key\.yml, line 2 \(public\.users\.id\): the hash transformer needs a secret key in the environment variable PGFERRY_MASKING_KEY/,
  ],
];

test.each(BAD)('refuses %s before touching the target', async (what, text, key, message) => {
  const name =
    { 'an unknown transformer': 'unknown', 'a column the archive does not have': 'column' }[what] ??
    (what.includes('table') ? 'table' : what.includes('regex') ? 'regex' : 'key');
  const target = uniqueName('untouched');
  const error = await failureOf(restoreJob(target, rules(`${name}.yml`, text), key));
  expect(error.message).toMatch(message);
  expect(await exists(target)).toBe(false);
});

test('a rules file that cannot be read is named', async () => {
  const target = uniqueName('untouched');
  const error = await failureOf(restoreJob(target, path.join(scratch.dir, 'missing.yml')));
  expect(error.message).toMatch(/masking-rules: cannot read .*missing\.yml: ENOENT/);
  expect(await exists(target)).toBe(false);
});
