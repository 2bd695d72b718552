import { Token } from 'aws-cdk-lib';
import { parseJobs } from '../core/jobs/parallelism.js';
import { parseCompression } from '../core/pg/compression.js';
import { parseFormat } from '../core/pg/formats.js';
import { parseVersionRequest } from '../core/pg/version.js';
import { parseVerification, type Verification } from '../core/values.js';
import { literal } from './prop-rules.js';
import { fail } from './props-error.js';

/**
 * Props that are values of the engine's vocabulary, checked at synth by the engine's own parsers (the
 * job parses the same text again from its environment): what synth accepts, the job accepts. Each
 * parser names the prop it is given. Tokens are left to the job.
 */

export function resolveCompress(value: string | undefined): string {
  const compress = value ?? 'auto';
  if (literal(compress)) parseCompression(compress, 'compress');
  return compress;
}

export function resolveJobs(value: number | undefined): number | undefined {
  if (value === undefined || Token.isUnresolved(value)) return value;
  const jobs = parseJobs(String(value), 'jobs');
  return jobs === 'auto' ? undefined : jobs;
}

export function resolveVerify(value: string | undefined): Verification {
  return parseVerification(value === undefined ? undefined : String(value), 'verify');
}

/** Backups are streamed to S3, which only the custom format allows. */
export function resolveFormat(value: string | undefined): 'custom' {
  if (value === undefined) return 'custom';
  const format = parseFormat(String(value), 'format');
  if (format !== 'custom') fail('format', `"${String(value)}" cannot be streamed to S3; only custom`);
  return format;
}

/** The client version the job asks for; a pinned major must be staged. */
export function resolvePostgresVersion(value: string | undefined, majors: number[]): string {
  const version = value ?? 'auto';
  if (!literal(version)) return version;
  const request = parseVersionRequest(version, 'postgresVersion');
  if (request.kind !== 'auto' && !majors.includes(request.major)) {
    fail(
      'postgresVersion',
      `${version} needs major ${request.major}, which is not among postgresMajors (${majors.join(', ')})`,
    );
  }
  return version;
}
