// The example app `npx cdk synth` renders (cdk.json). Settings from the environment:
//   PGFERRY_MAJORS     client majors to stage, comma-separated (default 17)
//   PGFERRY_EXAMPLE    single (default: one database) or fleet (3 servers × 4 databases, PgferryFleet)
//   PGFERRY_COMPUTE    lambda (default) or fargate; the fleet also takes auto (its default)
//   PGFERRY_MIRROR     client archive mirror used while staging (default: the engine's)
//   PGFERRY_CACHE_DIR  client download cache used while staging (default: the engine's)
//   PGFERRY_ALARM_EMAIL  who gets the alarms
//   CDK_DEPLOY_ACCOUNT / CDK_DEPLOY_REGION  where the stack goes (else the CLI's CDK_DEFAULT_*, else placeholders)
import { App } from 'aws-cdk-lib';
import { ExampleStack } from './example-stack.js';
import { FleetExampleStack } from './fleet-example-stack.js';
import { applyNag } from './nag.js';

const env = process.env;
const app = new App();
applyNag(app);
const common = {
  env: {
    account: env.CDK_DEPLOY_ACCOUNT ?? env.CDK_DEFAULT_ACCOUNT ?? '123456789012',
    region: env.CDK_DEPLOY_REGION ?? env.CDK_DEFAULT_REGION ?? 'eu-west-1',
  },
  postgresMajors: (env.PGFERRY_MAJORS ?? '17').split(',').map((m) => Number(m.trim())),
  clientMirror: env.PGFERRY_MIRROR || undefined,
  clientCacheDir: env.PGFERRY_CACHE_DIR || undefined,
  alarmEmail: env.PGFERRY_ALARM_EMAIL ?? 'backups@example.com',
};
if (env.PGFERRY_EXAMPLE === 'fleet') {
  const compute =
    env.PGFERRY_COMPUTE === 'lambda' || env.PGFERRY_COMPUTE === 'fargate' ? env.PGFERRY_COMPUTE : 'auto';
  new FleetExampleStack(app, 'PgferryFleetExample', { ...common, compute });
} else {
  new ExampleStack(app, 'PgferryBackupExample', {
    ...common,
    compute: env.PGFERRY_COMPUTE === 'fargate' ? 'fargate' : 'lambda',
  });
}
app.synth();
