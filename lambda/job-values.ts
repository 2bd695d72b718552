import { InputError, InputErrors } from '../core/errors.js';
import { parseFormat } from '../core/pg/formats.js';
import { splitList } from '../core/options.js';
import { checkStorableDatabaseName } from '../core/storage/database-name.js';
import { isS3Uri } from '../core/storage/location.js';
import { parseBoolean } from '../core/values.js';

/**
 * Parsers of the values only the scheduled job reads (the rest are the engine's, in core/). Each takes
 * the variable's text (undefined when unset) and the name to blame, which is the variable, the event
 * field, or, at synth, the construct's prop: one rule and one message wherever the value is written.
 */

export type ScheduledJobName = 'backup' | 'seed';

export const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type Sslmode = (typeof SSLMODES)[number];

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const NAMESPACE = /^[A-Za-z0-9._/#:-]{1,255}$/;
const S3_OBJECT = /^s3:\/\/[^/]+\/.+[^/]$/;

const text = (raw: string | undefined): string | undefined => {
  const trimmed = raw?.trim();
  return trimmed === '' ? undefined : trimmed;
};

export function parseJobName(raw: string | undefined, input: string): ScheduledJobName {
  const job = text(raw) ?? 'backup';
  if (job === 'backup' || job === 'seed') return job;
  throw new InputError(input, `"${job}" is not a job; expected backup or seed`);
}

/** A boolean variable with its documented default. */
export const booleanWithDefault =
  (fallback: boolean) =>
  (raw: string | undefined, input: string): boolean =>
    parseBoolean(raw, input, fallback);

/** A plain text whose rule is only "set or not" (checked where it is required). */
export const optionalText = (raw: string | undefined): string | undefined => text(raw);

export function parseSecretArn(raw: string | undefined, input: string): string | undefined {
  const arn = text(raw);
  if (arn !== undefined && !SECRET_ARN.test(arn))
    throw new InputError(
      input,
      'is not a Secrets Manager secret ARN; expected arn:aws:secretsmanager:<region>:<account>:secret:<name>',
    );
  return arn;
}

export function parsePort(raw: string | undefined, input: string): number {
  const port = text(raw) ?? '5432';
  const value = /^\d{1,5}$/.test(port) ? Number(port) : 0;
  if (value < 1 || value > 65535) throw new InputError(input, `"${port}" is not a port; expected 1–65535`);
  return value;
}

export function parseSslmode(raw: string | undefined, input: string): Sslmode {
  const mode = text(raw) ?? 'require';
  const known = SSLMODES.find((m) => m === mode);
  if (known === undefined)
    throw new InputError(input, `"${mode}" is not an sslmode; expected one of ${SSLMODES.join(', ')}`);
  return known;
}

export const verifying = (mode: string): boolean => mode === 'verify-ca' || mode === 'verify-full';

/** Database names become key segments and metric dimensions: the one rule of core/, every bad name reported. */
export function parseDatabaseList(raw: string | undefined, input: string): string[] {
  return checkDatabaseNames(splitList(raw), input);
}

/** Names taken as given (an event's list): splitting "a\nb" would make one hostile name two ordinary ones. */
export function checkDatabaseNames(names: readonly string[], input: string): string[] {
  const problems: InputError[] = [];
  for (const name of names) {
    try {
      checkStorableDatabaseName(name, input);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push(error);
    }
  }
  if (problems.length > 0) throw new InputErrors(problems);
  return [...names];
}

export function parseDatabaseName(raw: string | undefined, input: string): string | undefined {
  const name = text(raw);
  return name === undefined ? undefined : checkStorableDatabaseName(name, input);
}

export function parseBucketName(raw: string | undefined, input: string): string | undefined {
  const bucket = text(raw);
  if (bucket !== undefined && !BUCKET.test(bucket))
    throw new InputError(
      input,
      `"${bucket}" is not a bucket name; expected 3–63 lowercase letters, digits, dots and hyphens`,
    );
  return bucket;
}

/** A key prefix without leading or trailing slashes and without `.` or `..` segments. */
export function parsePrefix(raw: string | undefined, input: string): string {
  const prefix = (text(raw) ?? 'backups').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((part) => part === '..' || part === '.'))
    throw new InputError(input, `"${prefix}" must not contain . or .. segments`);
  return prefix;
}

/** Backups are streamed to S3, which only the custom format allows. */
export function parseStreamableFormat(raw: string | undefined, input: string): 'custom' {
  const format = parseFormat(raw, input);
  if (format !== 'custom')
    throw new InputError(
      input,
      `"${format}" cannot be streamed to S3; backups are written in the custom format`,
    );
  return format;
}

export function parseSecondsAtLeastOne(raw: string | undefined, input: string): number {
  const seconds = text(raw) ?? '60';
  const value = /^\d{1,4}$/.test(seconds) ? Number(seconds) : 0;
  if (value < 1)
    throw new InputError(input, `"${seconds}" is not a number of seconds; expected a whole number ≥ 1`);
  return value;
}

export function parseMetricsNamespace(raw: string | undefined, input: string): string {
  const namespace = text(raw) ?? 'pgferry';
  if (!NAMESPACE.test(namespace) || namespace.startsWith('AWS/'))
    throw new InputError(input, `"${namespace}" is not a custom CloudWatch namespace`);
  return namespace;
}

/** Sanitize SQL: paths or `s3://bucket/key` objects, comma- or newline-separated. */
export function parseSqlFiles(raw: string | undefined, input: string): string[] {
  const files = splitList(raw);
  const bad = files.filter((file) => isS3Uri(file) && !S3_OBJECT.test(file));
  if (bad.length > 0)
    throw new InputErrors(
      bad.map(
        (file) => new InputError(input, `"${file}" is not an object; expected s3://bucket/key.sql or a path`),
      ),
    );
  return files;
}

/** One rules file: a path in the bundle or image, or `s3://bucket/key` (an object, not a prefix). */
export function parseRulesLocation(raw: string | undefined, input: string): string | undefined {
  const location = text(raw);
  if (location !== undefined && isS3Uri(location) && !S3_OBJECT.test(location))
    throw new InputError(input, `"${location}" is not an object; expected s3://bucket/key.yml or a path`);
  return location;
}
