// Bad prop combinations throw an error naming the prop; legal but risky ones warn at synth.
import { Duration, Size } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Compute } from '../../infra/compute.js';
import type { PgferryBackupProps } from '../../infra/props.js';
import { PgferryBackupPropsError } from '../../infra/resolve-props.js';
import { resolveMajors } from '../../infra/resolve-source.js';
import {
  backupIn,
  sanitizeSqlFile,
  seedProps,
  templateOf,
  testStack,
  type Json,
  type TestStack,
  warmClientCache,
} from './infra-stacks.js';

beforeAll(warmClientCache);

type Case = [string, (t: TestStack) => Partial<PgferryBackupProps>, RegExp];

const INVALID: Case[] = [
  ['no secret and no IAM auth', () => ({ database: {} }), /^database: give secret .* or iamAuth/],
  [
    'both a secret and IAM auth',
    (t) => ({
      database: { secret: t.sourceSecret, iamAuth: { username: 'u', resourceId: 'db-ABC' }, endpoint: 'h' },
    }),
    /^database: give either secret or iamAuth, not both/,
  ],
  [
    'IAM auth without an endpoint',
    () => ({ database: { iamAuth: { username: 'pgferry', resourceId: 'db-ABC' } } }),
    /^database\.endpoint: is required with iamAuth/,
  ],
  [
    'IAM auth with an instance identifier instead of a resource id',
    () => ({ database: { endpoint: 'h', iamAuth: { username: 'pgferry', resourceId: 'app-db' } } }),
    /^database\.iamAuth\.resourceId: "app-db" is not a resource id/,
  ],
  [
    'a port out of range',
    (t) => ({ database: { secret: t.sourceSecret, port: 70000 } }),
    /^database\.port: "70000" is not a port; expected 1–65535/,
  ],
  [
    'certificate verification without a CA bundle',
    (t) => ({ database: { secret: t.sourceSecret, sslMode: 'verify-full' } }),
    /^database\.sslRootCert: is required when an sslMode is verify-ca or verify-full/,
  ],
  [
    'masking rules given as a path (the job could not read it in the bundle)',
    (t) => ({ seed: seedProps(t, { maskingRules: './masking/rules.yml' }) }),
    /^seed\.maskingRules: "\.\/masking\/rules\.yml" is not an s3:\/\/ URI; expected s3:\/\/bucket\/key/,
  ],
  [
    'a masking key without masking rules',
    (t) => ({
      seed: seedProps(t, {
        maskingKey: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pgferry/masking-key',
      }),
    }),
    /^seed\.maskingKey: is set without seed\.maskingRules/,
  ],
  ['no databases', () => ({ databases: [] }), /^databases: needs at least one/],
  [
    'a database name that is not a valid name',
    () => ({ databases: ['app', 'bad name'] }),
    /^databases: "bad name" is not a valid database name/,
  ],
  ['a database name with a slash', () => ({ databases: ['../etc'] }), /^databases: "\.\.\/etc"/],
  ['a database listed twice', () => ({ databases: ['app', 'app'] }), /^databases: "app" is listed twice/],
  ['no majors', () => ({ postgresMajors: [] }), /^postgresMajors: needs at least one major/],
  [
    'a major below 14',
    () => ({ postgresMajors: [13, 17] }),
    /^postgresMajors: 13 not supported; expected majors 14 or newer/,
  ],
  ['a major that is no integer', () => ({ postgresMajors: [17.5] }), /^postgresMajors: 17\.5 not supported/],
  [
    'a pinned version whose major is not staged',
    () => ({ postgresVersion: '16' }),
    /^postgresVersion: 16 needs major 16, which is not among postgresMajors \(17, 18\)/,
  ],
  [
    'a Lambda timeout above 15 minutes',
    () => ({ compute: Compute.lambda({ timeout: Duration.minutes(16) }) }),
    /^compute\.timeout: 16 minutes is above Lambda's 15-minute limit; use Compute\.fargate\(\)/,
  ],
  [
    'Lambda memory out of range',
    () => ({ compute: Compute.lambda({ memorySize: 64 }) }),
    /^compute\.memorySize: 64/,
  ],
  [
    'Lambda /tmp above 10 GiB',
    () => ({ compute: Compute.lambda({ ephemeralStorageSize: Size.gibibytes(20) }) }),
    /^compute\.ephemeralStorageSize: 20480 MiB/,
  ],
  [
    'Fargate ephemeral storage below 21 GiB',
    () => ({ compute: Compute.fargate({ ephemeralStorageGiB: 20 }) }),
    /^compute\.ephemeralStorageGiB: 20 is outside Fargate's 21–200 GiB/,
  ],
  [
    'Fargate ephemeral storage above 200 GiB',
    () => ({ compute: Compute.fargate({ ephemeralStorageGiB: 201 }) }),
    /^compute\.ephemeralStorageGiB: 201/,
  ],
  [
    'a Fargate CPU value that does not exist',
    () => ({ compute: Compute.fargate({ cpu: 3000 }) }),
    /^compute\.cpu: 3000/,
  ],
  [
    'Fargate memory that does not suit the CPU',
    () => ({ compute: Compute.fargate({ cpu: 1024, memoryLimitMiB: 512 }) }),
    /^compute\.memoryLimitMiB: 512 MiB does not suit cpu 1024/,
  ],
  [
    'Object Lock on an existing bucket',
    (t) => ({
      bucket: s3.Bucket.fromBucketName(t.stack, 'Existing', 'my-backups'),
      objectLockRetention: Duration.days(30),
    }),
    /^objectLockRetention: needs a bucket created by PgferryBackup; an existing bucket /,
  ],
  [
    'tier retention on an existing bucket',
    (t) => ({
      bucket: s3.Bucket.fromBucketName(t.stack, 'Existing', 'my-backups'),
      dailyRetention: Duration.days(3),
    }),
    /^dailyRetention: needs a bucket created by PgferryBackup/,
  ],
  [
    'an Object Lock mode without a retention',
    () => ({ objectLockMode: 'compliance' }),
    /^objectLockMode: needs objectLockRetention/,
  ],
  [
    'a retention that is not whole days',
    () => ({ weeklyRetention: Duration.hours(36) }),
    /^weeklyRetention: /,
  ],
  [
    'staleAfter beyond 7 days',
    () => ({ staleAfter: Duration.days(8) }),
    /^staleAfter: 8 days must be whole hours from 1 to 168/,
  ],
  ['staleAfter that is not whole hours', () => ({ staleAfter: Duration.minutes(90) }), /^staleAfter: /],
  [
    'a prefix with a leading slash',
    () => ({ prefix: '/backups' }),
    /^prefix: "\/backups" is not a key prefix/,
  ],
  ['a prefix with a wildcard', () => ({ prefix: 'back*ups' }), /^prefix: /],
  ['a prefix with ..', () => ({ prefix: 'a/../b' }), /^prefix: /],
  ['an unknown compression', () => ({ compress: 'brotli' }), /^compress: "brotli" is not a compression/],
  // The engine's own jobs parser, so the message is the one every front end gives.
  [
    'zero restore jobs',
    () => ({ jobs: 0 }),
    /^jobs: "0" is not a job count; expected auto or a whole number ≥ 1$/,
  ],
  [
    'a compression level pg_dump refuses (the old check let it through to run time)',
    () => ({ compress: 'zstd:99' }),
    /^compress: "zstd:99": zstd levels run from 1 to 22$/,
  ],
  ['a fractional job count', () => ({ jobs: 1.5 }), /^jobs: "1\.5" is not a job count/],
  [
    'a version that is no version',
    () => ({ postgresVersion: 'banana' }),
    /^postgresVersion: "banana" is not a version; expected auto, a major such as 17/,
  ],
  [
    'a format that is no format',
    () => ({ format: 'zip' as 'custom' }),
    /^format: "zip" is not a dump format/,
  ],
  [
    'a verification that is none',
    () => ({ verify: 'twice' as 'list' }),
    /^verify: "twice" is not a verification/,
  ],
  ['a size hint of zero', () => ({ expectedSizeGiB: 0 }), /^expectedSizeGiB: /],
  [
    'an alarm email that is not an address',
    () => ({ alarmEmail: 'ops' }),
    /^alarmEmail: "ops" is not an email address/,
  ],
  ['an AWS namespace for the metrics', () => ({ metricsNamespace: 'AWS/Lambda' }), /^metricsNamespace: /],
  [
    'seeding from a database that is not backed up',
    (t) => ({ seed: seedProps(t, { fromDatabase: 'billing' }) }),
    /^seed\.fromDatabase: "billing" is not among databases \(app\)/,
  ],
  [
    'a seed confirmation that does not name the target',
    (t) => ({ seed: seedProps(t, { confirm: 'app' }) }),
    /^seed\.confirm: "app" does not equal seed\.targetDatabase "app_staging"/,
  ],
  [
    'a seed swap that is not a boolean',
    (t) => ({ seed: seedProps(t, { swap: 'maybe' as unknown as boolean }) }),
    /^seed\.swap: "maybe" is not a boolean; expected true or false/,
  ],
  [
    'a sanitize SQL file that does not exist',
    (t) => ({ seed: seedProps(t, { sanitizeSql: '/nonexistent/sanitize.sql' }) }),
    /^seed\.sanitizeSql: \/nonexistent\/sanitize\.sql is not a file/,
  ],
];

