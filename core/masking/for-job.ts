import { InputError } from '../errors.js';
import { loadMaskingRules, MASKING_KEY_VARIABLE, type MaskingRules } from './rules.js';

/**
 * The rules a job masks with: read and checked (with the key from PGFERRY_MASKING_KEY) before the
 * job touches anything. `where` says what cannot mask yet, e.g. a restore from S3.
 */
export async function maskingRulesForJob(
  file: string | undefined,
  unsupported?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MaskingRules | undefined> {
  if (file === undefined || file.trim() === '') return undefined;
  if (unsupported)
    throw new InputError('masking-rules', `${unsupported} cannot mask yet; restore from a file, or copy`);
  const key = env[MASKING_KEY_VARIABLE];
  return loadMaskingRules(file.trim(), key === '' ? undefined : key);
}
