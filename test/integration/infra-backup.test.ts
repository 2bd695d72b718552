// The guarantees of PgferryBackup, for both computes: one fully featured stack per compute is
// synthesized once (clients staged from the test mirror) and its template checked property by property.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ENV_VARIABLES } from '../../lambda/job-variables.js';
import { Compute } from '../../infra/compute.js';
import { nagAcknowledgments, nagFindings } from '../../infra/nag.js';
import type { PgferryBackup } from '../../infra/pgferry-backup.js';
import {
  ACCOUNT,
  backupIn,
  REGION,
  sanitizeSqlFile,
  SOURCE_SECRET_ARN,
  templateOf,
  testStack,
  type Json,
  type Resources,
  type TestStack,
  warmClientCache,
} from './infra-stacks.js';

beforeAll(warmClientCache);

interface Built {
  t: TestStack;
  backup: PgferryBackup;
  template: Template;
  resources: Resources;
  stagingSecret: secretsmanager.Secret;
  assemblyDir: string;
}

/** A CloudFormation value as flat text: `<Logical.Arn>/backups/*`, `<AWS::Partition>`. */
function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flat).join(sep);
  }
  if (Array.isArray(v['Fn::GetAtt'])) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if (v.Ref !== undefined) return `<${String(v.Ref)}>`;
  return JSON.stringify(value);
}

