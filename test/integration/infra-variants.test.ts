// The other ways in: IAM authentication, an existing bucket, a KMS key, Object Lock, a given topic,
// a custom schedule and staleness. Each stack passes cdk-nag (the synth fails otherwise).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Compute } from '../../infra/compute.js';
import { nagFindings } from '../../infra/nag.js';
import type { PgferryBackup } from '../../infra/pgferry-backup.js';
import { REPO_ROOT } from '../harness/paths.js';
import {
  ACCOUNT,
  backupIn,
  REGION,
  templateOf,
  testStack,
  type Json,
  type Resources,
  type TestStack,
  warmClientCache,
} from './infra-stacks.js';

beforeAll(warmClientCache);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

function roleStatements(t: TestStack, template: Template, backup: PgferryBackup): Statement[] {
  const roleId = t.stack.getLogicalId(backup.role.node.defaultChild as never);
  const resources = template.toJSON().Resources as Resources;
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]),
    )
    .flatMap((r) => (r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
}

function environmentOf(template: Template): Json {
  const fn = Object.values(template.toJSON().Resources as Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function',
  )!;
  return (fn.Properties?.Environment as { Variables: Json }).Variables;
}

test('IAM authentication: rds-db:connect for that user, host/port/user in the environment, no secret', () => {
  const t = testStack();
  const backup = backupIn(t, {
    database: {
      endpoint: 'app-db.abcdefghijkl.eu-west-1.rds.amazonaws.com',
      port: 5433,
      iamAuth: { username: 'pgferry', resourceId: 'db-ABCDEFGHIJKLMNOP' },
      sslMode: 'verify-full',
      sslRootCert: '/etc/ssl/certs/rds-global-bundle.pem',
    },
    compute: Compute.fargate(),
  });
  const template = templateOf(t);
  const statements = roleStatements(t, template, backup);
  expect(statements).toContainEqual(
    expect.objectContaining({
      Action: 'rds-db:connect',
      Effect: 'Allow',
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            `:rds-db:${REGION}:${ACCOUNT}:dbuser:db-ABCDEFGHIJKLMNOP/pgferry`,
          ],
        ],
      },
    }),
  );
  expect(JSON.stringify(statements)).not.toContain('secretsmanager');
  const task = Object.values(template.toJSON().Resources as Resources).find(
    (r) => r.Type === 'AWS::ECS::TaskDefinition',
  )!;
  const env = Object.fromEntries(
    (
      (task.Properties?.ContainerDefinitions as Json[])[0]!.Environment as { Name: string; Value: unknown }[]
    ).map((e) => [e.Name, e.Value]),
  );
  expect(env).toEqual(
    expect.objectContaining({
      PGFERRY_SOURCE_IAM_AUTH: 'true',
      PGFERRY_SOURCE_HOST: 'app-db.abcdefghijkl.eu-west-1.rds.amazonaws.com',
      PGFERRY_SOURCE_PORT: '5433',
      PGFERRY_SOURCE_USER: 'pgferry',
      PGFERRY_SOURCE_SSLMODE: 'verify-full',
      PGFERRY_SSL_ROOT_CERT: '/etc/ssl/certs/rds-global-bundle.pem',
    }),
  );
  expect(env.PGFERRY_SOURCE_SECRET_ARN).toBeUndefined();
  expect(env.PGFERRY_DEADLINE_MARGIN_SECONDS).toBeUndefined();
});

