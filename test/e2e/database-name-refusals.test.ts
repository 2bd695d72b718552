import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { failure, runAction, runnerDirs } from '../harness/action-runner.js';
import { CLI_BUNDLE, runBundle, type ProcessRun } from '../harness/cli.js';
import { SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Env, withEnv } from '../harness/s3-engine.js';
import {
  captureStdout,
  lambdaContext,
  loadHandler,
  messagesIn,
  TASK_BUNDLE,
} from '../harness/scheduled-job.js';
import { startSecretsManager, type SecretsManagerStandIn } from '../harness/secrets-manager.js';
import { mirrorUrl, server, sql, testbed } from '../harness/testbed.js';
import { jobBucketEnv, jobClientsEnv } from '../harness/job-env.js';

/**
 * Issue 11's bad input, through every built front end: a database name with `/`, `..`, a NUL or a
 * newline would become a key segment outside `<prefix>/<database>/`. The CLI bundle, the Action
 * bundle, the Fargate task bundle and the Lambda handler bundle each refuse it, naming the input,
 * and the bucket stays empty. The hostile databases really exist on the server (PostgreSQL takes
 * every one of these names but NUL), so a refusal cannot be a "database does not exist" in disguise;
 * a control backup of an ordinary database through the same CLI shows the bucket would see a write.
 */

const MAJOR = 17;
const BUCKET = 'pgferry-names';
const CLI = CLI_BUNDLE;
/** Real databases with hostile names (PostgreSQL allows all of them). */
const SLASH = 'pgferry/names';
const DOTDOT = '..';
const NEWLINE = 'pgferry\nnames';
let s3: S3TestServer;
let secrets: SecretsManagerStandIn;
let scratch: string;

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

