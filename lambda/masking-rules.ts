import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InputError, PgferryError } from '../core/errors.js';
import {
  loadMaskingRules,
  MASKING_KEY_VARIABLE,
  parseMaskingRules,
  type MaskingRules,
} from '../core/masking/rules.js';
import { parseLocation } from '../core/storage/location.js';
import type { S3Bucket } from '../core/storage/s3-bucket.js';
import type { SeedConfig } from './config.js';
import type { JsonLog } from './json-log.js';
import { fetchSecretString } from './secrets.js';

const RULES = 'PGFERRY_MASKING_RULES';
const KEY_SECRET = 'PGFERRY_MASKING_KEY_SECRET_ARN';

/**
 * The engine names the rules `masking-rules` (the CLI's input); here they are PGFERRY_MASKING_RULES.
 * Other errors pass as they are.
 */
export function asMaskingVariable(error: unknown): unknown {
  const prefix = 'masking-rules: ';
  if (!(error instanceof PgferryError) || !error.message.startsWith(prefix)) return error;
  // The job's key comes from its secret first: say so where the engine names only its variable.
  const problem = error.message
    .slice(prefix.length)
    .replace(
      `in the environment variable ${MASKING_KEY_VARIABLE}`,
      `in ${KEY_SECRET} (the secret's string) or ${MASKING_KEY_VARIABLE}`,
    );
  return new InputError(RULES, problem);
}

/** Where the job runs: on Lambda a plain key variable is refused. */
export type JobCompute = 'lambda' | 'task';

/**
 * The masking key: the string of the secret PGFERRY_MASKING_KEY_SECRET_ARN names (how the
 * construct passes it: a Lambda's variables are readable by anyone who may read its configuration),
 * else PGFERRY_MASKING_KEY where it is set (the task run locally or on Fargate). Both at once is
 * ambiguous.
 */
function plainKey(env: NodeJS.ProcessEnv, compute: JobCompute): string | undefined {
  const plain = env[MASKING_KEY_VARIABLE] === '' ? undefined : env[MASKING_KEY_VARIABLE];
  if (plain !== undefined && compute === 'lambda')
    throw new InputError(
      MASKING_KEY_VARIABLE,
      `is not read on Lambda, whose variables anyone who may read the function's configuration can read; put the key in a Secrets Manager secret and set ${KEY_SECRET}`,
    );
  return plain;
}

async function maskingKey(
  seed: SeedConfig,
  secrets: SecretsManagerClient,
  env: NodeJS.ProcessEnv,
  compute: JobCompute,
): Promise<string | undefined> {
  const plain = plainKey(env, compute);
  if (!seed.maskingKeySecretArn) return plain;
  if (plain !== undefined)
    throw new InputError(KEY_SECRET, `cannot be combined with ${MASKING_KEY_VARIABLE}; set one of them`);
  const key = await fetchSecretString(secrets, seed.maskingKeySecretArn, KEY_SECRET, 'the masking key');
  if (key === '') throw new InputError(KEY_SECRET, 'the secret is empty; expected the masking key');
  return key;
}

/**
 * The seed's masking rules, read and checked before the job connects anywhere: from a path in the
 * bundle or image, or an `s3://` object read through the job's own store. The key is masked in the
 * log before anything could print it.
 */
export async function jobMaskingRules(
  seed: SeedConfig,
  store: S3Bucket,
  secrets: SecretsManagerClient,
  env: NodeJS.ProcessEnv,
  log: JsonLog,
  compute: JobCompute = 'task',
): Promise<MaskingRules | undefined> {
  const location = seed.maskingRules;
  if (location === undefined) {
    plainKey(env, compute);
    return undefined;
  }
  const key = await maskingKey(seed, secrets, env, compute);
  if (key !== undefined) log.mask(key);
  try {
    const parsed = parseLocation(location, RULES);
    if (parsed.kind === 'file') return await loadMaskingRules(parsed.path, key);
    const read = await store.sibling(parsed.bucket).getTextVersion(parsed.key, RULES);
    if (read === undefined) throw new InputError(RULES, `${location} does not exist`);
    return parseMaskingRules(read.text, location, key);
  } catch (error) {
    throw asMaskingVariable(error);
  }
}