test('an existing bucket with its KMS key: nothing created, grants under the prefix, SSE-KMS through S3 only', () => {
  const t = testStack();
  const key = kms.Key.fromKeyArn(
    t.stack,
    'BucketKey',
    `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`,
  );
  const bucket = s3.Bucket.fromBucketAttributes(t.stack, 'Existing', {
    bucketName: 'corp-backups',
    encryptionKey: key,
  });
  const backup = backupIn(t, { bucket, prefix: 'pg/prod' });
  const template = templateOf(t);
  template.resourceCountIs('AWS::S3::Bucket', 0);
  template.resourceCountIs('AWS::S3::BucketPolicy', 0);
  const objects = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::corp-backups/pg/prod/*']] };
  const statements = roleStatements(t, template, backup);
  expect(statements).toContainEqual(
    expect.objectContaining({
      Action: ['s3:PutObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload'],
      Resource: objects,
    }),
  );
  expect(statements).toContainEqual(expect.objectContaining({ Action: 's3:GetObject', Resource: objects }));
  expect(statements).toContainEqual(
    expect.objectContaining({
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: key.keyArn,
      Condition: { StringEquals: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
    }),
  );
  expect(environmentOf(template)).toEqual(
    expect.objectContaining({
      PGFERRY_BUCKET: 'corp-backups',
      PGFERRY_PREFIX: 'pg/prod',
      PGFERRY_S3_SSE: 'aws:kms',
      PGFERRY_S3_KMS_KEY_ID: key.keyArn,
    }),
  );
});

test('an existing bucket without a key: the job sends no encryption header (the bucket default applies)', () => {
  const t = testStack();
  backupIn(t, { bucket: s3.Bucket.fromBucketName(t.stack, 'Existing', 'corp-backups') });
  const env = environmentOf(templateOf(t));
  expect(env.PGFERRY_S3_SSE).toBeUndefined();
  expect(env.PGFERRY_S3_KMS_KEY_ID).toBeUndefined();
});

test('a created bucket with a KMS key, Object Lock, custom retention, schedule, staleness and topic', () => {
  const t = testStack();
  const key = new kms.Key(t.stack, 'BackupKey', { enableKeyRotation: true });
  const topic = new sns.Topic(t.stack, 'OpsTopic', {
    enforceSSL: true,
    masterKey: new kms.Key(t.stack, 'OpsKey', { enableKeyRotation: true }),
  });
  const backup = backupIn(t, {
    encryptionKey: key,
    objectLockRetention: Duration.days(7),
    objectLockMode: 'compliance',
    dailyRetention: Duration.days(14),
    weeklyRetention: Duration.days(60),
    monthlyRetention: Duration.days(730),
    noncurrentVersionRetention: Duration.days(10),
    schedule: events.Schedule.cron({ minute: '30', hour: '1' }),
    staleAfter: Duration.hours(48),
    alarmTopic: topic,
    alarmEmail: undefined,
    databases: ['app', 'app_audit'],
  });
  const template = templateOf(t);
  template.hasResourceProperties('AWS::S3::Bucket', {
    BucketEncryption: {
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [t.stack.getLogicalId(key.node.defaultChild as never), 'Arn'] },
          },
        },
      ],
    },
    ObjectLockEnabled: true,
    ObjectLockConfiguration: {
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 7 } },
    },
    LifecycleConfiguration: {
      Rules: Match.arrayWith([
        Match.objectLike({ TagFilters: [{ Key: 'pgferry-tier', Value: 'daily' }], ExpirationInDays: 14 }),
        Match.objectLike({ TagFilters: [{ Key: 'pgferry-tier', Value: 'weekly' }], ExpirationInDays: 60 }),
        Match.objectLike({ TagFilters: [{ Key: 'pgferry-tier', Value: 'monthly' }], ExpirationInDays: 730 }),
        Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 10 } }),
      ]),
    },
  });
  template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(30 1 * * ? *)' });
  // The topic given is used, none is created.
  template.resourceCountIs('AWS::SNS::Topic', 1);
  expect(backup.alarmTopic).toBe(topic);
  for (const database of ['app', 'app_audit']) {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'VerifiedBackups',
      Dimensions: Match.arrayWith([{ Name: 'Database', Value: database }]),
      EvaluationPeriods: 48,
      DatapointsToAlarm: 48,
      Period: 3600,
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: t.stack.getLogicalId(topic.node.defaultChild as never) }],
    });
  }
  expect(environmentOf(template)).toEqual(
    expect.objectContaining({ PGFERRY_S3_SSE: 'aws:kms', PGFERRY_DATABASES: 'app,app_audit' }),
  );
  expect(nagFindings(t.stack)).toEqual([]);
});

test('a secret imported by name: its ARN wildcard is acknowledged, not left as a finding', () => {
  const t = testStack();
  const secret = secretsmanager.Secret.fromSecretNameV2(t.stack, 'ByName', 'prod/app-db');
  backupIn(t, { database: { secret } });
  templateOf(t);
  expect(nagFindings(t.stack)).toEqual([]);
  // A wildcard someone else adds to the job role is still a finding.
  const extra = testStack();
  const backup = backupIn(extra);
  backup.role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::other/*'] }),
  );
  expect(() => templateOf(extra)).toThrow(/AwsSolutions-IAM5/);
});

test.each(['lambda', 'fargate'] as const)(
  'with the feature flags a new CDK project recommends, %s still synthesizes cdk-nag clean',
  (kind) => {
    const flags = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'node_modules/aws-cdk-lib/recommended-feature-flags.json'), 'utf8'),
    ) as Record<string, unknown>;
    const t = testStack('Flags', flags);
    const backup = backupIn(t, { compute: kind === 'lambda' ? Compute.lambda() : Compute.fargate() });
    t.db.connections.allowDefaultPortFrom(backup);
    const template = templateOf(t);
    expect(nagFindings(t.stack)).toEqual([]);
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'backup-bucket/' }),
    });
    // The job's grants do not change with the flags: still only its prefix.
    const actions = roleStatements(t, template, backup).flatMap((s) =>
      Array.isArray(s.Action) ? s.Action : [s.Action],
    );
    expect(actions.filter((a) => a.startsWith('s3:')).sort()).toEqual([
      's3:AbortMultipartUpload',
      's3:GetObject',
      's3:PutObject',
      's3:PutObjectTagging',
    ]);
  },
);