describe('invalid props throw an error naming the prop', () => {
  test.each(INVALID)('%s', (_name, overrides, message) => {
    const t = testStack();
    let thrown: unknown;
    try {
      backupIn(t, overrides(t));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PgferryBackupPropsError);
    expect((thrown as Error).message).toMatch(message);
  });
});

describe('postgresMajors has no ceiling', () => {
  it('takes majors newer than pgferry knows, sorted and distinct (staging fails if none is published)', () => {
    expect(resolveMajors([20, 19, 18, 19])).toEqual([18, 19, 20]);
  });
});

describe('seed.swap', () => {
  const swapOf = (swap: boolean | undefined): unknown => {
    const t = testStack();
    backupIn(t, { seed: seedProps(t, swap === undefined ? {} : { swap }) });
    const fn = Object.values(templateOf(t).findResources('AWS::Lambda::Function')).find(
      (r) => (r.Properties as Json | undefined)?.Environment !== undefined,
    );
    return ((fn?.Properties as Json).Environment as { Variables: Json }).Variables.PGFERRY_SWAP;
  };
  it('reaches the job as PGFERRY_SWAP: true by default, false for the in-place seed', () => {
    expect([swapOf(undefined), swapOf(true), swapOf(false)]).toEqual(['true', 'true', 'false']);
  });
});

