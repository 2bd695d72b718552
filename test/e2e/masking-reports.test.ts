import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { failure, runAction, runnerDirs } from '../harness/action-runner.js';
import { camelFields } from '../harness/cli-json.js';
import { runBundle } from '../harness/cli.js';
import { scratchDir, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { connUrl, createDatabase, mirrorUrl, sql } from '../harness/testbed.js';

/**
 * The coverage report where people read it: a masked copy's CLI `--json` report and the Action's
 * job summary name the personal-looking column that has no rule (and warn), never a ruled one.
 */

const MAJOR = 17;
const scratch = scratchDir();
afterAll(() => scratch.cleanup());
let source: string;
let rules: string;
const KEY = 'coverage-report-key';
const UNCOVERED = 'coverage: public.customers.contact_email has no rule and its name reads as e-mail';

beforeAll(async () => {
  source = await createDatabase(MAJOR, 'cover_src');
  await sql(
    MAJOR,
    source,
    `CREATE TABLE customers (id int PRIMARY KEY, email text, contact_email text, note text);
     INSERT INTO customers SELECT i, 'real' || i || '@corp.test', 'c' || i || '@corp.test', 'fine'
       FROM generate_series(1, 30) i`,
  );
  rules = path.join(scratch.dir, 'rules.yml');
  writeFileSync(rules, 'columns: { public.customers.email: email }\n');
});

function expectCoverage(lines: string[]): void {
  expect(lines).toContain('public.customers: 30 row(s) masked');
  expect(lines).toContain('leak check public.customers.email (email): 30 row(s) checked, 0 leaks');
  expect(lines.filter((l) => l.startsWith('coverage: '))).toEqual([UNCOVERED]);
}

test('the CLI --json report of a masked copy carries the coverage report', async () => {
  const target = await createDatabase(MAJOR, 'cover_cli');
  const run = await runBundle(
    [
      'copy',
      '--from',
      connUrl(MAJOR, source),
      '--to',
      connUrl(MAJOR, target),
      '--masking-rules',
      rules,
      '--json',
    ],
    { PGFERRY_MIRROR: mirrorUrl(), PGFERRY_CACHE_DIR: SHARED_CLIENT_CACHE, PGFERRY_MASKING_KEY: KEY },
  );
  expect(run.stderr).not.toMatch(/^pgferry: /m);
  expect(run.code).toBe(0);
  const report = camelFields(run.stdout) as { masking: string[] };
  expectCoverage(report.masking);
  expect(run.stderr).toContain(`masking coverage: ${UNCOVERED.slice('coverage: '.length)}`);
  expect(run.stdout + run.stderr).not.toContain(KEY);
});

test('the Action summary of a masked copy has the coverage report in its masking row, and warns', async () => {
  const target = await createDatabase(MAJOR, 'cover_action');
  const run = await runAction(
    {
      command: 'copy',
      from: connUrl(MAJOR, source),
      to: connUrl(MAJOR, target),
      'masking-rules': rules,
      mirror: mirrorUrl(),
    },
    runnerDirs(),
    { PGFERRY_MASKING_KEY: KEY },
  );
  expect(failure(run)).toBe('(no ::error:: line)');
  const row = /<td>masking<\/td><td>(.*?)<\/td>/.exec(run.summary)?.[1] ?? '';
  expectCoverage(row.split('<br>'));
  expect(run.log).toMatch(/^::warning::masking coverage: public\.customers\.contact_email has no rule/m);
  expect(run.everything).not.toMatch(/masking coverage: public\.customers\.email /);
});
