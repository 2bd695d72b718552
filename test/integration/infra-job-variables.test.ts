// The construct checks each prop that becomes a job variable with the job's own parser: a bad value is
// refused at synth with the words the job would use at 3 a.m., named as the prop.
import { Duration } from 'aws-cdk-lib';
import { InputErrors } from '../../core/errors.js';
import { Compute } from '../../infra/compute.js';
import type { PgferryBackupProps } from '../../infra/props.js';
import { PgferryBackupPropsError } from '../../infra/resolve-props.js';
import { parseScheduledJobConfig } from '../../lambda/config.js';
import { JOB_VARIABLE_NAMES, JOB_VARIABLES, type JobVariableName } from '../../lambda/job-variables.js';
import { backupIn, seedProps, testStack, type TestStack } from './infra-stacks.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app-AbCdEf';
const JOB_BASE = { PGFERRY_SOURCE_SECRET_ARN: ARN, PGFERRY_BUCKET: 'acme-backups' };
const SEED_BASE = {
  PGFERRY_JOB: 'seed',
  PGFERRY_SEED_SECRET_ARN: ARN,
  PGFERRY_SEED_CONFIRM: 'app_staging',
};

interface Case {
  variable: JobVariableName;
  /** The bad text as the job would read it from its variable. */
  text: string;
  props: (t: TestStack) => Partial<PgferryBackupProps>;
  /** The rest of the job's environment, where the variable is read only in one mode. */
  env?: Record<string, string>;
}

const IAM_ENV = {
  PGFERRY_SOURCE_IAM_AUTH: 'true',
  PGFERRY_SOURCE_HOST: 'db.example',
  PGFERRY_SOURCE_USER: 'pgferry',
  PGFERRY_DATABASES: 'app',
  PGFERRY_BUCKET: 'acme-backups',
};

const CASES: Case[] = [
  {
    variable: 'PGFERRY_SOURCE_PORT',
    text: '70000',
    props: () => ({
      database: {
        endpoint: 'db.example',
        port: 70000,
        iamAuth: { username: 'pgferry', resourceId: 'db-ABC' },
      },
    }),
    env: IAM_ENV,
  },
  {
    variable: 'PGFERRY_SOURCE_SSLMODE',
    text: 'maybe',
    props: (t) => ({ database: { secret: t.sourceSecret, sslMode: 'maybe' as 'require' } }),
  },
  { variable: 'PGFERRY_PREFIX', text: 'nightly/../other', props: () => ({ prefix: 'nightly/../other' }) },
  { variable: 'PGFERRY_POSTGRES_VERSION', text: 'banana', props: () => ({ postgresVersion: 'banana' }) },
  { variable: 'PGFERRY_FORMAT', text: 'plain', props: () => ({ format: 'plain' as 'custom' }) },
  { variable: 'PGFERRY_COMPRESS', text: 'zstd:99', props: () => ({ compress: 'zstd:99' }) },
  { variable: 'PGFERRY_JOBS', text: '0', props: () => ({ jobs: 0 }) },
  {
    variable: 'PGFERRY_MIN_CLIENT_VERSION',
    text: 'latest',
    props: () => ({ minClientVersion: 'latest' }),
  },
  { variable: 'PGFERRY_CLIENT_SOURCE', text: 'apt', props: () => ({ clientSource: 'apt' }) },
  { variable: 'PGFERRY_VERIFY', text: 'twice', props: () => ({ verify: 'twice' as 'list' }) },
  {
    variable: 'PGFERRY_SEED_DATABASE',
    text: 'app/staging',
    props: (t) => ({ seed: seedProps(t, { targetDatabase: 'app/staging', confirm: 'app/staging' }) }),
  },
  {
    variable: 'PGFERRY_SEED_FROM_DATABASE',
    text: '..',
    props: (t) => ({ seed: seedProps(t, { fromDatabase: '..' }) }),
  },
  {
    variable: 'PGFERRY_SEED_SSLMODE',
    text: 'sometimes',
    props: (t) => ({ seed: seedProps(t, { sslMode: 'sometimes' as 'require' }) }),
  },
  {
    variable: 'PGFERRY_SWAP',
    text: 'yes',
    props: (t) => ({ seed: seedProps(t, { swap: 'yes' as unknown as boolean }) }),
  },
  {
    variable: 'PGFERRY_MASKING_RULES',
    text: 's3://acme-masking/rules/',
    props: (t) => ({ seed: seedProps(t, { maskingRules: 's3://acme-masking/rules/' }) }),
    env: { ...JOB_BASE, ...SEED_BASE },
  },
  {
    variable: 'PGFERRY_MASKING_KEY_SECRET_ARN',
    text: 'pgferry/masking-key',
    props: (t) => ({
      seed: seedProps(t, { maskingRules: 's3://acme-masking/rules.yml', maskingKey: 'pgferry/masking-key' }),
    }),
    env: { ...JOB_BASE, ...SEED_BASE, PGFERRY_MASKING_RULES: 's3://acme-masking/rules.yml' },
  },
  {
    variable: 'PGFERRY_DEADLINE_MARGIN_SECONDS',
    text: '0',
    props: () => ({ compute: Compute.lambda({ deadlineMargin: Duration.seconds(0) }) }),
  },
  {
    variable: 'PGFERRY_METRICS_NAMESPACE',
    text: 'AWS/Backup',
    props: () => ({ metricsNamespace: 'AWS/Backup' }),
  },
];

/** What the job says of `text` in `variable`, without the variable's name. */
function jobProblem(variable: JobVariableName, text: string, env?: Record<string, string>): string {
  const seeding = variable.startsWith('PGFERRY_SEED') || variable === 'PGFERRY_SWAP';
  const base = env ?? (seeding ? { ...JOB_BASE, ...SEED_BASE } : JOB_BASE);
  try {
    parseScheduledJobConfig({ ...base, [variable]: text });
  } catch (error) {
    if (!(error instanceof InputErrors)) throw error;
    const own = error.problems.filter((p) => p.input === variable);
    expect(own).toHaveLength(1);
    return own[0]!.problem;
  }
  throw new Error(`the job accepted ${variable}=${text}`);
}

function synthProblems(props: Partial<PgferryBackupProps>, t: TestStack): string[] {
  try {
    backupIn(t, props);
  } catch (error) {
    if (error instanceof PgferryBackupPropsError) return error.problems.map((p) => `${p.prop}: ${p.problem}`);
    throw error;
  }
  return [];
}

describe('a prop that becomes a job variable is refused at synth in the job’s words', () => {
  test.each(CASES)('$variable = $text', ({ variable, text, props, env }) => {
    const prop = JOB_VARIABLES[variable].prop;
    expect(prop).toBeDefined();
    const t = testStack();
    expect(synthProblems(props(t), t)).toContain(`${prop}: ${jobProblem(variable, text, env)}`);
  });

  it('every variable the schema says a prop sets is attacked above', () => {
    const withProp = JOB_VARIABLE_NAMES.filter((name) => JOB_VARIABLES[name].prop !== undefined);
    expect(CASES.map((c) => c.variable).sort()).toEqual([...withProp].sort());
  });
});
