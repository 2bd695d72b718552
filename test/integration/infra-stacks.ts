// Stacks the infra tests synthesize: one PgferryBackup in a stack of its own, with the staged clients
// coming from the test mirror (majors 17 and 18, the ones the shared cache and the mirror hold).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { removeBuiltAssets } from '../../infra/build-assets.js';
import { applyNag } from '../../infra/nag.js';
import { PgferryBackup } from '../../infra/pgferry-backup.js';
import type { PgferryBackupProps } from '../../infra/props.js';
import { catalog, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { mirrorUrl } from '../harness/testbed.js';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const SOURCE_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/app-db-AbCdEf`;
export const MAJORS = [17, 18];

/**
 * The construct stages clients synchronously (a CDK constructor cannot wait). When Jest runs in band
 * that would block the very process serving the test mirror, so the shared cache is filled first,
 * asynchronously; staging then copies from it.
 */
export async function warmClientCache(): Promise<void> {
  const clients = catalog();
  for (const major of MAJORS) await clients.provide({ major });
}

// Cloud assemblies, sanitize files and staged assets of this test file, removed after it.
const scratchDirs: string[] = [];
function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  removeBuiltAssets();
});

export interface TestStack {
  app: App;
  stack: Stack;
  vpc: ec2.IVpc;
  sourceSecret: secretsmanager.ISecret;
  dbSecurityGroup: ec2.ISecurityGroup;
  db: rds.IDatabaseInstance;
}

/**
 * An app (cdk-nag on) and a stack holding an imported VPC, database and source secret. `context`
 * sets feature flags: none by default, as in an app that never configured any.
 */
export function testStack(id = 'Test', context: Record<string, unknown> = {}): TestStack {
  const app = new App({ outdir: scratchDir('pgferry-cdk-test-'), context });
  applyNag(app);
  const stack = new Stack(app, id, { env: { account: ACCOUNT, region: REGION } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: [`${REGION}a`, `${REGION}b`],
    privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
    privateSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2'],
  });
  const dbSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbSg', 'sg-0123456789abcdef0');
  const db = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
    instanceIdentifier: 'app-db',
    instanceEndpointAddress: `app-db.abcdefghijkl.${REGION}.rds.amazonaws.com`,
    port: 5432,
    securityGroups: [dbSecurityGroup],
  });
  const sourceSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'SourceSecret', SOURCE_SECRET_ARN);
  return { app, stack, vpc, sourceSecret, dbSecurityGroup, db };
}

/** The smallest valid props for `t`, with the staging pointed at the test mirror. */
export function minimalProps(t: TestStack, overrides: Partial<PgferryBackupProps> = {}): PgferryBackupProps {
  return {
    database: { secret: t.sourceSecret },
    databases: ['app'],
    vpc: t.vpc,
    postgresMajors: MAJORS,
    clientMirror: mirrorUrl(),
    clientCacheDir: SHARED_CLIENT_CACHE,
    alarmEmail: 'ops@example.com',
    ...overrides,
  };
}

export function backupIn(t: TestStack, overrides: Partial<PgferryBackupProps> = {}): PgferryBackup {
  return new PgferryBackup(t.stack, 'Backup', minimalProps(t, overrides));
}

/** A sanitize SQL file on disk (the seed's asset source). */
export function sanitizeSqlFile(): string {
  const dir = scratchDir('pgferry-sanitize-');
  const file = path.join(dir, 'sanitize.sql');
  writeFileSync(file, "UPDATE users SET email = 'user' || id || '@example.invalid';\n");
  return file;
}

/** Synthesizes and returns the template (the nag plugin fails this on an unacknowledged finding). */
export function templateOf(t: TestStack): Template {
  return Template.fromStack(t.stack);
}

/** Resolved CloudFormation JSON of the stack (after `templateOf`). */
export type Json = Record<string, unknown>;
export type Resources = Record<string, { Type: string; Properties?: Json; DependsOn?: unknown }>;

/** Seeding props that pass, for a test to spoil one of. */
export function seedProps(
  t: TestStack,
  overrides: Partial<NonNullable<PgferryBackupProps['seed']>> = {},
): PgferryBackupProps['seed'] {
  return {
    schedule: events.Schedule.cron({ minute: '0', hour: '6' }),
    targetSecret: secretsmanager.Secret.fromSecretCompleteArn(
      t.stack,
      'StagingSecret',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging/app-db-XyZ123',
    ),
    targetDatabase: 'app_staging',
    confirm: 'app_staging',
    ...overrides,
  };
}