beforeAll(async () => {
  [s3, secrets] = await Promise.all([startS3(), startSecretsManager()]);
  await s3.createBucket(BUCKET);
  await s3.createBucket(`${BUCKET}-control`);
  scratch = mkdtempSync(path.join(os.tmpdir(), 'pgferry-names-'));
  for (const name of [SLASH, DOTDOT, NEWLINE]) {
    await sql(MAJOR, 'postgres', `DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
    await sql(MAJOR, 'postgres', `CREATE DATABASE ${quoteIdent(name)}`);
    const client = new pg.Client({
      host: '127.0.0.1',
      port: server(MAJOR).port,
      user: 'postgres',
      password: testbed().password,
      database: name,
    });
    await client.connect();
    await client.query('CREATE TABLE precious AS SELECT 1 AS id').finally(() => client.end());
  }
});
afterAll(async () => {
  for (const name of [SLASH, DOTDOT, NEWLINE])
    await sql(MAJOR, 'postgres', `DROP DATABASE IF EXISTS ${quoteIdent(name)}`).catch(() => {});
  await Promise.all([s3?.close(), secrets?.close()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A URL whose database part percent-encodes `name`, as a user would write it. */
function urlFor(name: string): string {
  const { password } = testbed();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${server(MAJOR).port}/${encodeURIComponent(name)}`;
}

/** Each way of writing a hostile name in `from`, with the name pgferry must refuse. */
const FROM_CASES: [string, () => string, string][] = [
  ['a slash (percent-encoded)', () => urlFor(SLASH), SLASH],
  ['a slash in the URL path', () => urlFor(SLASH).replace('%2F', '/'), SLASH],
  ['.. in conninfo', () => `host=127.0.0.1 port=${server(MAJOR).port} user=postgres dbname=..`, DOTDOT],
  ['a climb out of the prefix', () => urlFor('../../elsewhere'), '../../elsewhere'],
  ['a NUL', () => urlFor('pgferry\u0000names'), 'pgferry\u0000names'],
  ['a newline', () => urlFor(NEWLINE), NEWLINE],
];

/** The refusal as a front end prints it: alone, after the CLI's `pgferry: `, or in a list of several. */
function refusal(input: string, name: string): RegExp {
  const quoted = JSON.stringify(name).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(
    `(^|\\n)(pgferry: )?(\\s*- )?${input}: database ${quoted} cannot name backups in the bucket; expected`,
  );
}

async function bucketKeys(): Promise<string[]> {
  return s3.keys(BUCKET);
}

function run(file: string, args: string[], env: Record<string, string>): Promise<ProcessRun> {
  return runBundle(args, { ...s3Env(s3), ...env }, file);
}

const cliS3Args = (): string[] => [
  '--s3-endpoint',
  s3.endpoint,
  '--s3-force-path-style',
  'true',
  '--s3-region',
  s3.region,
  '--mirror',
  mirrorUrl(),
];

describe('the CLI bundle', () => {
  it.each(FROM_CASES)('refuses a backup of %s in from and writes nothing', async (_, from, name) => {
    const result = await run(
      CLI,
      ['backup', '--from', from(), '--to', `s3://${BUCKET}/cli/`, ...cliS3Args()],
      {
        PGFERRY_CACHE_DIR: SHARED_CLIENT_CACHE,
      },
    );
    // Refused from the command line alone, before any work: the usage exit code.
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(refusal('--from', name));
    expect(result.stderr).not.toContain(testbed().password);
    expect(await bucketKeys()).toEqual([]);
  });

  it('control: the same command with an ordinary database writes a backup', async () => {
    await sql(MAJOR, 'postgres', 'DROP DATABASE IF EXISTS pgferry_names_ok');
    await sql(MAJOR, 'postgres', 'CREATE DATABASE pgferry_names_ok');
    await sql(MAJOR, 'pgferry_names_ok', 'CREATE TABLE precious AS SELECT 1 AS id');
    const result = await run(
      CLI,
      ['backup', '--from', urlFor('pgferry_names_ok'), '--to', `s3://${BUCKET}-control/cli/`, ...cliS3Args()],
      { PGFERRY_CACHE_DIR: SHARED_CLIENT_CACHE },
    );
    expect(result.stderr).not.toMatch(/cannot name backups/);
    expect(result.code).toBe(0);
    expect(await s3.keys(`${BUCKET}-control`)).toEqual(
      expect.arrayContaining(['cli/pgferry_names_ok/latest.json']),
    );
  });
});

describe('the Action bundle', () => {
  const dirs = runnerDirs();
  it.each(FROM_CASES)('refuses a backup of %s in from and writes nothing', async (_, from, name) => {
    const step = await runAction(
      {
        command: 'backup',
        from: from(),
        to: `s3://${BUCKET}/action/`,
        's3-endpoint': s3.endpoint,
        's3-force-path-style': 'true',
        's3-region': s3.region,
        mirror: mirrorUrl(),
      },
      dirs,
      s3Env(s3),
    );
    expect(step.code).toBe(1);
    expect(failure(step)).toMatch(refusal('from', name));
    expect(step.outputs).toEqual({});
    expect(step.everything).not.toContain(testbed().password);
    expect(await bucketKeys()).toEqual([]);
  });
});

describe('the scheduled job bundles', () => {
  const secretFor = (dbname?: string): string =>
    secrets.put(`pgferry/names-${Math.random().toString(36).slice(2)}`, {
      value: JSON.stringify({
        engine: 'postgres',
        host: '127.0.0.1',
        port: server(MAJOR).port,
        username: 'postgres',
        password: testbed().password,
        ...(dbname === undefined ? {} : { dbname }),
      }),
    });
  const jobEnv = (extra: Record<string, string>): Record<string, string> => ({
    ...s3Env(s3),
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    PGFERRY_SOURCE_SSLMODE: 'disable',
    ...jobBucketEnv(s3, BUCKET, 'job'),
    ...jobClientsEnv(scratch),
    ...extra,
  });

  // A variable cannot carry a NUL and splits on newlines, so those two come by the secret and the event.
  it.each([
    ['a slash', SLASH],
    ['..', DOTDOT],
    ['a climb out of the prefix', '../../elsewhere'],
  ])('the task refuses %s in PGFERRY_DATABASES and writes nothing', async (_, name) => {
    const result = await run(TASK_BUNDLE, [], {
      ...jobEnv({ PGFERRY_SOURCE_SECRET_ARN: secretFor('postgres'), PGFERRY_DATABASES: name }),
    });
    expect(result.code).toBe(1);
    expect(messagesIn(result.stdout)).toMatch(refusal('PGFERRY_DATABASES', name));
    expect(await bucketKeys()).toEqual([]);
  });

  it.each([
    ['a newline', NEWLINE],
    ['a slash', SLASH],
    ['..', DOTDOT],
  ])(
    "the task refuses the secret's dbname with %s (the engine's own guard) and writes nothing",
    async (_, name) => {
      const result = await run(TASK_BUNDLE, [], jobEnv({ PGFERRY_SOURCE_SECRET_ARN: secretFor(name) }));
      expect(result.code).toBe(1);
      const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as {
        ok?: boolean;
        failures?: { error: string }[];
      };
      expect(summary.ok).toBe(false);
      expect(summary.failures?.map((f) => f.error).join('\n')).toMatch(refusal('from', name));
      expect(await bucketKeys()).toEqual([]);
    },
  );

  it.each([
    ['a NUL', 'pgferry\u0000names'],
    ['a newline', NEWLINE],
    ['a slash', SLASH],
  ])('the handler refuses %s in event.databases and writes nothing', async (_, name) => {
    const handler = await loadHandler();
    const { result } = await captureStdout(() =>
      withEnv(jobEnv({ PGFERRY_SOURCE_SECRET_ARN: secretFor('postgres') }), () =>
        handler({ job: 'backup', databases: [name] }, lambdaContext(900_000)).then(
          () => undefined,
          (e: unknown) => e as Error,
        ),
      ),
    );
    expect(result?.message).toMatch(refusal('event.databases', name));
    expect(await bucketKeys()).toEqual([]);
  });
});
