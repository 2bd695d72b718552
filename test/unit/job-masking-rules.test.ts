import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { S3Bucket } from '../../core/storage/s3-bucket.js';
import type { SeedConfig } from '../../lambda/config.js';
import { JsonLog } from '../../lambda/json-log.js';
import { jobMaskingRules } from '../../lambda/masking-rules.js';

/** The seed job's rules from a path, and its key: each problem named as the job's variable. */

const dir = mkdtempSync(path.join(os.tmpdir(), 'pgferry-job-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pgferry/masking-key-AbCdEf';
const noStore = {} as S3Bucket;

/** A Secrets Manager client that answers every GetSecretValue with `value`. */
const secretsAnswering = (value: string | undefined, asked: string[] = []) =>
  ({
    send: (command: { input: { SecretId: string } }) => {
      asked.push(command.input.SecretId);
      return Promise.resolve({ SecretString: value });
    },
  }) as unknown as SecretsManagerClient;

function seed(rulesText: string | undefined, extra: Partial<SeedConfig> = {}): SeedConfig {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yml`);
  if (rulesText !== undefined) writeFileSync(file, rulesText);
  return {
    secretArn: KEY_ARN,
    confirm: 'staging',
    sslmode: 'disable',
    sanitizeSql: [],
    swap: true,
    maskingRules: file,
    ...extra,
  };
}

async function problemOf(work: Promise<unknown>): Promise<string> {
  return work.then(
    () => 'accepted',
    (e: unknown) => (e as Error).message,
  );
}

const lines: string[] = [];
const log = new JsonLog((l) => lines.push(l), { job: 'seed' });

test('the key from the secret reaches the rules, and the log masks it', async () => {
  const asked: string[] = [];
  const rules = await jobMaskingRules(
    seed('columns: { public.users.id: hash }\n', { maskingKeySecretArn: KEY_ARN }),
    noStore,
    secretsAnswering('s3cr3t-masking-key', asked),
    {},
    log,
  );
  expect(asked).toEqual([KEY_ARN]);
  expect(rules?.tables.get('public\0users')?.[0]?.transform('42')).not.toBe('42');
  log.info('the key is s3cr3t-masking-key');
  expect(lines.join('\n')).not.toContain('s3cr3t-masking-key');
});

test('without rules nothing is read', async () => {
  const asked: string[] = [];
  const none = { ...seed(undefined), maskingRules: undefined, maskingKeySecretArn: KEY_ARN };
  expect(await jobMaskingRules(none, noStore, secretsAnswering('k', asked), {}, log)).toBeUndefined();
  expect(asked).toEqual([]);
});

test.each([
  [
    'a keyed transformer without any key',
    seed('columns: { public.users.id: hash }\n'),
    {},
    'k',
    /^PGFERRY_MASKING_RULES: .*line 1 \(public\.users\.id\): the hash transformer needs a secret key in PGFERRY_MASKING_KEY_SECRET_ARN \(the secret's string\) or PGFERRY_MASKING_KEY$/,
  ],
  [
    'a file that is not there',
    { ...seed(undefined) },
    {},
    'k',
    /^PGFERRY_MASKING_RULES: cannot read .*: ENOENT$/,
  ],
  [
    'the key secret and PGFERRY_MASKING_KEY at once',
    seed('columns: { public.users.id: hash }\n', { maskingKeySecretArn: KEY_ARN }),
    { PGFERRY_MASKING_KEY: 'other' },
    'k',
    /^PGFERRY_MASKING_KEY_SECRET_ARN: cannot be combined with PGFERRY_MASKING_KEY; set one of them$/,
  ],
  [
    'an empty key secret',
    seed('columns: { public.users.id: hash }\n', { maskingKeySecretArn: KEY_ARN }),
    {},
    '',
    /^PGFERRY_MASKING_KEY_SECRET_ARN: the secret is empty; expected the masking key$/,
  ],
  [
    'a binary key secret',
    seed('columns: { public.users.id: hash }\n', { maskingKeySecretArn: KEY_ARN }),
    {},
    undefined,
    /^PGFERRY_MASKING_KEY_SECRET_ARN: secret pgferry\/masking-key-AbCdEf has no SecretString .*expected the masking key$/,
  ],
])('%s is refused, named as the variable', async (_what, config, env, secret, message) => {
  expect(await problemOf(jobMaskingRules(config, noStore, secretsAnswering(secret), env, log))).toMatch(
    message,
  );
});

test('PGFERRY_MASKING_KEY alone is the key where no secret is named (local runs)', async () => {
  const rules = await jobMaskingRules(
    seed('columns: { public.users.id: hash }\n'),
    noStore,
    secretsAnswering(undefined),
    { PGFERRY_MASKING_KEY: 'local-key' },
    log,
  );
  expect(rules?.tables.size).toBe(1);
});

test('on Lambda a plain PGFERRY_MASKING_KEY is refused, with rules or without', async () => {
  const env = { PGFERRY_MASKING_KEY: 'plain-key' };
  const message =
    /^PGFERRY_MASKING_KEY: is not read on Lambda, .*; put the key in a Secrets Manager secret and set PGFERRY_MASKING_KEY_SECRET_ARN$/;
  const withRules = seed('columns: { public.users.id: hash }\n');
  expect(
    await problemOf(jobMaskingRules(withRules, noStore, secretsAnswering(undefined), env, log, 'lambda')),
  ).toMatch(message);
  const without = { ...seed(undefined), maskingRules: undefined };
  expect(
    await problemOf(jobMaskingRules(without, noStore, secretsAnswering(undefined), env, log, 'lambda')),
  ).toMatch(message);
});
