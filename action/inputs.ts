import * as core from '@actions/core';
import { didYouMean } from '../core/near-miss.js';
import { ACTION_ONLY_INPUTS, INPUTS, parseJobOptions, type JobOptions } from '../core/options.js';
import { passwordsIn } from './secrets.js';

export const INPUT_NAMES = [...INPUTS, ...ACTION_ONLY_INPUTS].map((i) => i.name);

/** The runner's view of an input, without @actions/core's trimming rules getting in the way. */
function input(name: string): string | undefined {
  const value = core.getInput(name);
  return value === '' ? undefined : value;
}

/** The variable the runner sets for an input (as @actions/core reads it: spaces → `_`, upper case). */
function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/**
 * Inputs the step was given that action.yml does not declare, warned about as the runner warns about
 * them ("Unexpected input(s)"): a warning rather than an error, because the runner itself lets such a
 * step run, and a workflow pinned to a newer pgferry's input keeps running on an older one. The
 * message names the near miss, so `compresss: none` is seen before its default is.
 */
export function undeclaredInputs(env: NodeJS.ProcessEnv): string[] {
  const declared = new Set(INPUT_NAMES.map(inputVariable));
  return Object.keys(env)
    .filter((name) => name.startsWith('INPUT_') && !declared.has(name))
    .sort()
    .map((variable) => {
      const name = variable.slice('INPUT_'.length).toLowerCase();
      const hint = didYouMean(name, INPUT_NAMES, 'see action.yml for the inputs');
      return `Unexpected input '${name}': pgferry has no such input and ignores it; ${hint}`;
    });
}

/**
 * The releases-API token, masked before anything else is read or logged. An empty value (the
 * default off github.com) means none: the lookup then goes unauthenticated.
 */
export function readToken(): string | undefined {
  const token = core.getInput('token');
  if (!token) return undefined;
  core.setSecret(token);
  return token;
}

/**
 * Registers every password of `from` and `to` (each line's, for several databases) and PGPASSWORD
 * with the runner, which then masks them in the log; returns them for what pgferry writes itself.
 */
export function maskPasswords(env: NodeJS.ProcessEnv = process.env): string[] {
  const secrets = ['from', 'to'].flatMap((name) => passwordsIn(input(name), env));
  if (env.PGPASSWORD) secrets.push(env.PGPASSWORD);
  for (const secret of secrets) core.setSecret(secret);
  return secrets;
}

/** Parses all inputs at once; maskPasswords has run first, so no message can show a password. */
export function readInputs(env: NodeJS.ProcessEnv = process.env): JobOptions {
  for (const warning of undeclaredInputs(env)) core.warning(warning);
  return parseJobOptions(input, env);
}
