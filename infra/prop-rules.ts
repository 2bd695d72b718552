import { type Duration, Token } from 'aws-cdk-lib';
import { STORABLE_DATABASE_NAME_PATTERN } from '../core/storage/database-name.js';
import { JOB_VARIABLES } from '../lambda/job-variables.js';
import { fail } from './props-error.js';
import { checkAsTheJobWill } from './resolve-engine-values.js';
import type { SslMode } from './props.js';

// The job's own rule for database names (they become key segments and metric dimensions).
export const DATABASE_NAME = STORABLE_DATABASE_NAME_PATTERN;
const SSL_MODES: readonly SslMode[] = ['require', 'verify-ca', 'verify-full'];

/** A value known at synth time (tokens are checked by CloudFormation or the job instead). */
export function literal(value: string): boolean {
  return !Token.isUnresolved(value);
}

/** A duration in whole days ≥ 1 (lifecycle rules and Object Lock count days). */
export function wholeDays(prop: string, value: Duration | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const days = value.toHours() / 24;
  if (!Number.isInteger(days) || days < 1)
    fail(prop, `${value.toHumanString()} is not a whole number of days ≥ 1`);
  return days;
}

/**
 * An sslmode the job takes (its own parser), and one that encrypts: the construct never lets the job
 * talk to a database in clear text. `require` unless told otherwise.
 */
export function resolveSslMode(
  variable: 'PGFERRY_SOURCE_SSLMODE' | 'PGFERRY_SEED_SSLMODE',
  value: SslMode | undefined,
): SslMode {
  const mode = checkAsTheJobWill(variable, value) ?? 'require';
  const encrypting = SSL_MODES.find((m) => m === mode);
  if (encrypting === undefined)
    fail(
      JOB_VARIABLES[variable].prop ?? variable,
      `"${mode}" is not allowed; expected ${SSL_MODES.join(', ')}`,
    );
  return encrypting;
}