function list(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

interface Statement {
  Effect: string;
  Action: unknown;
  Resource: unknown;
  Condition?: unknown;
}

/** Every allow of the role as `action resource [condition]`, one line per action × resource. */
function roleGrants(b: Built, role: iam.IRole): string[] {
  const roleId = Stack.of(role).getLogicalId(role.node.defaultChild as never);
  const roleResource = b.resources[roleId];
  expect(roleResource?.Properties?.ManagedPolicyArns).toBeUndefined();
  expect(roleResource?.Properties?.Policies).toBeUndefined();
  const statements: Statement[] = [];
  for (const r of Object.values(b.resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    if (!list(r.Properties?.Roles).some((x) => (x as Json).Ref === roleId)) continue;
    statements.push(...((r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement ?? []));
  }
  const grants: string[] = [];
  for (const s of statements) {
    expect(s.Effect).toBe('Allow');
    for (const action of list(s.Action)) {
      for (const resource of list(s.Resource)) {
        grants.push(
          `${String(action)} ${flat(resource)}${s.Condition ? ` ${JSON.stringify(s.Condition)}` : ''}`,
        );
      }
    }
  }
  return [...new Set(grants)].sort();
}

function logicalId(b: Built, construct: { node: { defaultChild?: unknown } }): string {
  return b.t.stack.getLogicalId(construct.node.defaultChild as never);
}

const MASKING_RULES = 's3://acme-masking/rules/app staging.yml';
const MASKING_KEY_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:pgferry/masking-key-AbC123`;
const MASKING_KEY_PARTIAL_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:pgferry/masking-key`;

function build(kind: 'lambda' | 'fargate'): Built {
  const t = testStack(kind === 'lambda' ? 'LambdaBackup' : 'FargateBackup');
  // A secret created in the stack: its generated value must never reach the template.
  const stagingSecret = new secretsmanager.Secret(t.stack, 'StagingSecret', {
    generateSecretString: { secretStringTemplate: '{"username":"staging"}', generateStringKey: 'password' },
  });
  Validations.of(stagingSecret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'A test fixture standing for the staging server secret, whose rotation belongs to the database owner.',
  });
  const backup = backupIn(t, {
    databases: ['app', 'billing'],
    compute:
      kind === 'lambda'
        ? Compute.lambda()
        : Compute.fargate({ cpu: 2048, memoryLimitMiB: 8192, ephemeralStorageGiB: 50 }),
    seed: {
      schedule: events.Schedule.cron({ minute: '0', hour: '6' }),
      targetSecret: stagingSecret,
      targetDatabase: 'app_staging',
      confirm: 'app_staging',
      sanitizeSql: sanitizeSqlFile(),
      maskingRules: MASKING_RULES,
      // The key by its ISecret on Lambda, by a (partial) ARN on Fargate: both become a grant.
      maskingKey:
        kind === 'lambda'
          ? secretsmanager.Secret.fromSecretCompleteArn(t.stack, 'MaskingKeySecret', MASKING_KEY_ARN)
          : MASKING_KEY_PARTIAL_ARN,
    },
  });
  t.db.connections.allowDefaultPortFrom(backup);
  const template = templateOf(t);
  const assembly = t.app.synth();
  return {
    t,
    backup,
    template,
    resources: template.toJSON().Resources as Resources,
    stagingSecret,
    assemblyDir: assembly.directory,
  };
}

describe.each(['lambda', 'fargate'] as const)('PgferryBackup on %s', (kind) => {
  let b: Built;
  beforeAll(() => {
    b = build(kind);
  });

  test('the bucket is versioned, private, TLS-only and SSE-S3 encrypted', () => {
    b.template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    const bucketId = logicalId(b, b.backup.bucket);
    b.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    // The backups are kept when the stack goes.
    expect(b.resources[bucketId]?.Type).toBe('AWS::S3::Bucket');
    b.template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ VersioningConfiguration: { Status: 'Enabled' } }),
    });
  });

  test('lifecycle: incomplete uploads aborted after a day, each tier expired after its own age', () => {
    const bucket = b.resources[logicalId(b, b.backup.bucket)]!;
    const rules = (bucket.Properties?.LifecycleConfiguration as { Rules: Json[] }).Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        Status: 'Enabled',
      }),
    );
    for (const [tier, days] of [
      ['daily', 7],
      ['weekly', 35],
      ['monthly', 400],
    ] as const) {
      expect(rules).toContainEqual(
        expect.objectContaining({
          Status: 'Enabled',
          Prefix: 'backups/',
          TagFilters: [{ Key: 'pgferry-tier', Value: tier }],
          ExpirationInDays: days,
        }),
      );
    }
    // The stored parts of a sharded backup whose other parts failed: tagged by the job, expired here.
    expect(rules).toContainEqual(
      expect.objectContaining({
        Status: 'Enabled',
        Prefix: 'backups/',
        TagFilters: [{ Key: 'pgferry-incomplete', Value: 'true' }],
        ExpirationInDays: 1,
      }),
    );
    expect(rules).toContainEqual(
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
    );
    // Server access logs go to their own bucket.
    expect(bucket.Properties?.LoggingConfiguration).toEqual(
      expect.objectContaining({ LogFilePrefix: 'backup-bucket/' }),
    );
  });

  test('the job role may write and read under the prefix, read its three secrets, the sanitize SQL and the masking rules — nothing else', () => {
    const bucketArn = `<${logicalId(b, b.backup.bucket)}.Arn>`;
    const stagingSecret = `<${logicalId(b, b.stagingSecret)}>`;
    const asset = roleGrants(b, b.backup.role).find((g) => g.includes(':s3:::cdk-'));
    expect(asset).toMatch(
      new RegExp(
        `^s3:GetObject arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-${ACCOUNT}-${REGION}/[0-9a-f]{64}\\.sql$`,
      ),
    );
    const expected = [
      `s3:PutObject ${bucketArn}/backups/*`,
      `s3:PutObjectTagging ${bucketArn}/backups/*`,
      `s3:AbortMultipartUpload ${bucketArn}/backups/*`,
      `s3:GetObject ${bucketArn}/backups/*`,
      `secretsmanager:GetSecretValue ${SOURCE_SECRET_ARN}`,
      `secretsmanager:DescribeSecret ${SOURCE_SECRET_ARN}`,
      `secretsmanager:GetSecretValue ${stagingSecret}`,
      `secretsmanager:DescribeSecret ${stagingSecret}`,
      asset!,
      // Exactly the rules object, and exactly the key's secret (a partial ARN: any suffix of that name).
      's3:GetObject arn:<AWS::Partition>:s3:::acme-masking/rules/app staging.yml',
      ...(kind === 'lambda'
        ? [
            `secretsmanager:GetSecretValue ${MASKING_KEY_ARN}`,
            `secretsmanager:DescribeSecret ${MASKING_KEY_ARN}`,
          ]
        : [
            `secretsmanager:GetSecretValue ${MASKING_KEY_PARTIAL_ARN}-??????`,
            `secretsmanager:DescribeSecret ${MASKING_KEY_PARTIAL_ARN}-??????`,
          ]),
    ];
    if (kind === 'lambda') {
      const logs = `<${logicalId(b, b.backup.runner.logGroup)}.Arn>`;
      expected.push(`logs:CreateLogStream ${logs}`, `logs:PutLogEvents ${logs}`);
      for (const action of [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ]) {
        expected.push(`${action} *`);
      }
    }
    expect(roleGrants(b, b.backup.role)).toEqual(expected.sort());
  });

  test('no IAM policy in the stack allows deleting, listing or everything in S3', () => {
    for (const r of Object.values(b.resources)) {
      if (r.Type !== 'AWS::IAM::Policy') continue;
      for (const s of (r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement) {
        if (s.Effect !== 'Allow') continue;
        for (const action of list(s.Action).map(String)) {
          expect(action).not.toMatch(/^(\*|s3:\*|s3:Delete.*|s3:List.*|s3:Get\*|s3:Put\*)$/i);
        }
      }
    }
  });

  test('backups run daily at 03:00 UTC, seeding on its own schedule', () => {
    b.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      State: 'ENABLED',
    });
    b.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 6 * * ? *)' });
  });

  test('the job environment names only settings and ARNs', () => {
    const bucketRef = { Ref: logicalId(b, b.backup.bucket) };
    const expected: Json = {
      PGFERRY_SOURCE_SECRET_ARN: SOURCE_SECRET_ARN,
      PGFERRY_SOURCE_SSLMODE: 'require',
      PGFERRY_DATABASES: 'app,billing',
      PGFERRY_BUCKET: bucketRef,
      PGFERRY_PREFIX: 'backups',
      PGFERRY_POSTGRES_VERSION: 'auto',
      PGFERRY_FORMAT: 'custom',
      PGFERRY_COMPRESS: 'auto',
      PGFERRY_VERIFY: 'list',
      PGFERRY_S3_SSE: 'AES256',
      PGFERRY_METRICS_NAMESPACE: b.backup.metricsNamespace,
      PGFERRY_SEED_SECRET_ARN: { Ref: logicalId(b, b.stagingSecret) },
      PGFERRY_SEED_DATABASE: 'app_staging',
      PGFERRY_SEED_FROM_DATABASE: 'app',
      PGFERRY_SEED_CONFIRM: 'app_staging',
      PGFERRY_SEED_SSLMODE: 'require',
      PGFERRY_SWAP: 'true',
      PGFERRY_SANITIZE_SQL: expect.stringMatching(
        new RegExp(`^s3://cdk-hnb659fds-assets-${ACCOUNT}-${REGION}/[0-9a-f]{64}\\.sql$`),
      ),
      PGFERRY_MASKING_RULES: MASKING_RULES,
      // The key's secret by ARN; the key itself never is a variable.
      PGFERRY_MASKING_KEY_SECRET_ARN: kind === 'lambda' ? MASKING_KEY_ARN : MASKING_KEY_PARTIAL_ARN,
    };
    expect(b.backup.metricsNamespace).toBe(
      `pgferry/${kind === 'lambda' ? 'LambdaBackup' : 'FargateBackup'}/Backup`,
    );
    let env: Json;
    if (kind === 'lambda') {
      expected.PGFERRY_DEADLINE_MARGIN_SECONDS = '60';
      const fn = Object.values(b.resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
      env = (fn.Properties?.Environment as { Variables: Json }).Variables;
    } else {
      const task = Object.values(b.resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition')!;
      const container = (task.Properties?.ContainerDefinitions as Json[])[0]!;
      env = Object.fromEntries(
        (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
      );
      // Fargate: nothing secret is injected into the container either.
      expect(container.Secrets).toBeUndefined();
    }
    expect(env).toEqual(expected);
    // Exactly the names the job reads (lambda/job-variables.ts).
    const known = new Set(ENV_VARIABLES.map((v) => v.name));
    for (const name of Object.keys(env)) expect(known).toContain(name);
  });

  test('no secret value reaches the template', () => {
    b.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password' }),
    });
    // Apart from the staging secret's own generation rule, nothing mentions a password or a secret value.
    const others = Object.entries(b.resources).filter(([, r]) => r.Type !== 'AWS::SecretsManager::Secret');
    const text = JSON.stringify(others);
    expect(text).not.toContain('{{resolve:secretsmanager');
    expect(text).not.toContain('SecretString');
    expect(text).not.toMatch(/password/i);
  });

  test('alarms: a failed run, and per database no verified backup for 26 hours (missing data breaching)', () => {
    const topic = { Ref: logicalId(b, b.backup.alarmTopic as never) };
    const namespace = b.backup.metricsNamespace;
    b.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      AlarmActions: [topic],
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: namespace,
              MetricName: 'Failure',
              Dimensions: [{ Name: 'Job', Value: 'backup' }],
            },
            Stat: 'Sum',
          }),
        }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: namespace,
              MetricName: 'Failure',
              Dimensions: [{ Name: 'Job', Value: 'seed' }],
            },
          }),
        }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: 'AWS/Events', MetricName: 'FailedInvocations' }),
          }),
        }),
      ]),
    });
    for (const database of ['app', 'billing']) {
      b.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: namespace,
        MetricName: 'VerifiedBackups',
        Dimensions: Match.arrayEquals([
          { Name: 'Database', Value: database },
          { Name: 'Job', Value: 'backup' },
        ]),
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 26,
        DatapointsToAlarm: 26,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
        AlarmActions: [topic],
      });
    }
    // The masked seed's coverage report, as a metric under the job alone: one alarm, to the topic.
    b.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: namespace,
      MetricName: 'UncoveredColumns',
      Dimensions: [{ Name: 'Job', Value: 'seed' }],
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
    });
    expect(b.backup.uncoveredColumnsAlarm).toBeDefined();
    // period × evaluation periods stays within CloudWatch's 7 days for hourly periods.
    for (const alarm of Object.values(b.resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm')) {
      const p = alarm.Properties!;
      const period = (p.Period as number | undefined) ?? 300;
      expect(period * (p.EvaluationPeriods as number)).toBeLessThanOrEqual(period >= 3600 ? 604800 : 86400);
    }
    b.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    b.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  test('the database lets the job in: an ingress rule from the job security group on 5432', () => {
    const jobGroup = logicalId(b, b.backup.securityGroup);
    b.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0123456789abcdef0',
      SourceSecurityGroupId: { 'Fn::GetAtt': [jobGroup, 'GroupId'] },
      FromPort: 5432,
      ToPort: 5432,
      IpProtocol: 'tcp',
    });
    // Outbound is closed but for HTTPS and the database.
    const group = b.resources[jobGroup]!;
    expect(group.Properties?.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
    ]);
    b.template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [jobGroup, 'GroupId'] },
      DestinationSecurityGroupId: 'sg-0123456789abcdef0',
      FromPort: 5432,
    });
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding, every acknowledgment with its reason', () => {
    expect(
      nagFindings(b.t.stack).map(
        (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(',')}`,
      ),
    ).toEqual([]);
    const acks = nagAcknowledgments(b.t.stack);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/^AwsSolutions-/);
      expect(ack.reason.length).toBeGreaterThan(40);
    }
  });

  if (kind === 'lambda') {
    test('Lambda: Node 24 on x86-64, 15 minutes, the clients as a layer of staged binaries', () => {
      b.template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['x86_64'],
        Handler: 'index.handler',
        Timeout: 900,
        MemorySize: 2048,
        LoggingConfig: Match.objectLike({ LogFormat: 'Text' }),
        VpcConfig: Match.objectLike({ SubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'] }),
      });
      b.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
      const layer = Object.values(b.resources).find((r) => r.Type === 'AWS::Lambda::LayerVersion')!;
      const key = (layer.Properties?.Content as { S3Key: string }).S3Key;
      const dir = path.join(b.assemblyDir, `asset.${key.replace(/\.zip$/, '')}`);
      for (const major of [17, 18]) {
        for (const tool of ['pg_dump', 'pg_restore', 'psql']) {
          const file = path.join(dir, 'pgferry', 'pg', String(major), 'bin', tool);
          expect(statSync(file).mode & 0o111).not.toBe(0);
        }
        expect(existsSync(path.join(dir, 'pgferry', 'pg', String(major), 'lib', 'libpq.so.5'))).toBe(true);
      }
      const fn = Object.values(b.resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
      const code = path.join(
        b.assemblyDir,
        `asset.${(fn.Properties?.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '')}`,
      );
      expect(readFileSync(path.join(code, 'index.mjs'), 'utf8')).toMatch(/export\s*\{[^}]*handler/);
    });

    test('Lambda seeding: the seed rule invokes the same function with {"job":"seed"}', () => {
      b.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(0 6 * * ? *)',
        Targets: [Match.objectLike({ Input: '{"job":"seed"}', RetryPolicy: Match.anyValue() })],
      });
      b.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(0 3 * * ? *)',
        Targets: [Match.objectLike({ Input: Match.absent() })],
      });
    });
  } else {
    test('Fargate: the image only adds the bundled task and the staged clients to Node 24', () => {
      b.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Cpu: '2048',
        Memory: '8192',
        EphemeralStorage: { SizeInGiB: 50 },
        RequiresCompatibilities: ['FARGATE'],
        RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
        ContainerDefinitions: [
          Match.objectLike({
            Name: 'job',
            ReadonlyRootFilesystem: true,
            MountPoints: [{ ContainerPath: '/tmp', ReadOnly: false, SourceVolume: 'scratch' }],
            LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          }),
        ],
      });
      b.template.hasResourceProperties('AWS::ECS::Cluster', {
        ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
      });
      const manifest = JSON.parse(
        readFileSync(path.join(b.assemblyDir, `${b.t.stack.artifactId}.assets.json`), 'utf8'),
      ) as {
        dockerImages: Record<
          string,
          { source: { directory: string; dockerBuildArgs?: Json; platform?: string } }
        >;
      };
      const images = Object.values(manifest.dockerImages);
      expect(images).toHaveLength(1);
      const image = images[0]!.source;
      expect(image.platform).toBe('linux/amd64');
      expect(image.dockerBuildArgs).toEqual({ BASE_IMAGE: 'node:24-bookworm-slim' });
      const dir = path.join(b.assemblyDir, image.directory);
      const dockerfile = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
      const instructions = dockerfile
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('#'))
        .map((l) => l.split(/\s+/)[0]);
      expect(instructions).not.toContain('RUN');
      expect(dockerfile).toContain('CMD ["node", "/app/task.mjs"]');
      expect(existsSync(path.join(dir, 'app', 'task.mjs'))).toBe(true);
      for (const major of [17, 18]) {
        expect(existsSync(path.join(dir, 'opt', 'pgferry', 'pg', String(major), 'bin', 'pg_dump'))).toBe(
          true,
        );
      }
    });

    test('Fargate seeding: the seed rule starts the same task with PGFERRY_JOB=seed, in private subnets', () => {
      b.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(0 6 * * ? *)',
        Targets: [
          Match.objectLike({
            EcsParameters: Match.objectLike({
              LaunchType: 'FARGATE',
              NetworkConfiguration: {
                AwsVpcConfiguration: Match.objectLike({
                  AssignPublicIp: 'DISABLED',
                  Subnets: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
                }),
              },
            }),
            Input: JSON.stringify({
              containerOverrides: [{ name: 'job', environment: [{ name: 'PGFERRY_JOB', value: 'seed' }] }],
            }),
          }),
        ],
      });
      // The backup rule overrides nothing: PGFERRY_JOB defaults to backup.
      b.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(0 3 * * ? *)',
        Targets: [Match.objectLike({ EcsParameters: Match.anyValue(), Input: '{}' })],
      });
    });
  }
});