describe('every bad prop is reported at once', () => {
  it('one error, one line per prop, in the order of the props', () => {
    const t = testStack();
    let thrown: unknown;
    try {
      backupIn(t, {
        compress: 'zstd:99',
        jobs: 0,
        postgresVersion: 'banana',
        prefix: '/backups',
        alarmEmail: 'ops',
        staleAfter: Duration.days(8),
        bucket: s3.Bucket.fromBucketName(t.stack, 'Existing', 'my-backups'),
        dailyRetention: Duration.days(3),
        weeklyRetention: Duration.days(30),
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PgferryBackupPropsError);
    const lines = (thrown as Error).message.split('\n');
    expect(lines[0]).toBe('8 prop problems:');
    expect(lines.slice(1).map((l) => l.replace(/^ {2}- ([^:]+):.*$/, '$1'))).toEqual([
      'postgresVersion',
      'compress',
      'jobs',
      'alarmEmail',
      'dailyRetention',
      'weeklyRetention',
      'prefix',
      'staleAfter',
    ]);
  });
});

describe('every bad prop within one group is reported at once too', () => {
  const propsOf = (run: () => void): string[] => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(PgferryBackupPropsError);
      return (error as PgferryBackupPropsError).problems.map((p) => p.prop);
    }
    throw new Error('expected the props to be refused');
  };

  it('seed: every bad seed prop', () => {
    const t = testStack();
    const seed = seedProps(t, {
      fromDatabase: 'nope',
      targetDatabase: 'bad name!',
      confirm: 'other',
      sanitizeSql: '/no/such/file.sql',
      sslMode: 'sometimes' as never,
      swap: 'maybe' as never,
    });
    expect(propsOf(() => backupIn(t, { seed }))).toEqual([
      'seed.fromDatabase',
      'seed.targetDatabase',
      'seed.confirm',
      'seed.sanitizeSql',
      'seed.sslMode',
      'seed.swap',
    ]);
  });

  it('compute: every limit Lambda or Fargate sets', () => {
    const lambda = Compute.lambda({
      timeout: Duration.minutes(20),
      memorySize: 64,
      ephemeralStorageSize: Size.mebibytes(100),
    });
    expect(propsOf(() => backupIn(testStack(), { compute: lambda }))).toEqual([
      'compute.timeout',
      'compute.memorySize',
      'compute.ephemeralStorageSize',
    ]);
    const fargate = Compute.fargate({ cpu: 3, ephemeralStorageGiB: 500 });
    expect(propsOf(() => backupIn(testStack(), { compute: fargate }))).toEqual([
      'compute.cpu',
      'compute.ephemeralStorageGiB',
    ]);
  });

  it('database: every bad IAM auth prop', () => {
    const database = { port: 70000, iamAuth: { username: '', resourceId: 'app-db' } };
    expect(propsOf(() => backupIn(testStack(), { database }))).toEqual([
      'database.port',
      'database.endpoint',
      'database.iamAuth.username',
      'database.iamAuth.resourceId',
    ]);
  });
});

