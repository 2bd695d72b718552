import { InputErrors } from '../../core/errors.js';
import { parseFleetConfig } from '../../lambda/fleet-config.js';
import { findUnit, unitJobConfig } from '../../lambda/fleet-units.js';
import { parseUnitEvent } from '../../lambda/fleet-unit.js';
import { classifyFailure } from '../../lambda/fleet-errors.js';
import { ConnectionError } from '../../core/pg/server.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app-AbCdEf';
const STAGING = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging-XyZ';

function fleetEnv(fleet: unknown, extra: Record<string, string> = {}): Record<string, string> {
  return { PGFERRY_FLEET: JSON.stringify(fleet), PGFERRY_BUCKET: 'acme-backups', ...extra };
}

const GOOD = {
  sources: [
    { id: 'east', secretArn: ARN, sslMode: 'require', databases: ['app', 'billing'] },
    {
      id: 'west',
      endpoint: 'west.cluster.eu-west-1.rds.amazonaws.com',
      port: 5433,
      iamAuth: { username: 'backup', resourceId: 'db-ABC' },
      sslMode: 'verify-full',
      sslRootCert: '/opt/rds-bundle.pem',
      databases: ['app'],
    },
  ],
  lambdaLimitSeconds: 900,
  deadlineMarginSeconds: 60,
  seeds: [
    {
      id: 'staging',
      from: 'east/app',
      secretArn: STAGING,
      database: 'app_staging',
      confirm: 'app_staging',
      sslMode: 'require',
      sanitizeSql: 's3://acme-backups/sql/mask.sql',
    },
  ],
};

function inputsOf(work: () => unknown): string[] {
  try {
    work();
  } catch (error) {
    if (error instanceof InputErrors) return error.problems.map((p) => p.input);
  }
  return [];
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseFleetConfig(env);
  } catch (error) {
    if (error instanceof InputErrors) return error.problems.map((p) => p.message);
    throw error;
  }
  return [];
}

