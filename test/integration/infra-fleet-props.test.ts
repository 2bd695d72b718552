// Bad PgferryFleet props fail at synth, before anything is staged: one error naming every bad prop.
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Compute } from '../../infra/compute.js';
import type { PgferryFleetProps } from '../../infra/fleet-props.js';
import { PgferryFleet } from '../../infra/pgferry-fleet.js';
import { PgferryBackupPropsError } from '../../infra/props-error.js';
import { SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { mirrorUrl } from '../harness/testbed.js';
import { backupIn, MAJORS, testStack, type TestStack } from './infra-stacks.js';

function fleetProps(t: TestStack, overrides: Partial<PgferryFleetProps> = {}): PgferryFleetProps {
  return {
    sources: [{ id: 'main', secret: t.sourceSecret, databases: ['app'] }],
    vpc: t.vpc,
    postgresMajors: MAJORS,
    alarmEmail: 'ops@example.com',
    ...overrides,
  };
}

function problemsOf(build: () => unknown): { prop: string; problem: string }[] {
  try {
    build();
  } catch (error) {
    if (error instanceof PgferryBackupPropsError) return [...error.problems];
    throw error;
  }
  throw new Error('no error');
}

test('the issue’s four bad inputs at once: one error, each problem under its prop', () => {
  const t = testStack();
  let message = '';
  const problems = problemsOf(() => {
    try {
      return new PgferryFleet(
        t.stack,
        'Fleet',
        fleetProps(t, {
          sources: [
            { id: 'orders', secret: t.sourceSecret, databases: ['orders', 'payments', 'orders'] },
            { id: 'catalog', secret: t.sourceSecret, databases: [] },
          ],
          concurrency: { overall: 0 },
          compute: Compute.lambda({ timeout: Duration.seconds(60), deadlineMargin: Duration.seconds(45) }),
        }),
      );
    } catch (error) {
      message = (error as Error).message;
      throw error;
    }
  });
  expect(problems).toEqual([
    { prop: 'sources[0].databases', problem: '"orders" is listed twice' },
    { prop: 'sources[1].databases', problem: 'needs at least one database name' },
    { prop: 'concurrency.overall', problem: '0 is not a limit; expected a whole number of units ≥ 1' },
    { prop: 'concurrency.perServer', problem: '1 is above concurrency.overall (0)' },
    {
      prop: 'compute.timeout',
      problem: expect.stringMatching(
        /^1 minute less the 45 s deadline margin leaves 15 s, which holds no unit/,
      ),
    },
  ]);
  expect(message).toMatch(/^5 prop problems:\n {2}- sources\[0\]\.databases: "orders" is listed twice\n/);
  // Nothing was added to the stack before the props were refused.
  expect(t.stack.node.tryFindChild('Fleet')?.node.children ?? []).toEqual([]);
});

test.each<[string, (t: TestStack) => Partial<PgferryFleetProps>, { prop: string; problem: RegExp }[]]>([
  ['no sources', () => ({ sources: [] }), [{ prop: 'sources', problem: /needs at least one server/ }]],
  [
    'a source id twice, and one that is no id',
    (t) => ({
      sources: [
        { id: 'main', secret: t.sourceSecret, databases: ['a'] },
        { id: 'main', secret: t.sourceSecret, databases: ['b'] },
        { id: 'has space', secret: t.sourceSecret, databases: ['c'] },
      ],
    }),
    [
      { prop: 'sources[1].id', problem: /"main" is used twice/ },
      { prop: 'sources[2].id', problem: /"has space" is not an id/ },
    ],
  ],
  [
    'a source with both logins and one with neither, a bad sslMode, a verifying one without a CA',
    (t) => ({
      sources: [
        {
          id: 'a',
          secret: t.sourceSecret,
          iamAuth: { username: 'u', resourceId: 'db-ABC' },
          endpoint: 'h',
          databases: ['x'],
        },
        { id: 'b', databases: ['x'] },
        { id: 'c', secret: t.sourceSecret, sslMode: 'disable' as never, databases: ['x'] },
        { id: 'd', secret: t.sourceSecret, sslMode: 'verify-full', databases: ['x'] },
      ],
    }),
    [
      { prop: 'sources[0]', problem: /give either secret or iamAuth, not both/ },
      { prop: 'sources[1]', problem: /give secret .* or iamAuth/ },
      { prop: 'sources[2].sslMode', problem: /"disable" is not allowed/ },
      { prop: 'sources[3].sslRootCert', problem: /is required with sslMode verify-full/ },
    ],
  ],
  [
    'IAM auth without an endpoint, with a bad resource id',
    () => ({
      sources: [{ id: 'a', iamAuth: { username: 'u', resourceId: 'app-db' }, databases: ['x'] }],
    }),
    [
      { prop: 'sources[0].endpoint', problem: /is required with iamAuth/ },
      { prop: 'sources[0].iamAuth.resourceId', problem: /"app-db" is not a resource id/ },
    ],
  ],
  [
    'a seed from a unit that is not backed up, unconfirmed, named like a source',
    (t) => ({
      seeds: [
        {
          id: 'main',
          from: 'main/nope',
          targetSecret: secretsmanager.Secret.fromSecretCompleteArn(
            t.stack,
            'Staging',
            'arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging-AbCdEf',
          ),
          targetDatabase: 'app_staging',
          confirm: 'app',
          sanitizeSql: 'no/such/file.sql',
        },
      ],
    }),
    [
      { prop: 'seeds[0].id', problem: /"main" is used twice/ },
      { prop: 'seeds[0].from', problem: /"main\/nope" is not a unit of the fleet/ },
      { prop: 'seeds[0].confirm', problem: /"app" does not equal targetDatabase "app_staging"/ },
      { prop: 'seeds[0].sanitizeSql', problem: /no\/such\/file\.sql is not a file/ },
    ],
  ],
  [
    'seeds whose masking rules are a local path, a prefix; a masking key without rules, a bad key ARN',
    (t) => {
      const targetSecret = secretsmanager.Secret.fromSecretCompleteArn(
        t.stack,
        'Staging',
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging-AbCdEf',
      );
      const seed = { from: 'main/app', targetSecret, targetDatabase: 'app_staging', confirm: 'app_staging' };
      return {
        seeds: [
          { ...seed, id: 'local', maskingRules: './masking.yml' },
          { ...seed, id: 'prefix', maskingRules: 's3://acme-masking/rules/' },
          { ...seed, id: 'keyonly', maskingKey: 'pgferry/masking-key' },
          { ...seed, id: 'badkey', maskingRules: 's3://acme-masking/rules.yml', maskingKey: 'masking-key' },
        ],
      };
    },
    [
      {
        prop: 'seeds[0].maskingRules',
        problem: /^"\.\/masking\.yml" is not an s3:\/\/ URI; expected s3:\/\/bucket\/key/,
      },
      { prop: 'seeds[1].maskingRules', problem: /^"s3:\/\/acme-masking\/rules\/" is not an object/ },
      { prop: 'seeds[2].maskingKey', problem: /^is not a Secrets Manager secret ARN/ },
      {
        prop: 'seeds[2].maskingKey',
        problem: /^is set without seeds\[2\]\.maskingRules; nothing would use the key$/,
      },
      { prop: 'seeds[3].maskingKey', problem: /^is not a Secrets Manager secret ARN/ },
    ],
  ],
  [
    'perServer above overall, a fractional limit',
    () => ({ concurrency: { overall: 2.5, perServer: 3 } }),
    [
      { prop: 'concurrency.overall', problem: /2\.5 is not a limit/ },
      { prop: 'concurrency.perServer', problem: /3 is above concurrency\.overall/ },
    ],
  ],
  [
    'auto with a Lambda that holds no unit and a Fargate size that does not exist',
    () => ({
      compute: Compute.auto({ lambda: { timeout: Duration.seconds(80) }, fargate: { cpu: 300 } }),
    }),
    [
      { prop: 'compute.cpu', problem: /300 is not a Fargate CPU value/ },
      { prop: 'compute.timeout', problem: /leaves 20 s, which holds no unit/ },
    ],
  ],
  [
    'an execution timeout too short, a stale period too long, a bad compress',
    () => ({
      executionTimeout: Duration.minutes(5),
      staleAfter: Duration.days(8),
      compress: 'brotli',
    }),
    [
      { prop: 'compress', problem: /brotli/ },
      { prop: 'staleAfter', problem: /must be whole hours from 1 to 168/ },
      { prop: 'executionTimeout', problem: /outside 10 minutes–365 days/ },
    ],
  ],
])('%s', (_, spoil, expected) => {
  const t = testStack();
  const problems = problemsOf(() => new PgferryFleet(t.stack, 'Fleet', fleetProps(t, spoil(t))));
  expect(problems).toEqual(
    expected.map((e) => ({ prop: e.prop, problem: expect.stringMatching(e.problem) })),
  );
});

test('a fleet’s prefix, retention and majors are checked as PgferryBackup checks them', () => {
  const t = testStack();
  const problems = problemsOf(
    () => new PgferryFleet(t.stack, 'Fleet', fleetProps(t, { prefix: '/backups/', postgresMajors: [9] })),
  );
  expect(problems.map((p) => p.prop).sort()).toEqual(['postgresMajors', 'prefix']);
});

test('PgferryBackup refuses Compute.auto(), pointing at PgferryFleet', () => {
  const t = testStack();
  expect(() => backupIn(t, { compute: Compute.auto() })).toThrow(
    /^compute: Compute\.auto\(\) needs PgferryFleet; give Compute\.lambda\(\) or Compute\.fargate\(\)$/,
  );
});

test('a fleet’s client settings are checked by the job’s own parser, and reach the unit entry', () => {
  const t = testStack();
  const problems = problemsOf(
    () =>
      new PgferryFleet(t.stack, 'Fleet', fleetProps(t, { clientSource: 'apt', minClientVersion: 'latest' })),
  );
  expect(problems.map((p) => [p.prop, p.problem])).toEqual([
    ['minClientVersion', expect.stringMatching(/"latest"/)],
    ['clientSource', expect.stringMatching(/"apt".*pgdg/)],
  ]);
  const ok = testStack('PgdgFleet');
  new PgferryFleet(
    ok.stack,
    'Fleet',
    fleetProps(ok, { clientSource: 'pgdg', clientMirror: mirrorUrl(), clientCacheDir: SHARED_CLIENT_CACHE }),
  );
  Template.fromStack(ok.stack).hasResourceProperties('AWS::Lambda::Function', {
    Environment: {
      Variables: Match.objectLike({ PGFERRY_CLIENT_SOURCE: 'pgdg' }),
    },
  });
});

test('a masked seed on Compute.auto(): its key, given by ARN, imported once and granted to both runners', () => {
  const t = testStack('AutoMaskedFleet');
  const key = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pgferry/masking-key';
  const fleet = new PgferryFleet(
    t.stack,
    'Fleet',
    fleetProps(t, {
      compute: Compute.auto(),
      clientMirror: mirrorUrl(),
      clientCacheDir: SHARED_CLIENT_CACHE,
      seeds: [
        {
          id: 'masked',
          from: 'main/app',
          targetSecret: secretsmanager.Secret.fromSecretCompleteArn(
            t.stack,
            'Staging',
            'arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging-AbCdEf',
          ),
          targetDatabase: 'app_staging',
          confirm: 'app_staging',
          maskingRules: 's3://acme-masking/rules.yml',
          maskingKey: key,
        },
      ],
    }),
  );
  expect(fleet.lambda && fleet.fargate).toBeTruthy();
  const policies = Template.fromStack(t.stack).findResources('AWS::IAM::Policy');
  const readingKey = Object.values(policies).filter((p) => JSON.stringify(p).includes(`${key}-??????`));
  // One policy per runner role (the Lambda's and the Fargate task's), each naming the key.
  expect(readingKey).toHaveLength(2);
});
