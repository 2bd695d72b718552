import {
  GetObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PgferryError } from '../errors.js';
import type { S3Settings } from './s3-settings.js';
import { conditionalFailure, conditionParams, type WriteCondition } from './conditional-write.js';
import { explainS3Error } from './s3-client.js';

export const MANIFEST_SCHEMA = 1;

export interface Verification {
  method: 'list' | 'restore';
  result: 'passed' | 'failed';
  /** list: TOC entries read back; restore: tables and rows compared. */
  tocEntries?: number;
  tables?: number;
  rows?: number;
  detail?: string;
}

/**
 * What pgferry records beside every object it writes (`<key>.json`), so a restore can check it. A
 * `dump --to s3://…` records what it streamed; it reads nothing back, so it has no verification.
 */
export interface ObjectManifest {
  schemaVersion: number;
  database: string;
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
  format: string;
  compression: string;
  archiveVersion?: string;
  serverVersion: string;
  clientVersion: string;
  tier?: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  tocEntries?: number;
  verification?: Verification;
}

/** What a backup run records beside each dump: always a tier and a verification. */
export interface Manifest extends ObjectManifest {
  tier: string;
  verification: Verification;
}

/** `latest.json`: the newest verified backup of a database. Readers never list and sort. */
export interface LatestPointer {
  schemaVersion: number;
  database: string;
  key: string;
  manifest: string;
  sha256: string;
  bytes: number;
  /** When the backup started: the pointer moves only to a backup that started later (older pointers lack it). */
  startedAt?: string;
  finishedAt: string;
}

export async function putJson(
  client: S3Client,
  settings: S3Settings,
  bucket: string,
  key: string,
  value: unknown,
  input: string,
  /** Object tags: a manifest carries its dump's tier, so the lifecycle rule expires both together. */
  tags: Readonly<Record<string, string>> = {},
  /** `If-None-Match: *` or `If-Match: <etag>`; a refusal throws WriteConflictError. */
  condition?: WriteCondition,
): Promise<string | undefined> {
  const tagging = new URLSearchParams(Object.entries(tags)).toString();
  let etag: string | undefined;
  try {
    const put = await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: `${JSON.stringify(value, null, 2)}\n`,
        ContentType: 'application/json',
        ...(tagging ? { Tagging: tagging } : {}),
        ...(settings.sse ? { ServerSideEncryption: settings.sse } : {}),
        ...(settings.kmsKeyId ? { SSEKMSKeyId: settings.kmsKeyId } : {}),
        ...conditionParams(condition),
      }),
    );
    etag = put.ETag;
    // Some S3-compatible stores ignore the Tagging header; the tags are set once more on their own.
    if (tagging) {
      await client.send(
        new PutObjectTaggingCommand({
          Bucket: bucket,
          Key: key,
          Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        }),
      );
    }
  } catch (error) {
    const where = { input, bucket, key, endpoint: settings.endpoint };
    throw conditionalFailure(error, condition, where) ?? explainS3Error(error, where);
  }
  return etag;
}

/** An object that is there but is not JSON (readers say what it should have been). */
export class NotJsonError extends PgferryError {}

/** A JSON object, or undefined when there is no such key. */
export async function getJson<T>(
  client: S3Client,
  bucket: string,
  key: string,
  input: string,
  endpoint?: string,
): Promise<T | undefined> {
  return (await getJsonVersion<T>(client, bucket, key, input, endpoint))?.value;
}

/** A JSON object with the ETag it was read at (for an `If-Match` write), or undefined when absent. */
export async function getJsonVersion<T>(
  client: S3Client,
  bucket: string,
  key: string,
  input: string,
  endpoint?: string,
): Promise<{ value: T; etag: string | undefined } | undefined> {
  const read = await getTextVersion(client, bucket, key, input, endpoint);
  if (!read) return undefined;
  try {
    return { value: JSON.parse(read.text) as T, etag: read.etag };
  } catch {
    throw new NotJsonError(`${input}: s3://${bucket}/${key} is not valid JSON`);
  }
}

/**
 * An object's text with the ETag it was read at, or undefined when there is no such key. With
 * `forbiddenMeansAbsent`, a 403 counts as absent too: without s3:ListBucket that is how S3 answers
 * for a missing key (the caller must then write create-only, which fails if the object exists).
 */
export async function getTextVersion(
  client: S3Client,
  bucket: string,
  key: string,
  input: string,
  endpoint?: string,
  forbiddenMeansAbsent = false,
): Promise<{ text: string; etag: string | undefined } | undefined> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { etag: res.ETag, text: (await res.Body?.transformToString('utf8')) ?? '' };
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NoSuchKey' || e.name === 'NotFound') return undefined;
    const explained = explainS3Error(error, { input, bucket, key, endpoint });
    // Without s3:ListBucket (the scheduled job's role has none), S3 answers 403 for a missing key.
    if (e.$metadata?.httpStatusCode === 403 || e.name === 'AccessDenied') {
      if (forbiddenMeansAbsent) return undefined;
      throw new PgferryError(
        `${explained.message}; without s3:ListBucket S3 also answers this way when the object does not exist`,
      );
    }
    throw explained;
  }
}
