import { type Duration, Token } from 'aws-cdk-lib';
import { STORABLE_DATABASE_NAME_PATTERN } from '../core/storage/database-name.js';
import { fail } from './props-error.js';
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

/** sslmodes that encrypt; `require` unless told otherwise. */
export function resolveSslMode(prop: string, value: SslMode | undefined): SslMode {
  const mode = value ?? 'require';
  if (!SSL_MODES.includes(mode)) fail(prop, `"${mode}" is not allowed; expected ${SSL_MODES.join(', ')}`);
  return mode;
}
