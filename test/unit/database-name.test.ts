import { InputErrors } from '../../core/errors.js';
import { parseJobOptions } from '../../core/options.js';
import { checkStorableDatabaseName, databaseNameProblem } from '../../core/storage/database-name.js';
import { parseScheduledJobConfig } from '../../lambda/config.js';

/**
 * The one rule for database names that become backup key segments and metric dimensions, and
 * every front end's parser applying it: the CLI and the Action (parseJobOptions) and the scheduled
 * job (parseScheduledJobConfig), from its variables and from a direct invocation's event.
 */

const HOSTILE: [string, string][] = [
  ['a slash', 'a/b'],
  ['a dot-dot segment', '..'],
  ['a single dot', '.'],
  ['a climb out of the prefix', '../other'],
  ['a dot-dot inside', 'a/../../b'],
  ['a NUL', 'a\u0000b'],
  ['a newline', 'a\nb'],
  ['a carriage return', 'a\rb'],
  ['a tab', 'a\tb'],
  ['a backslash', 'a\\b'],
  ['a space', 'my db'],
  ['non-ASCII letters', 'übersicht'],
  ['a right-to-left override', 'a\u202eb'],
  ['a leading dash', '-rf'],
  ['the empty name', ''],
  ['64 characters', 'a'.repeat(64)],
  ['a percent sign', 'a%2Fb'],
];

describe('the database-name rule', () => {
  it.each(HOSTILE)('refuses %s', (_, name) => {
    const problem = databaseNameProblem(name);
    expect(problem).toMatch(
      /cannot name backups in the bucket; expected ASCII letters, digits and _ \$ \. -/,
    );
    // The name is shown JSON-quoted: no raw control character reaches a log line or ::error::.
    expect(problem).toContain(JSON.stringify(name));
    expect([...(problem ?? '')].filter((c) => c.charCodeAt(0) < 0x20)).toEqual([]);
    expect(() => checkStorableDatabaseName(name, 'from')).toThrow(/^from: database /);
  });

  it.each(['app', 'App_2', 'billing-eu', 'v1.2', '$tmp', '_x', '9lives', 'a'.repeat(63)])(
    'accepts %s',
    (name) => {
      expect(databaseNameProblem(name)).toBeUndefined();
      expect(checkStorableDatabaseName(name, 'from')).toBe(name);
    },
  );
});

function problemsOf(work: () => unknown): string[] {
  try {
    work();
  } catch (error) {
    if (error instanceof InputErrors) return error.problems.map((p) => p.message);
    throw error;
  }
  throw new Error('expected the input to be refused');
}

describe('the CLI and the Action (parseJobOptions)', () => {
  const backup = (from: string) => () =>
    parseJobOptions((name) => ({ command: 'backup', from, to: 's3://dr-bucket/nightly/' })[name], {});

  it.each<[string, string, string]>([
    ['a percent-encoded slash in a URL', 'postgres://u@db/a%2Fb', 'a/b'],
    ['a slash in a URL path', 'postgres://u@db/a/b', 'a/b'],
    ['a percent-encoded NUL', 'postgres://u@db/a%00b', 'a\u0000b'],
    ['a percent-encoded newline', 'postgres://u@db/a%0Ab', 'a\nb'],
    ['dbname=.. in conninfo', 'host=db user=u dbname=..', '..'],
    ['a quoted climb in conninfo', "host=db dbname='../../etc'", '../../etc'],
    ['a conninfo slash', 'host=db dbname=x/y', 'x/y'],
  ])('refuses %s, naming from', (_, from, name) => {
    expect(problemsOf(backup(from))).toEqual([
      expect.stringMatching(
        new RegExp(`^from: database ${escape(JSON.stringify(name))} cannot name backups`),
      ),
    ]);
  });

  it('checks every database of a multi-line from, and reports each bad one', () => {
    const problems = problemsOf(backup('postgres://u@db/app\npostgres://u@db/a%2F..\nhost=db dbname=..'));
    expect(problems).toHaveLength(2);
    expect(problems.every((p) => p.startsWith('from: database '))).toBe(true);
  });

  it('never repeats a password from the URL in the refusal', () => {
    const [problem] = problemsOf(backup('postgres://u:s3cr%2Fet@db/a%2Fb'));
    expect(problem).not.toMatch(/s3cr/);
  });

  it('takes the name libpq would use when the URL names none (the user), and checks it', () => {
    expect(problemsOf(backup('postgres://..@db'))).toEqual([expect.stringMatching(/^from: database "\.\."/)]);
    const ok = backup('postgres://app@db')();
    expect(ok.command === 'backup' && ok.sources).toHaveLength(1);
  });

  it('leaves dump, restore and copy targets alone: their names become no keys', () => {
    const o = parseJobOptions(
      (name) => ({ command: 'copy', from: 'postgres://u@db/my%20db', to: 'postgres://u@db2/a%2Fb' })[name],
      {},
    );
    expect(o.command === 'copy' && o.target.params.dbname).toBe('a/b');
  });
});

describe('the scheduled job (parseScheduledJobConfig)', () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app-AbCdEf';
  const BASE = { PGFERRY_SOURCE_SECRET_ARN: ARN, PGFERRY_BUCKET: 'acme-backups' };

  // A variable is a list split on commas and newlines and trimmed; what is left is checked.
  it.each(HOSTILE.filter(([, name]) => name !== '' && name.trim() === name && !name.includes('\n')))(
    'refuses %s in PGFERRY_DATABASES with the same rule',
    (_, name) => {
      expect(
        problemsOf(() => parseScheduledJobConfig({ ...BASE, PGFERRY_DATABASES: `app,${name}` })),
      ).toEqual([databaseProblem('PGFERRY_DATABASES', name)]);
    },
  );

  // An event's array is taken as given: "a\nb" is one hostile name, never the databases a and b.
  it.each(HOSTILE)('refuses %s in event.databases', (_, name) => {
    expect(problemsOf(() => parseScheduledJobConfig(BASE, { databases: ['app', name] }))).toEqual([
      databaseProblem('event.databases', name),
    ]);
  });

  it('applies the rule to the seed databases too', () => {
    const problems = problemsOf(() =>
      parseScheduledJobConfig({
        ...BASE,
        PGFERRY_JOB: 'seed',
        PGFERRY_SEED_SECRET_ARN: ARN,
        PGFERRY_SEED_CONFIRM: 'staging',
        PGFERRY_SEED_DATABASE: '../staging',
        PGFERRY_SEED_FROM_DATABASE: 'a/b',
      }),
    );
    expect(problems).toEqual([
      databaseProblem('PGFERRY_SEED_DATABASE', '../staging'),
      databaseProblem('PGFERRY_SEED_FROM_DATABASE', 'a/b'),
    ]);
  });
});

function databaseProblem(input: string, name: string): string {
  return `${input}: ${databaseNameProblem(name) ?? 'accepted'}`;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
