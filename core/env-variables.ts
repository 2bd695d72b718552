import type { InputProblems } from './errors.js';
import { didYouMean } from './near-miss.js';
import { LIMITS_ENV } from './network-limits.js';

export const ENV_PREFIX = 'PGFERRY_';

/** Variables the engine reads wherever it runs: for operators and tests, not inputs of the contract. */
export const ENGINE_VARIABLES: readonly string[] = [
  'PGFERRY_DEBUG',
  LIMITS_ENV,
  // The masking key is a secret: an environment variable of its own, never an input.
  'PGFERRY_MASKING_KEY',
];

/**
 * Records every `PGFERRY_*` variable of `env` that is not in `known` (nor an engine variable): a
 * misspelt `PGFERRY_VERIFYY` would otherwise be ignored and its default used without a word.
 * `listedIn` says where the vocabulary is written down, for names that are near nothing.
 */
export function refuseUnknownVariables(
  env: NodeJS.ProcessEnv,
  known: Iterable<string>,
  problems: InputProblems,
  listedIn: string,
): void {
  const names = new Set([...known, ...ENGINE_VARIABLES]);
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(ENV_PREFIX) || names.has(name)) continue;
    problems.add(name, `is not a variable pgferry reads; ${didYouMean(name, names, `see ${listedIn}`)}`);
  }
}