function warningsOf(t: TestStack): string[] {
  return Annotations.fromStack(t.stack)
    .findWarning('/Test/Backup', Match.anyValue())
    .map((w) => String(w.entry.data));
}

describe('risky combinations warn', () => {
  test('a fully specified Lambda setup warns about nothing', () => {
    const t = testStack();
    backupIn(t);
    expect(warningsOf(t)).toEqual([]);
  });

  test('no alarm topic and no email: the alarms go nowhere', () => {
    const t = testStack();
    backupIn(t, { alarmEmail: undefined });
    expect(warningsOf(t)).toEqual([
      expect.stringMatching(
        /^No alarmTopic and no alarmEmail: the alarms notify a new topic that nobody is subscribed to/,
      ),
    ]);
  });

  test('Lambda with a large database, and a restore drill on Lambda', () => {
    const t = testStack();
    backupIn(t, { expectedSizeGiB: 40, verify: 'restore' });
    const warnings = warningsOf(t);
    expect(warnings).toContainEqual(
      expect.stringMatching(
        /^expectedSizeGiB is 40: a dump that large may not finish within Lambda's 15 minutes.*Compute\.fargate\(\)/,
      ),
    );
    expect(warnings).toContainEqual(
      expect.stringMatching(/^verify: 'restore' on Lambda with expectedSizeGiB 40/),
    );
    expect(warnings).toContainEqual(
      expect.stringMatching(/^expectedSizeGiB \(40\) is larger than the job's local disk \(10 GiB\)/),
    );
  });

  test('Fargate seeding a database larger than the task disk', () => {
    const t = testStack();
    backupIn(t, {
      compute: Compute.fargate(),
      expectedSizeGiB: 100,
      seed: seedProps(t, { sanitizeSql: sanitizeSqlFile() }),
    });
    expect(warningsOf(t)).toEqual([
      expect.stringMatching(/^expectedSizeGiB \(100\) is larger than the job's local disk \(21 GiB\)/),
    ]);
  });

  test('an Object Lock longer than the daily retention', () => {
    const t = testStack();
    backupIn(t, { objectLockRetention: Duration.days(30) });
    expect(warningsOf(t)).toEqual([
      expect.stringMatching(/^objectLockRetention \(30 days\) is longer than dailyRetention \(7 days\)/),
    ]);
  });
});
