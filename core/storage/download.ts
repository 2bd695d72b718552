import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PgferryError } from '../errors.js';
import { explainS3Error } from './s3-client.js';
import { HashMeter } from './hash-meter.js';

export interface ObjectRef {
  bucket: string;
  key: string;
  input: string;
  endpoint?: string;
}

export async function openObject(
  client: S3Client,
  ref: ObjectRef,
  signal?: AbortSignal,
): Promise<{ body: Readable; bytes?: number }> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }), {
      abortSignal: signal,
    });
    if (!res.Body) throw new PgferryError(`${ref.input}: s3://${ref.bucket}/${ref.key} has no body`);
    return { body: res.Body as Readable, bytes: res.ContentLength };
  } catch (error) {
    if (error instanceof PgferryError) throw error;
    throw explainS3Error(error, ref);
  }
}

/** The bytes read are the bytes the manifest describes, or the restore is refused. */
export function checkDigest(
  ref: ObjectRef,
  actual: { bytes: number; sha256: string },
  expected: { bytes?: number; sha256: string },
): void {
  if ((expected.bytes === undefined || actual.bytes === expected.bytes) && actual.sha256 === expected.sha256)
    return;
  throw new PgferryError(
    `${ref.input}: s3://${ref.bucket}/${ref.key} does not match its manifest: ${actual.bytes} bytes with SHA-256 ${actual.sha256}, the manifest says ${expected.bytes ?? 'some'} bytes with ${expected.sha256}; refusing to restore it`,
    { code: 'integrity' },
  );
}

/**
 * Downloads to a new 0600 file, checking size and SHA-256 on the way when they are known (a backup
 * always has them; a sanitize-SQL asset has none); a mismatch deletes the file.
 */
export async function downloadVerified(
  client: S3Client,
  ref: ObjectRef,
  file: string,
  expected: { bytes?: number; sha256: string } | undefined,
  signal?: AbortSignal,
): Promise<{ bytes: number; sha256: string }> {
  const { body } = await openObject(client, ref, signal);
  const meter = new HashMeter();
  try {
    // The file holds the whole database: readable by its owner only, and never one that was there.
    await pipeline(body, meter, createWriteStream(file, { mode: 0o600, flags: 'wx' }), { signal });
    const actual = { bytes: meter.bytes, sha256: meter.digest() };
    if (expected) checkDigest(ref, actual, expected);
    return actual;
  } catch (error) {
    await rm(file, { force: true });
    throw error instanceof PgferryError ? error : explainS3Error(error, ref);
  }
}
