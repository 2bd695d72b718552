import * as core from '@actions/core';
import { INPUTS, parseJobOptions, type JobOptions } from '../core/options.js';
import { passwordsIn } from './secrets.js';

/** The runner's view of an input, without @actions/core's trimming rules getting in the way. */
function input(name: string): string | undefined {
  const value = core.getInput(name);
  return value === '' ? undefined : value;
}

/** Masks every password before anything can be logged, then parses all inputs at once. */
export function readInputs(env: NodeJS.ProcessEnv = process.env): JobOptions {
  for (const name of ['from', 'to'])
    for (const secret of passwordsIn(input(name), env)) core.setSecret(secret);
  if (env.PGPASSWORD) core.setSecret(env.PGPASSWORD);
  return parseJobOptions(input, env);
}

export const INPUT_NAMES = INPUTS.map((i) => i.name);
