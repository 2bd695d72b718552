import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
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

function mismatch(ref: ObjectRef, actual: string, expected: string): PgferryError {
  return new PgferryError(
    `${ref.input}: s3://${ref.bucket}/${ref.key} does not match its manifest: SHA-256 is ${actual}, the manifest says ${expected}; refusing to restore it`,
  );
}

/**
 * Passes a download through while holding back its last bytes until the whole object's SHA-256 is
 * known: a restore reading from it cannot finish (and commit) before the checksum has matched.
 */
export class VerifiedTail extends Transform {
  private readonly hash = createHash('sha256');
  private held: Buffer = Buffer.alloc(0);
  bytes = 0;

  constructor(
    private readonly expected: string,
    private readonly ref: ObjectRef,
    private readonly hold = 1024 * 1024,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    const all = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    const release = Math.max(0, all.length - this.hold);
    this.held = Buffer.from(all.subarray(release));
    done(null, release > 0 ? all.subarray(0, release) : undefined);
  }

  override _flush(done: TransformCallback): void {
    const actual = this.hash.digest('hex');
    if (actual !== this.expected) done(mismatch(this.ref, actual, this.expected));
    else done(null, this.held);
  }
}

/** Downloads to a file, checking the SHA-256 on the way; a mismatch deletes the file. */
export async function downloadVerified(
  client: S3Client,
  ref: ObjectRef,
  file: string,
  expectedSha: string | undefined,
  signal?: AbortSignal,
): Promise<{ bytes: number; sha256: string }> {
  const { body } = await openObject(client, ref, signal);
  const meter = new HashMeter();
  try {
    await pipeline(body, meter, createWriteStream(file), { signal });
  } catch (error) {
    await rm(file, { force: true });
    throw error instanceof PgferryError ? error : explainS3Error(error, ref);
  }
  const sha256 = meter.digest();
  if (expectedSha && sha256 !== expectedSha) {
    await rm(file, { force: true });
    throw mismatch(ref, sha256, expectedSha);
  }
  return { bytes: meter.bytes, sha256 };
}
