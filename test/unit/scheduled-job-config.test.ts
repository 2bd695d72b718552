import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InputErrors } from '../../core/errors.js';
import { parseScheduledJobConfig } from '../../lambda/config.js';
import { sourceLogin } from '../../lambda/credentials.js';
import {
  ENV_VARIABLES,
  JOB_VARIABLE_NAMES,
  JOB_VARIABLES,
  type JobVariable,
} from '../../lambda/job-variables.js';
import { parseEvent } from '../../lambda/event.js';
import { Metrics } from '../../lambda/metrics.js';
import { JsonLog } from '../../lambda/json-log.js';
import { REPO_ROOT } from '../harness/paths.js';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app-AbCdEf';
const BASE = { PGFERRY_SOURCE_SECRET_ARN: ARN, PGFERRY_BUCKET: 'acme-backups' };

function problemsOf(work: () => unknown): string[] {
  try {
    work();
  } catch (error) {
    if (error instanceof InputErrors) return error.problems.map((p) => p.message);
    throw error;
  }
  return [];
}

describe('scheduled job configuration', () => {
  it('takes the defaults the README documents', () => {
    const config = parseScheduledJobConfig(BASE);
    expect(config).toMatchObject({
      job: 'backup',
      source: { kind: 'secret', secretArn: ARN },
      sourceSslmode: 'require',
      databases: [],
      prefix: 'backups',
      verify: 'list',
      compress: 'auto',
      jobs: 'auto',
      clientsDir: '/opt/pgferry/pg',
      provision: false,
      deadlineMarginSeconds: 60,
      metricsNamespace: 'pgferry',
      minClientVersion: { kind: 'any' },
      clientSource: 'auto',
    });
    expect(parseScheduledJobConfig({ ...BASE, PGFERRY_CLIENT_SOURCE: 'installed' }).clientSource).toBe(
      'installed',
    );
    expect(
      parseScheduledJobConfig({ ...BASE, PGFERRY_MIN_CLIENT_VERSION: 'secure' }).minClientVersion,
    ).toEqual({ kind: 'secure' });
    const documented = Object.fromEntries(ENV_VARIABLES.map((v) => [v.name, v.default]));
    expect(documented.PGFERRY_PREFIX).toBe(config.prefix);
    expect(documented.PGFERRY_CLIENTS_DIR).toBe(config.clientsDir);
    expect(documented.PGFERRY_SOURCE_SSLMODE).toBe(config.sourceSslmode);
  });

  it('reports every problem at once, each named as the variable is written', () => {
    const problems = problemsOf(() =>
      parseScheduledJobConfig({
        PGFERRY_SOURCE_SECRET_ARN: 'prod/app',
        PGFERRY_BUCKET: 'Acme_Backups',
        PGFERRY_DATABASES: 'app,../etc',
        PGFERRY_FORMAT: 'plain',
        PGFERRY_COMPRESS: 'brotli',
        PGFERRY_VERIFY: 'sometimes',
        PGFERRY_PROVISION: 'yes',
        PGFERRY_SOURCE_SSLMODE: 'maybe',
        PGFERRY_DEADLINE_MARGIN_SECONDS: '0',
        PGFERRY_S3_KMS_KEY_ID: 'alias/x',
      }),
    );
    const names = problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'PGFERRY_SOURCE_SECRET_ARN',
        'PGFERRY_BUCKET',
        'PGFERRY_DATABASES',
        'PGFERRY_FORMAT',
        'PGFERRY_COMPRESS',
        'PGFERRY_VERIFY',
        'PGFERRY_PROVISION',
        'PGFERRY_SOURCE_SSLMODE',
        'PGFERRY_DEADLINE_MARGIN_SECONDS',
        'PGFERRY_S3_KMS_KEY_ID',
      ]),
    );
    expect(problems).toHaveLength(10);
  });

  it('IAM authentication needs host, user, databases and TLS, and excludes a secret', () => {
    const problems = problemsOf(() =>
      parseScheduledJobConfig({
        PGFERRY_BUCKET: 'acme-backups',
        PGFERRY_SOURCE_IAM_AUTH: 'true',
        PGFERRY_SOURCE_SECRET_ARN: ARN,
        PGFERRY_SOURCE_PORT: '99999',
        PGFERRY_SOURCE_SSLMODE: 'disable',
      }),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'PGFERRY_DATABASES',
      'PGFERRY_SOURCE_HOST',
      'PGFERRY_SOURCE_PORT',
      'PGFERRY_SOURCE_SECRET_ARN',
      'PGFERRY_SOURCE_SSLMODE',
      'PGFERRY_SOURCE_USER',
    ]);
  });

  it('seed needs its secret and a confirm; event overrides are named as event fields', () => {
    expect(problemsOf(() => parseScheduledJobConfig({ ...BASE, PGFERRY_JOB: 'seed' }))).toEqual([
      'PGFERRY_SEED_SECRET_ARN: is required; expected a Secrets Manager secret ARN',
      "PGFERRY_SEED_CONFIRM: is required; expected the staging database's name (seeding replaces its contents)",
    ]);
    expect(
      problemsOf(() =>
        parseScheduledJobConfig({
          ...BASE,
          PGFERRY_JOB: 'seed',
          PGFERRY_SEED_SECRET_ARN: ARN,
          PGFERRY_SEED_CONFIRM: 'staging',
          PGFERRY_SWAP: 'maybe',
        }),
      ),
    ).toEqual(['PGFERRY_SWAP: "maybe" is not a boolean; expected true or false']);
    const seed = (swap?: string) =>
      parseScheduledJobConfig({
        ...BASE,
        PGFERRY_JOB: 'seed',
        PGFERRY_SEED_SECRET_ARN: ARN,
        PGFERRY_SEED_CONFIRM: 'staging',
        ...(swap === undefined ? {} : { PGFERRY_SWAP: swap }),
      }).seed?.swap;
    expect([seed(), seed('true'), seed('false')]).toEqual([true, true, false]);
  });

  it('seed: the masking rules and the key secret, each refused as the variable', () => {
    const SEED = {
      ...BASE,
      PGFERRY_JOB: 'seed',
      PGFERRY_SEED_SECRET_ARN: ARN,
      PGFERRY_SEED_CONFIRM: 'staging',
    };
    const KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pgferry/masking-key-AbCdEf';
    expect(
      parseScheduledJobConfig({
        ...SEED,
        PGFERRY_MASKING_RULES: ' s3://acme-config/masking.yml ',
        PGFERRY_MASKING_KEY_SECRET_ARN: KEY_ARN,
      }).seed,
    ).toMatchObject({ maskingRules: 's3://acme-config/masking.yml', maskingKeySecretArn: KEY_ARN });
    expect(
      parseScheduledJobConfig({ ...SEED, PGFERRY_MASKING_RULES: '/var/task/masking.yml' }).seed?.maskingRules,
    ).toBe('/var/task/masking.yml');
    expect(
      problemsOf(() =>
        parseScheduledJobConfig({
          ...SEED,
          PGFERRY_MASKING_RULES: 's3://acme-config/rules/',
          PGFERRY_MASKING_KEY_SECRET_ARN: 'masking-key',
        }),
      ),
    ).toEqual([
      'PGFERRY_MASKING_RULES: "s3://acme-config/rules/" is not an object; expected s3://bucket/key.yml or a path',
      'PGFERRY_MASKING_KEY_SECRET_ARN: is not a Secrets Manager secret ARN; expected arn:aws:secretsmanager:<region>:<account>:secret:<name>',
    ]);
    expect(
      problemsOf(() => parseScheduledJobConfig({ ...SEED, PGFERRY_MASKING_KEY_SECRET_ARN: KEY_ARN })),
    ).toEqual([
      'PGFERRY_MASKING_KEY_SECRET_ARN: is set without PGFERRY_MASKING_RULES; nothing would use the key',
    ]);
    // The engine's own key variable is not refused as unknown (Fargate or local runs may set it).
    expect(parseScheduledJobConfig({ ...SEED, PGFERRY_MASKING_KEY: 'k' }).seed?.maskingRules).toBeUndefined();
    expect(problemsOf(() => parseScheduledJobConfig(BASE, { verify: 'twice', jobs: '0' }))).toEqual([
      'event.verify: "twice" is not a verification; expected list, full or restore',
      'event.jobs: "0" is not a job count; expected auto or a whole number ≥ 1',
    ]);
    expect(parseScheduledJobConfig(BASE, { job: 'backup', databases: ['a', 'b'] }).databases).toEqual([
      'a',
      'b',
    ]);
  });

  it('the README table lists exactly the variables the job reads', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const inTable = [...readme.matchAll(/^\| `(PGFERRY_[A-Z0-9_]+)` +\|/gm)].map((m) => m[1]);
    const read = new Set(
      [
        ...readFileSync(path.join(REPO_ROOT, 'lambda', 'config.ts'), 'utf8').matchAll(
          /'(PGFERRY_[A-Z0-9_]+)'/g,
        ),
      ].map((m) => m[1]),
    );
    read.add('PGFERRY_CACHE_DIR'); // read by the job runner when provisioning
    expect(new Set(ENV_VARIABLES.map((v) => v.name))).toEqual(read);
    expect([...inTable].sort()).toEqual(ENV_VARIABLES.map((v) => v.name).sort());
  });
  it("the README's table is the schema: each variable's default, the prop that sets it and its meaning", () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf("### The job's environment"));
    const rows = [...section.matchAll(/^\| `(PGFERRY_[A-Z0-9_]+)` +\| (.+?) +\| (.+?) +\| (.+?) +\|$/gm)].map(
      (m) => [m[1], m[2], m[3], m[4]],
    );
    const shown = (text: string | undefined, quote: boolean): string =>
      text === undefined ? '—' : quote ? `\`${text}\`` : text;
    expect(rows).toEqual(
      JOB_VARIABLE_NAMES.map((name) => {
        const v = JOB_VARIABLES[name] as JobVariable<unknown>;
        const plainDefault = v.default !== undefined && !/[` ]/.test(v.default);
        return [name, shown(v.default, plainDefault), shown(v.prop, true), v.meaning];
      }),
    );
  });
});

describe('the event', () => {
  it('a scheduled event carries no overrides; a direct invocation may carry a few', () => {
    expect(parseEvent({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} })).toEqual({});
    expect(parseEvent({ job: 'seed', jobs: 4 })).toEqual({ job: 'seed', jobs: '4' });
    expect(parseEvent(undefined)).toEqual({});
  });

  it('refuses credentials, unknown fields and non-objects', () => {
    expect(problemsOf(() => parseEvent({ password: 'x', bucket: 'y', databases: [] }))).toEqual([
      'event.password: is not accepted: credentials come from Secrets Manager or IAM authentication, never from the event',
      'event.bucket: is not a field the job takes; expected job, databases, verify, compress, postgresVersion, jobs',
      'event.databases: expected a non-empty array of database names',
    ]);
    expect(() => parseEvent('backup')).toThrow(/event: is not an object/);
  });
});

describe('metric and log lines', () => {
  it('EMF: the dimension and metric names are root members', () => {
    const lines: string[] = [];
    new Metrics(
      (l) => lines.push(l),
      'pgferry',
      () => new Date(1_700_000_000_000),
    ).emit(
      { Job: 'backup', Database: 'app' },
      { Success: 1, Bytes: 42, LatestVerifiedBackupAgeSeconds: undefined },
    );
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'pgferry',
            Dimensions: [['Job', 'Database']],
            Metrics: [
              { Name: 'Success', Unit: 'Count' },
              { Name: 'Bytes', Unit: 'Bytes' },
            ],
          },
        ],
      },
      Job: 'backup',
      Database: 'app',
      Success: 1,
      Bytes: 42,
    });
  });

  it('JSON log lines mask registered secrets', () => {
    const lines: string[] = [];
    const log = new JsonLog((l) => lines.push(l), { job: 'backup' });
    log.mask('s3cr3t');
    log.warn('connection to user:s3cr3t@db failed');
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'warn',
      job: 'backup',
      message: 'connection to user:***@db failed',
    });
  });
});

describe('RDS IAM authentication', () => {
  it('signs a token for the user and endpoint and uses it as the password over TLS', async () => {
    const config = parseScheduledJobConfig({
      PGFERRY_BUCKET: 'acme-backups',
      PGFERRY_SOURCE_IAM_AUTH: 'true',
      PGFERRY_SOURCE_HOST: 'prod.abc.eu-west-1.rds.amazonaws.com',
      PGFERRY_SOURCE_USER: 'pgferry',
      PGFERRY_DATABASES: 'app',
    });
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example' });
    try {
      const login = await sourceLogin(config, {} as SecretsManagerClient, 'eu-west-1');
      expect(login.base.params).toMatchObject({
        host: 'prod.abc.eu-west-1.rds.amazonaws.com',
        port: '5432',
        user: 'pgferry',
        sslmode: 'require',
      });
      expect(login.base.params.password).toMatch(
        /^prod\.abc\.eu-west-1\.rds\.amazonaws\.com:5432\/\?Action=connect&DBUser=pgferry&X-Amz-Algorithm=AWS4-HMAC-SHA256/,
      );
      expect(login.secrets).toEqual([login.base.params.password]);
    } finally {
      process.env = saved;
    }
  });
});
