import { Token } from 'aws-cdk-lib';
import {
  JOB_VARIABLES,
  type JobVariable,
  type JobVariableName,
  type JobVariableValue,
} from '../lambda/job-variables.js';
import { fail } from './props-error.js';

/**
 * Props that become the job's variables are checked at synth by the job's own parsers
 * (lambda/job-variables.ts), named as the prop the schema says sets them: what synth accepts, the job
 * accepts, with the same words. Tokens are left to the job.
 */
export function checkAsTheJobWill<K extends JobVariableName>(
  name: K,
  value: string | number | boolean | undefined,
  /** The prop's path where the schema's does not fit (a fleet's `seeds[i].…`). */
  prop?: string,
): JobVariableValue<K> | undefined {
  if (value !== undefined && typeof value !== 'boolean' && Token.isUnresolved(value)) return undefined;
  const variable = JOB_VARIABLES[name] as JobVariable<JobVariableValue<K>>;
  return variable.parse(value === undefined ? undefined : String(value), prop ?? variable.prop ?? name);
}

export function resolveCompress(value: string | undefined): string {
  checkAsTheJobWill('PGFERRY_COMPRESS', value);
  return value ?? 'auto';
}

export function resolveJobs(value: number | undefined): number | undefined {
  if (value === undefined || Token.isUnresolved(value)) return value;
  const jobs = checkAsTheJobWill('PGFERRY_JOBS', value);
  return jobs === 'auto' ? undefined : jobs;
}

export function resolveVerify(value: string | undefined): 'list' | 'full' | 'restore' {
  return checkAsTheJobWill('PGFERRY_VERIFY', value) ?? 'list';
}

/** Backups are streamed to S3, which only the custom format allows. */
export function resolveFormat(value: string | undefined): 'custom' {
  return checkAsTheJobWill('PGFERRY_FORMAT', value) ?? 'custom';
}

/** The client version the job asks for; a pinned major must be staged. */
export function resolvePostgresVersion(value: string | undefined, majors: number[]): string {
  const version = value ?? 'auto';
  const request = checkAsTheJobWill('PGFERRY_POSTGRES_VERSION', value);
  if (request !== undefined && request.kind !== 'auto' && !majors.includes(request.major)) {
    fail(
      'postgresVersion',
      `${version} needs major ${request.major}, which is not among postgresMajors (${majors.join(', ')})`,
    );
  }
  return version;
}
