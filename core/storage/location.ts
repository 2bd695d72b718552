import { InputError } from '../errors.js';

/** Where a dump goes or a restore comes from. */
export type Location = { kind: 'file'; path: string } | { kind: 's3'; bucket: string; key: string };

/** S3 bucket names: 3–63 chars of lowercase letters, digits, dots and hyphens. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isS3Uri(text: string): boolean {
  return /^s3:\/\//i.test(text.trim());
}

/** `s3://bucket/key` (key may be empty or end in `/` for a prefix), or a local path. */
export function parseLocation(raw: string, input: string): Location {
  const text = raw.trim();
  if (!isS3Uri(text)) return { kind: 'file', path: text };
  const m = /^s3:\/\/([^/]*)\/?(.*)$/i.exec(text);
  const bucket = m?.[1] ?? '';
  if (!BUCKET.test(bucket)) {
    throw new InputError(
      input,
      `"${text}" is not a valid s3:// URI; expected s3://bucket/key with a bucket name of 3–63 lowercase letters, digits, dots or hyphens`,
    );
  }
  const key = m?.[2] ?? '';
  if (key.includes('//')) throw new InputError(input, `"${text}" has an empty path segment (//) in its key`);
  return { kind: 's3', bucket, key };
}

export function formatLocation(loc: Location): string {
  return loc.kind === 's3' ? `s3://${loc.bucket}/${loc.key}` : loc.path;
}