describe('PGFERRY_FLEET', () => {
  it('reads sources, seeds and limits, and gives each unit the single job its own prefix', () => {
    const fleet = parseFleetConfig(fleetEnv(GOOD, { PGFERRY_PREFIX: 'nightly' }));
    expect(fleet.sources.map((s) => s.id)).toEqual(['east', 'west']);
    expect(fleet.sources[1]?.auth).toEqual({
      kind: 'iam',
      host: 'west.cluster.eu-west-1.rds.amazonaws.com',
      port: 5433,
      user: 'backup',
    });
    expect(fleet.seeds[0]).toMatchObject({ from: { source: 'east', database: 'app' }, swap: true });
    const backup = unitJobConfig(fleet, findUnit(fleet, 'west/app', 'backup', 'event.unit'));
    expect(backup).toMatchObject({
      job: 'backup',
      prefix: 'nightly/west',
      databases: ['app'],
      sourceSslmode: 'verify-full',
      sslRootCert: '/opt/rds-bundle.pem',
      bucket: 'acme-backups',
    });
    const seed = unitJobConfig(fleet, findUnit(fleet, 'staging', 'seed', 'event.unit'));
    expect(seed).toMatchObject({
      job: 'seed',
      prefix: 'nightly/east',
      seed: { database: 'app_staging', fromDatabase: 'app', sanitizeSql: ['s3://acme-backups/sql/mask.sql'] },
    });
  });

  it('reports every problem at once, each by its JSON path', () => {
    const bad = {
      sources: [
        { id: 'east', secretArn: ARN, sslMode: 'required', databases: ['app', 'app'], sslmode: 'x' },
        { id: 'east', secretArn: ARN, databases: [] },
        { id: 'bad id', iamAuth: { username: 'u' }, sslMode: 'prefer', databases: ['a/b'] },
        { id: 'none', databases: ['x'] },
      ],
      lambdaLimitSeconds: 30,
      deadlineMarginSeconds: 30,
      seeds: [{ id: 'stg', from: 'north/app', secretArn: STAGING, database: 'stg', confirm: 'prod' }],
      extra: 1,
    };
    const problems = problemsOf(fleetEnv(bad));
    const expected = [
      'PGFERRY_FLEET.extra: is not a field here',
      'PGFERRY_FLEET.deadlineMarginSeconds: 30 leaves no time inside lambdaLimitSeconds 30',
      'PGFERRY_FLEET.sources[0].sslmode: is not a field here',
      'PGFERRY_FLEET.sources[0].sslMode: "required" is not an sslmode',
      'PGFERRY_FLEET.sources[0].databases[1]: database "app" is listed twice (first at PGFERRY_FLEET.sources[0].databases[0])',
      'PGFERRY_FLEET.sources[1].databases: is empty',
      'PGFERRY_FLEET.sources[1].id: id "east" is listed twice (first at PGFERRY_FLEET.sources[0].id)',
      'PGFERRY_FLEET.sources[2].id: "bad id" is not an id',
      'PGFERRY_FLEET.sources[2].iamAuth.resourceId: is required',
      'PGFERRY_FLEET.sources[2].endpoint: is required',
      'PGFERRY_FLEET.sources[2].sslMode: "prefer" cannot carry an IAM token',
      'PGFERRY_FLEET.sources[2].databases[0]',
      'PGFERRY_FLEET.sources[3]: needs secretArn or iamAuth',
      'PGFERRY_FLEET.seeds[0].from: "north/app" is not a unit of the fleet',
      'PGFERRY_FLEET.seeds[0].confirm: must equal PGFERRY_FLEET.seeds[0].database ("stg")',
    ];
    for (const text of expected) expect(problems.some((p) => p.startsWith(text))).toBe(true);
    expect(problems.length).toBeGreaterThanOrEqual(expected.length);
  });

  it('refuses the single-database variables beside it, and unknown ones', () => {
    const problems = problemsOf(
      fleetEnv(GOOD, {
        PGFERRY_SOURCE_SECRET_ARN: ARN,
        PGFERRY_DATABASES: 'app',
        PGFERRY_SEED_CONFIRM: 'x',
        PGFERRY_VERIFYY: 'list',
        PGFERRY_VERIFY: 'sometimes',
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^PGFERRY_SOURCE_SECRET_ARN: is a single-database variable and cannot be set beside PGFERRY_FLEET/,
        ),
        expect.stringMatching(/^PGFERRY_DATABASES: is a single-database variable/),
        expect.stringMatching(/^PGFERRY_SEED_CONFIRM: is a single-database variable/),
        expect.stringMatching(/^PGFERRY_VERIFYY: is not a variable pgferry reads; .*PGFERRY_VERIFY/),
        expect.stringMatching(/^PGFERRY_VERIFY: /),
      ]),
    );
    expect(problemsOf({ PGFERRY_BUCKET: 'acme-backups' })).toEqual([
      expect.stringMatching(/^PGFERRY_FLEET: is required/),
    ]);
    expect(problemsOf({ PGFERRY_BUCKET: 'acme-backups', PGFERRY_FLEET: '{"sources": [' })).toEqual([
      expect.stringMatching(/^PGFERRY_FLEET: is not JSON/),
    ]);
    expect(problemsOf(fleetEnv([]))).toEqual([expect.stringMatching(/^PGFERRY_FLEET: expected an object/)]);
  });

  it('carries a seed’s masking rules and key secret to its unit’s job, and refuses bad ones by path', () => {
    const KEY = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pgferry/masking-key-AbC123';
    const seed = GOOD.seeds[0]!;
    const masked = { ...seed, maskingRules: 's3://acme-config/masking.yml', maskingKeySecretArn: KEY };
    const fleet = parseFleetConfig(fleetEnv({ ...GOOD, seeds: [masked] }));
    expect(unitJobConfig(fleet, findUnit(fleet, 'staging', 'seed', 'event.unit')).seed).toMatchObject({
      maskingRules: 's3://acme-config/masking.yml',
      maskingKeySecretArn: KEY,
    });
    // Without masking the unit's job has neither (the single job's defaults).
    const plain = parseFleetConfig(fleetEnv(GOOD));
    const plainSeed = unitJobConfig(plain, findUnit(plain, 'staging', 'seed', 'event.unit')).seed;
    expect(plainSeed).not.toHaveProperty('maskingRules');
    expect(plainSeed).not.toHaveProperty('maskingKeySecretArn');

    const bad = [
      { ...seed, id: 'prefix', maskingRules: 's3://acme-config/rules/' },
      { ...seed, id: 'keyonly', maskingKeySecretArn: KEY },
      { ...seed, id: 'badkey', maskingRules: 'rules.yml', maskingKeySecretArn: 'masking-key' },
      { ...seed, id: 'number', maskingRules: 7 },
    ];
    expect(problemsOf(fleetEnv({ ...GOOD, seeds: bad }))).toEqual([
      'PGFERRY_FLEET.seeds[0].maskingRules: "s3://acme-config/rules/" is not an object; expected s3://bucket/key.yml or a path',
      'PGFERRY_FLEET.seeds[1].maskingKeySecretArn: is set without PGFERRY_FLEET.seeds[1].maskingRules; nothing would use the key',
      'PGFERRY_FLEET.seeds[2].maskingKeySecretArn: is not a Secrets Manager secret ARN; expected arn:aws:secretsmanager:<region>:<account>:secret:<name>',
      'PGFERRY_FLEET.seeds[3].maskingRules: expected a string',
    ]);
    // Per seed in the fleet, so the single job's variables would be ambiguous beside it.
    expect(
      problemsOf(fleetEnv(GOOD, { PGFERRY_MASKING_RULES: 'rules.yml', PGFERRY_MASKING_KEY_SECRET_ARN: KEY })),
    ).toEqual([
      expect.stringMatching(/^PGFERRY_MASKING_RULES: is a single-database variable/),
      expect.stringMatching(/^PGFERRY_MASKING_KEY_SECRET_ARN: is a single-database variable/),
    ]);
  });

  it('refuses units and events it does not list', () => {
    const fleet = parseFleetConfig(fleetEnv(GOOD));
    expect(() => findUnit(fleet, 'east/other', 'backup', 'event.unit')).toThrow(
      /^event\.unit: "east\/other" is not a unit of this fleet; expected <sourceId>\/<database>, one of east\/app, east\/billing, west\/app$/,
    );
    expect(() => findUnit(fleet, 'east/app', 'seed', 'event.unit')).toThrow(
      /is not a seed of this fleet; expected one of staging/,
    );
    expect(() => findUnit(fleet, '/app', 'backup', 'event.unit')).toThrow(/is not a unit/);
    expect(() => parseUnitEvent({ unit: 'east/app', job: 'dump', phase: 'later', password: 'x' })).toThrow(
      InputErrors,
    );
    const event = (): unknown => parseUnitEvent({ unit: '', job: 'dump', phase: 'later', extra: 1 });
    expect(event).toThrow(InputErrors);
    expect(inputsOf(event)).toEqual(['event.extra', 'event.unit', 'event.job', 'event.phase']);
    expect(() => parseUnitEvent('east/app')).toThrow(/^event: expected/);
    expect(parseUnitEvent({ unit: 'east/app', job: 'backup', phase: 'run' })).toEqual({
      unit: 'east/app',
      job: 'backup',
      phase: 'run',
    });
  });
});

describe('unit failures', () => {
  it('retries only what failed before the dump and can pass on its own', () => {
    const refused = new ConnectionError('from 127.0.0.1:1: connection refused', 'ECONNREFUSED');
    const password = new ConnectionError('from: authentication failed', '28P01');
    expect(classifyFailure('east/app', refused, true).name).toBe('PgferryRetryable');
    expect(classifyFailure('east/app', refused, false).name).toBe('PgferryFailed');
    expect(classifyFailure('east/app', password, true).name).toBe('PgferryFailed');
    const throttled = new Error('secret could not be read', {
      cause: Object.assign(new Error('slow'), { name: 'ThrottlingException' }),
    });
    expect(classifyFailure('east/app', throttled, true).name).toBe('PgferryRetryable');
    expect(classifyFailure('east/app', new Error('pg_dump exited with code 1'), true)).toMatchObject({
      name: 'PgferryFailed',
      message: 'east/app: pg_dump exited with code 1',
    });
  });
});
