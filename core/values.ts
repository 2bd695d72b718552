import { InputError } from './errors.js';

/**
 * Parsers of the vocabulary's small values, shared by every front end (the input table, the scheduled
 * job's environment, the CDK construct's props) so that one value gets one rule and one message.
 * `input` is the name as the caller wrote it. The larger values have their own modules: compress
 * (pg/compression.ts), jobs (pg/args.ts), postgres-version (pg/version.ts), format (pg/formats.ts).
 */

/** `true` or `false` only: a `yes` or `1` is a typo more often than a wish. */
export function parseBoolean(raw: string | undefined, input: string, fallback: boolean): boolean {
  const text = (raw ?? '').trim();
  if (text === '') return fallback;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new InputError(input, `"${text}" is not a boolean; expected true or false`);
}

export const VERIFICATIONS = ['list', 'full', 'restore'] as const;
export type Verification = (typeof VERIFICATIONS)[number];

/** How a backup is verified: `list` (the default), `full` or `restore`. */
export function parseVerification(raw: string | undefined, input = 'verify'): Verification {
  const text = (raw ?? '').trim();
  if (text === '') return 'list';
  const verification = VERIFICATIONS.find((v) => v === text);
  if (verification === undefined)
    throw new InputError(input, `"${text}" is not a verification; expected list, full or restore`);
  return verification;
}

export type ServerSideEncryption = 'AES256' | 'aws:kms';

/** S3 server-side encryption, or undefined for the bucket's default. */
export function parseServerSideEncryption(
  raw: string | undefined,
  input = 's3-sse',
): ServerSideEncryption | undefined {
  const text = (raw ?? '').trim();
  if (text === '') return undefined;
  if (text === 'AES256' || text === 'aws:kms') return text;
  throw new InputError(input, `"${text}" is not a server-side encryption; expected AES256 or aws:kms`);
}

/** An S3-compatible endpoint: an http(s) URL with a host. */
export function parseS3Endpoint(raw: string | undefined, input = 's3-endpoint'): string | undefined {
  const text = (raw ?? '').trim();
  if (text === '') return undefined;
  if (!/^https?:\/\/[^/\s]+/.test(text))
    throw new InputError(input, `"${text}" is not an http(s) URL; expected e.g. https://s3.example.com`);
  return text;
}

/** A mirror of the client releases: an http(s) base URL (checked again where it is used). */
export function parseMirror(raw: string | undefined, input = 'mirror'): string | undefined {
  const text = (raw ?? '').trim();
  if (text === '') return undefined;
  if (!/^https?:\/\//.test(text))
    throw new InputError(
      input,
      `"${text}" is not an http(s) URL; expected a base URL such as https://mirror.example/pg`,
    );
  return text;
}
