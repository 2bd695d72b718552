import type { Upload } from '@aws-sdk/lib-storage';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { KnockOnError } from '../pg/run.js';
import { conditionalFailure, CREATE_ONLY, type WriteCondition } from './conditional-write.js';
import { awsSdk } from './aws-sdk.js';
import { explainS3Error } from './s3-client.js';
import type { S3Bucket } from './s3-bucket.js';
import type { Attestation } from './store-proof.js';

const MIB = 1024 * 1024;
/** S3 allows 10,000 parts of at most 5 GiB; objects reach 5 TiB. */
const MAX_PARTS = 10_000;
const MAX_PART = 5 * 1024 * MIB;
const MIN_PART = 8 * MIB;

/**
 * Part size for an object of about `expectedBytes`: large enough that 10,000 parts hold twice that
 * (a dump can outgrow the estimate), so an object can grow to S3's 5 TiB limit; 8 MiB at least.
 */
export function partSizeFor(expectedBytes: number | undefined): number {
  const wanted = Math.ceil(((expectedBytes ?? 0) * 2) / MAX_PARTS / MIB) * MIB;
  return Math.min(MAX_PART, Math.max(MIN_PART, wanted));
}

/** Parts in flight: memory stays at most queue × part size. */
export function queueSizeFor(partSize: number): number {
  return partSize >= 64 * MIB ? 2 : 4;
}

export interface UploadOptions {
  expectedBytes?: number;
  tags?: Record<string, string>;
  contentType?: string;
  /**
   * Parts in flight at most (default by part size): uploads running side by side share one budget,
   * so a sharded backup's memory stays what one object's would be.
   */
  partsInFlight?: number;
  /**
   * `If-None-Match: *` on the final write (PutObject for one part, CompleteMultipartUpload for
   * more; lib-storage passes the parameter to both): the object never replaces one already there.
   */
  createOnly?: boolean;
}

/**
 * A multipart upload whose body ends only when `commit()` is called. The producer (pg_dump) writes
 * into `body`; until commit S3 has at most uploaded parts, never an object at the key. `abort()`
 * cancels it: nothing appears, whatever the store does with the unfinished parts.
 */
export class GatedUpload {
  readonly body = new PassThrough();
  private readonly gate = new PassThrough();
  private readonly upload: Upload;
  private readonly done: Promise<{ ETag?: string; ChecksumCRC64NVME?: string }>;
  readonly partSize: number;
  private readonly condition: WriteCondition | undefined;

  /** Made by S3Bucket.upload. */
  constructor(
    private readonly bucket: S3Bucket,
    private readonly key: string,
    private readonly input: string,
    options: UploadOptions,
  ) {
    this.partSize = partSizeFor(options.expectedBytes);
    this.condition = options.createOnly ? CREATE_ONLY : undefined;
    this.body.pipe(this.gate, { end: false });
    this.upload = new (awsSdk().Upload)({
      client: bucket.client,
      params: {
        Bucket: bucket.name,
        Key: key,
        Body: this.gate,
        ContentType: options.contentType ?? 'application/octet-stream',
        ...bucket.encryption(),
        ...(options.createOnly ? { IfNoneMatch: '*' } : {}),
        // AWS computes a full-object checksum; S3-compatible stores may not know the header.
        ...(bucket.settings.endpoint ? {} : { ChecksumAlgorithm: 'CRC64NVME' as const }),
      },
      tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      partSize: this.partSize,
      queueSize: options.partsInFlight ?? queueSizeFor(this.partSize),
      leavePartsOnError: false,
    });
    this.done = this.upload.done();
    // Reported through result(); never an unhandled rejection.
    this.done.catch(() => {});
  }

  private explain(error: unknown): Error {
    const where = this.bucket.where(this.key, this.input);
    return conditionalFailure(error, this.condition, where) ?? explainS3Error(error, where);
  }

  /** Settles when the upload fails (for stopping the producer early); never when it succeeds. */
  failure(): Promise<never> {
    return this.done.then(
      () => new Promise<never>(() => {}),
      (error: unknown) => Promise.reject(this.explain(error)),
    );
  }

  /**
   * The producer exited 0 and its output ended: let the upload finish and the object appear.
   * Returns what the store answered of the object it made (ETag, full-object CRC on AWS).
   */
  async commit(): Promise<Attestation> {
    // The upload may fail while the last bytes still wait for it: then they never drain.
    await Promise.race([finished(this.body), this.failure()]);
    this.gate.end();
    try {
      const answer = await this.done;
      return { etag: answer.ETag, crc64nvme: answer.ChecksumCRC64NVME };
    } catch (error) {
      throw this.explain(error);
    }
  }

  async abort(reason: unknown): Promise<void> {
    this.body.unpipe(this.gate);
    this.gate.destroy(reason instanceof Error ? reason : new KnockOnError(String(reason)));
    await this.upload.abort().catch(() => {});
    await this.done.catch(() => {});
  }
}
