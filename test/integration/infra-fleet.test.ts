// The fleet example (3 servers × 4 databases, Compute.auto()) synthesized once, beside PgferryBackup
// on both computes for the IAM comparison and a small Lambda fleet with a seed, and checked against
// the guarantees of issue 17: a bounded fan-out, explicit retries, one outcome per unit, one stale
// alarm per database, no grant wider than the single-database construct's, cdk-nag clean.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Compute } from '../../infra/compute.js';
import { FleetExampleStack } from '../../infra/fleet-example-stack.js';
import { applyNag, nagFindings } from '../../infra/nag.js';
import { PgferryFleet } from '../../infra/pgferry-fleet.js';
import { SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { REPO_ROOT } from '../harness/paths.js';
import { mirrorUrl } from '../harness/testbed.js';
import {
  allStates,
  definitionOf,
  flat,
  grantShapes,
  rolesAssumedBy,
  roleStatements,
  transitions,
  type Asl,
  type AslState,
} from './infra-fleet-template.js';
import {
  ACCOUNT,
  backupIn,
  MAJORS,
  REGION,
  sanitizeSqlFile,
  seedProps,
  templateOf,
  testStack,
  type Resources,
  warmClientCache,
} from './infra-stacks.js';

interface Synth {
  template: Template;
  resources: Resources;
}

function synth(stack: Stack): Synth {
  const template = Template.fromStack(stack);
  return { template, resources: template.toJSON().Resources as Resources };
}

const exampleOut = mkdtempSync(path.join(os.tmpdir(), 'pgferry-fleet-test-'));
afterAll(() => rmSync(exampleOut, { recursive: true, force: true }));

let example: Synth & { stack: FleetExampleStack };
let asl: Asl;
let states: Record<string, AslState>;
let singleLambda: Synth;
let singleFargate: Synth;
let seeded: Synth & { fleet: PgferryFleet };

/** A seed of `main/<database>` into `<database>_staging`, its secret imported by complete ARN. */
function stagingSeed(stack: Stack, id: string, database: string, suffix: string) {
  const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:staging/${database}-${suffix}`;
  return {
    id,
    from: `main/${database}`,
    targetSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, `Staging-${id}`, arn),
    targetDatabase: `${database}_staging`,
    confirm: `${database}_staging`,
  };
}

/** A seed's masking, the same in the fleet and in PgferryBackup (whose grants bound the fleet's). */
const SEED_MASKING = {
  maskingRules: 's3://acme-masking/rules/billing staging.yml',
  // A partial ARN (no suffix): the grant must cover the suffix Secrets Manager appends.
  maskingKey: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:pgferry/masking-key`,
};

beforeAll(async () => {
  await warmClientCache();
  const app = new App({ outdir: exampleOut });
  applyNag(app);
  const stack = new FleetExampleStack(app, 'PgferryFleetExample', {
    env: { account: ACCOUNT, region: REGION },
    postgresMajors: MAJORS,
    compute: 'auto',
    clientMirror: mirrorUrl(),
    clientCacheDir: SHARED_CLIENT_CACHE,
    alarmEmail: 'ops@example.com',
  });
  example = { ...synth(stack), stack };
  asl = definitionOf(example.template);
  states = allStates(asl.States);

  const l = testStack('SingleLambda');
  backupIn(l, {
    databases: ['app', 'billing'],
    seed: seedProps(l, { sanitizeSql: sanitizeSqlFile(), ...SEED_MASKING }),
  });
  singleLambda = { template: templateOf(l), resources: templateOf(l).toJSON().Resources as Resources };
  const f = testStack('SingleFargate');
  backupIn(f, {
    database: { endpoint: 'db.internal', iamAuth: { username: 'pgferry', resourceId: 'db-ABC123' } },
    compute: Compute.fargate(),
  });
  singleFargate = { template: templateOf(f), resources: templateOf(f).toJSON().Resources as Resources };

  const s = testStack('SeededFleet');
  const fleet = new PgferryFleet(s.stack, 'Fleet', {
    sources: [{ id: 'main', secret: s.sourceSecret, databases: ['app', 'billing'] }],
    vpc: s.vpc,
    postgresMajors: MAJORS,
    clientMirror: mirrorUrl(),
    clientCacheDir: SHARED_CLIENT_CACHE,
    alarmEmail: 'ops@example.com',
    seeds: [
      { ...stagingSeed(s.stack, 'staging', 'app', 'XyZ123'), sanitizeSql: sanitizeSqlFile() },
      { ...stagingSeed(s.stack, 'billing-masked', 'billing', 'AbC123'), ...SEED_MASKING },
    ],
  });
  seeded = { ...synth(s.stack), fleet };
});

describe('the state machine', () => {
  test('fans out over servers, then over each server’s databases, both Maps bounded', () => {
    const servers = asl.States['Back up every server']!;
    expect(servers.Type).toBe('Map');
    // overall 4, perServer 2: two servers at once, two databases each.
    expect(servers.MaxConcurrency).toBe(2);
    const perServer = servers.ItemProcessor!.States['Back up the databases of one server']!;
    expect(perServer.Type).toBe('Map');
    expect(perServer.MaxConcurrency).toBe(2);
    for (const map of Object.values(states).filter((s) => s.Type === 'Map'))
      expect(map.MaxConcurrency).toBeGreaterThanOrEqual(1);
  });

  test('the layout lists every unit once, by server', () => {
    const layout = asl.States[asl.StartAt]!.Result as {
      servers: { server: string; units: { unit: string; job: string }[] }[];
    };
    expect(layout.servers.map((s) => s.server)).toEqual(['orders', 'catalog', 'accounts']);
    const units = layout.servers.flatMap((s) => s.units.map((u) => u.unit));
    expect(units).toHaveLength(12);
    expect(new Set(units).size).toBe(12);
    expect(units).toEqual(example.stack.fleet.units);
    expect(layout.servers.flatMap((s) => s.units.map((u) => u.job))).toEqual(Array(12).fill('backup'));
  });

  test('each unit predicts, then runs on Lambda or on Fargate (.sync) as the prediction says', () => {
    const predict = states['Backup: predict']!;
    expect(predict.Type).toBe('Task');
    // The function's own result is the state's: no Payload wrapper to unpack.
    expect(predict.Resource).toBe('<AWS::Lambda::Function.Arn>');
    expect(predict.Parameters).toEqual({ 'unit.$': '$.unit', 'job.$': '$.job', phase: 'predict' });
    const route = states[predict.Next!]!;
    expect(route.Type).toBe('Choice');
    expect(route.Choices).toEqual([
      { Variable: '$.prediction.compute', StringEquals: 'fargate', Next: 'Backup: run on Fargate' },
    ]);
    expect(route.Default).toBe('Backup: run on Lambda');
    const onFargate = states['Backup: run on Fargate']!;
    expect(onFargate.Resource).toMatch(/:states:::ecs:runTask\.sync$/);
    const overrides = JSON.stringify(onFargate.Parameters);
    expect(overrides).toContain('{"Name":"PGFERRY_FLEET_UNIT","Value.$":"$.unit"}');
    expect(overrides).toContain('{"Name":"PGFERRY_FLEET_JOB","Value.$":"$.job"}');
    expect(JSON.stringify(states['Backup: run on Lambda']!.Parameters)).toContain('"phase":"run"');
  });

  test('retries are explicit and bounded; every other error becomes the unit’s recorded outcome', () => {
    const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBe(3);
    for (const [name, task] of tasks) {
      for (const retry of task.Retry ?? []) {
        expect(retry.MaxAttempts).toBeLessThanOrEqual(2);
        expect(retry.BackoffRate).toBeGreaterThan(1);
        expect(retry.ErrorEquals.sort()).toEqual(
          ['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'PgferryRetryable'].sort(),
        );
      }
      // A Fargate task that failed may have uploaded parts: it is never retried.
      if (name.includes('Fargate')) expect(task.Retry).toBeUndefined();
      else expect(task.Retry).toHaveLength(1);
      expect(task.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Backup: record the failure' },
      ]);
    }
    expect(states['Backup: record the failure']!.Parameters).toEqual({
      'unit.$': '$.unit',
      'job.$': '$.job',
      outcome: 'failed',
      'error.$': '$.error.Error',
      'cause.$': '$.error.Cause',
    });
  });

  test('the execution ends with every outcome, is bounded in time, logged and traced', () => {
    const last = Object.values(asl.States).find((s) => s.End)!;
    expect(last.Parameters).toEqual({ 'backups.$': '$.backups' });
    expect(asl.TimeoutSeconds).toBe(23 * 3600);
    example.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
    const rules = Object.values(example.resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    expect(rules[0]!.Properties!.ScheduleExpression).toBe('cron(0 3 * * ? *)');
    expect(flat((rules[0]!.Properties!.Targets as { Arn: unknown }[])[0]!.Arn, example.resources)).toBe(
      '<AWS::StepFunctions::StateMachine>',
    );
  });

  test('seeds run after the backups, one unit per staging target', () => {
    const seededAsl = definitionOf(seeded.template);
    const backups = seededAsl.States['Back up every server']!;
    expect(backups.Next).toBe('Seed the staging databases');
    const seedMap = seededAsl.States['Seed the staging databases']!;
    expect(seedMap.ItemsPath).toBe('$.layout.seeds');
    expect((seededAsl.States[seededAsl.StartAt]!.Result as { seeds: unknown }).seeds).toEqual([
      { unit: 'staging', job: 'seed' },
      { unit: 'billing-masked', job: 'seed' },
    ]);
    expect(Object.keys(seedMap.ItemProcessor!.States).sort()).toEqual([
      'Seed: record the failure',
      'Seed: run on Lambda',
    ]);
    expect(seededAsl.States[seedMap.Next!]!.Parameters).toEqual({
      'backups.$': '$.backups',
      'seeds.$': '$.seeds',
    });
  });
});

/** The fleet variable as the job will read it, with references reduced to their kind. */
function fleetVariable(s: Synth, type: string): Record<string, unknown> & { env: Record<string, unknown> } {
  const r = Object.values(s.resources).find((x) => x.Type === type)!;
  const env =
    type === 'AWS::Lambda::Function'
      ? (r.Properties!.Environment as { Variables: Record<string, unknown> }).Variables
      : Object.fromEntries(
          (
            r.Properties!.ContainerDefinitions as { Environment: { Name: string; Value: unknown }[] }[]
          )[0]!.Environment.map((e) => [e.Name, e.Value]),
        );
  return { ...(JSON.parse(flat(env.PGFERRY_FLEET, s.resources)) as Record<string, unknown>), env };
}

describe('the unit entry’s environment', () => {
  test('the fleet as one JSON variable, only ids, settings and ARNs', () => {
    const fleet = fleetVariable(example, 'AWS::Lambda::Function');
    expect(fleet.lambdaLimitSeconds).toBe(900);
    expect(fleet.deadlineMarginSeconds).toBe(60);
    const sources = fleet.sources as Record<string, unknown>[];
    expect(sources.map((s) => s.id)).toEqual(['orders', 'catalog', 'accounts']);
    expect(sources[0]).toEqual({
      id: 'orders',
      secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:orders-db/pgferry-AbCdEf`,
      sslMode: 'require',
      databases: ['orders', 'payments', 'invoices', 'refunds'],
    });
    expect(sources[2]).toEqual({
      id: 'accounts',
      endpoint: `accounts-db.abcdefghijkl.${REGION}.rds.amazonaws.com`,
      port: 5432,
      iamAuth: { username: 'pgferry', resourceId: 'db-ABCDEFGHIJKLMNOPQRSTUVWXY0' },
      sslMode: 'require',
      databases: ['users', 'sessions', 'audit', 'billing'],
    });
    // The single job's connection variables would contradict the fleet's.
    for (const name of ['PGFERRY_DATABASES', 'PGFERRY_SOURCE_SECRET_ARN', 'PGFERRY_SOURCE_HOST'])
      expect(fleet.env[name]).toBeUndefined();
    expect(fleet.env.PGFERRY_FLEET_FARGATE).toBeUndefined();
    expect(JSON.stringify(fleet.env)).not.toMatch(/password/i);
  });

  test('the Fargate task gets the same fleet and says it is the Fargate entry', () => {
    const onLambda = fleetVariable(example, 'AWS::Lambda::Function');
    const onFargate = fleetVariable(example, 'AWS::ECS::TaskDefinition');
    expect(onFargate.sources).toEqual(onLambda.sources);
    expect(onFargate.env.PGFERRY_FLEET_FARGATE).toBe('1');
  });

  test('a seed carries its target, confirmation, sanitize SQL object and masking', () => {
    const fleet = fleetVariable(seeded, 'AWS::Lambda::Function');
    expect(fleet.seeds).toEqual([
      {
        id: 'staging',
        from: 'main/app',
        secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:staging/app-XyZ123`,
        database: 'app_staging',
        confirm: 'app_staging',
        sslMode: 'require',
        swap: true,
        sanitizeSql: expect.stringMatching(/^s3:\/\/.+\/[0-9a-f]{64}\.sql$/),
      },
      {
        id: 'billing-masked',
        from: 'main/billing',
        secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:staging/billing-AbC123`,
        database: 'billing_staging',
        confirm: 'billing_staging',
        sslMode: 'require',
        swap: true,
        maskingRules: SEED_MASKING.maskingRules,
        maskingKeySecretArn: SEED_MASKING.maskingKey,
      },
    ]);
  });

  test('the masked seed’s role may read its rules object and its key’s secret, and nothing of the kind more', () => {
    const [role] = rolesAssumedBy(seeded.resources, 'lambda.amazonaws.com');
    const statements = roleStatements(seeded.resources, role!);
    const objectReads = statements
      .filter(
        (s) =>
          /^Read(SanitizeSql|MaskingRules)/.test(s.Sid ?? '') ||
          JSON.stringify(s.Resource).includes('acme-masking'),
      )
      .map((s) => [s.Sid, [s.Resource].flat().map((r) => flat(r, seeded.resources))]);
    expect(objectReads).toEqual([
      ['ReadSanitizeSql', [expect.stringMatching(/\/[0-9a-f]{64}\.sql$/)]],
      ['ReadMaskingRules2', ['arn:<AWS::Partition>:s3:::acme-masking/rules/billing staging.yml']],
    ]);
    const secrets = statements
      .filter((s) => JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'))
      .flatMap((s) => [s.Resource].flat().map((r) => flat(r, seeded.resources)));
    expect(secrets).toContain(`${SEED_MASKING.maskingKey}-??????`);
  });
});

describe('alarms', () => {
  test('a masked seed’s uncovered columns raise its own alarm; an unmasked seed and plain backups have none', () => {
    const uncovered = (s: Synth) =>
      Object.values(s.resources)
        .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties?.MetricName === 'UncoveredColumns')
        .map((r) => r.Properties!.Dimensions);
    expect(uncovered(seeded)).toEqual([
      [
        { Name: 'Database', Value: 'billing-masked' },
        { Name: 'Job', Value: 'seed' },
      ],
    ]);
    expect(Object.keys(seeded.fleet.uncoveredColumnsAlarms)).toEqual(['billing-masked']);
    expect(uncovered(example)).toEqual([]);
    expect(uncovered(singleFargate)).toEqual([]);
  });

  test('one stale-backup alarm per database, by <sourceId>/<database>', () => {
    const stale = Object.values(example.resources).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties?.MetricName === 'VerifiedBackups',
    );
    expect(stale).toHaveLength(12);
    const databases = stale.map(
      (r) =>
        (r.Properties!.Dimensions as { Name: string; Value: string }[]).find((d) => d.Name === 'Database')!
          .Value,
    );
    expect(databases.sort()).toEqual([...example.stack.fleet.units].sort());
    expect(Object.keys(example.stack.fleet.staleAlarms).sort()).toEqual(
      [...example.stack.fleet.units].sort(),
    );
  });

  test('a failed unit and a failed execution each raise an alarm', () => {
    const alarms = Object.values(example.resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const metricsOf = (r: (typeof alarms)[number]) => JSON.stringify(r.Properties?.Metrics ?? []);
    const execution = alarms.filter((r) => /ExecutionsFailed/.test(metricsOf(r)));
    expect(execution).toHaveLength(1);
    expect(metricsOf(execution[0]!)).toMatch(/ExecutionsTimedOut/);
    expect(metricsOf(execution[0]!)).toMatch(/ExecutionsAborted/);
    // Each unit's own failure, as the unit entry reports it: Database is the unit.
    const unitFailed = alarms.filter((r) => r.Properties?.MetricName === 'Failure');
    expect(unitFailed.map((r) => JSON.stringify(r.Properties!.Dimensions)).sort()).toEqual(
      example.stack.fleet.units
        .map((u) =>
          JSON.stringify([
            { Name: 'Database', Value: u },
            { Name: 'Job', Value: 'backup' },
          ]),
        )
        .sort(),
    );
    // A crashed or timed-out unit Lambda, or a schedule that could not start the execution.
    const platform = alarms.filter((r) => /"MetricName":"Errors"/.test(metricsOf(r)));
    expect(platform).toHaveLength(1);
    expect(metricsOf(platform[0]!)).toMatch(/"MetricName":"FailedInvocations"/);
  });
});

describe('least privilege', () => {
  const single = () =>
    new Set([
      ...rolesAssumedBy(singleLambda.resources, 'lambda.amazonaws.com').flatMap((id) =>
        grantShapes(singleLambda.resources, id),
      ),
      ...rolesAssumedBy(singleFargate.resources, 'ecs-tasks.amazonaws.com').flatMap((id) =>
        grantShapes(singleFargate.resources, id),
      ),
      ...rolesAssumedBy(singleLambda.resources, 'ecs-tasks.amazonaws.com').flatMap((id) =>
        grantShapes(singleLambda.resources, id),
      ),
    ]);

  test.each([
    ['the example', 'lambda.amazonaws.com', () => example],
    ['the example', 'ecs-tasks.amazonaws.com', () => example],
    ['the seeded fleet', 'lambda.amazonaws.com', () => seeded],
  ] as const)('%s: no grant of a role %s assumes is wider than PgferryBackup’s', (_, service, of) => {
    const s = of();
    const allowed = single();
    const roles = rolesAssumedBy(s.resources, service);
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      const wider = grantShapes(s.resources, role).filter((g) => !allowed.has(g));
      expect(wider).toEqual([]);
    }
  });

  test('the example’s job roles may connect to the IAM server and read the two secrets, nothing else', () => {
    const [role] = rolesAssumedBy(example.resources, 'lambda.amazonaws.com');
    const statements = roleStatements(example.resources, role!);
    const secretReads = statements.filter((s) =>
      JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'),
    );
    const secrets = secretReads.flatMap((s) => [s.Resource].flat().map((r) => flat(r, example.resources)));
    expect(secrets.sort()).toEqual([
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:catalog-db/pgferry-AbCdEf`,
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:orders-db/pgferry-AbCdEf`,
    ]);
    const connect = statements.filter((s) => s.Action === 'rds-db:connect');
    expect(connect.map((s) => flat(s.Resource, example.resources))).toEqual([
      `arn:<AWS::Partition>:rds-db:${REGION}:${ACCOUNT}:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXY0/pgferry`,
    ]);
  });

  test('the state machine may invoke its function, run its task and pass its roles; wildcards only where AWS has no resource', () => {
    const [role] = rolesAssumedBy(example.resources, 'states.amazonaws.com');
    const grants = grantShapes(example.resources, role!);
    const wildcard = grants.filter((g) => g.endsWith(' *')).map((g) => g.split(' ')[0]!);
    for (const action of wildcard)
      expect(action).toMatch(
        /^(logs:(CreateLogDelivery|DeleteLogDelivery|DescribeLogGroups|DescribeResourcePolicies|GetLogDelivery|ListLogDeliveries|PutResourcePolicy|UpdateLogDelivery)|xray:(GetSamplingRules|GetSamplingTargets|PutTelemetryRecords|PutTraceSegments)|ecs:(StopTask|DescribeTasks))$/,
      );
    const invoke = grants.filter((g) => g.startsWith('lambda:'));
    expect(invoke).toEqual([
      'lambda:InvokeFunction <AWS::Lambda::Function.Arn>',
      'lambda:InvokeFunction <AWS::Lambda::Function.Arn>:*',
    ]);
    const passRole = grants.filter((g) => g.startsWith('iam:PassRole'));
    expect(passRole).toEqual(['iam:PassRole <AWS::IAM::Role.Arn>']);
    const runTask = grants.filter((g) => g.startsWith('ecs:RunTask'));
    expect(runTask).toHaveLength(1);
    // The one task definition's family (and its revisions), whatever CDK's rendering.
    expect(runTask[0]).toContain('FleetFargateTaskDefinition');
  });

  test('cdk-nag finds nothing unacknowledged', () => {
    for (const stack of [example.stack, seeded.fleet]) expect(nagFindings(stack)).toEqual([]);
  });
});

describe('what a night costs', () => {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const items = (map: string) => (map === 'Back up every server' ? 3 : 4);

  test.each([
    ['on Lambda', 'Backup: run on Lambda'],
    ['on Fargate', 'Backup: run on Fargate'],
  ])('the README counts the example’s transitions with every unit %s', (where, branch) => {
    const count = transitions(asl, items, () => branch);
    const stated = new RegExp(
      `(\\d+)\\s+state\\s+transitions\\s+with\\s+every\\s+unit\\s+${where.replace(' ', '\\s+')}`,
    ).exec(readme);
    expect(Number(stated?.[1])).toBe(count);
  });
});
