import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { PgferryError } from '../errors.js';
import { conditionalFailure, conditionParams, type WriteCondition } from './conditional-write.js';
import { saveVerified, type Digest } from './download.js';
import { awsSdk, loadAwsSdk } from './aws-sdk.js';
import { explainS3Error, s3Client } from './s3-client.js';
import type { S3Settings } from './s3-settings.js';
import type { Attestation } from './store-proof.js';
import { GatedUpload, type UploadOptions } from './upload.js';

/** An object that is there but is not JSON (readers say what it should have been). */
export class NotJsonError extends PgferryError {}

/** A read's text with the ETag it was read at (for an `If-Match` write). */
export interface TextVersion {
  text: string;
  etag: string | undefined;
}

/** S3's answer "forbidden", which without s3:ListBucket is also its answer for a missing key. */
function isForbidden(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.$metadata?.httpStatusCode === 403 || e.name === 'AccessDenied';
}

/**
 * One bucket on one S3 (or S3-compatible) store, with the client and the `s3-*` settings that reach
 * it: every read and write pgferry makes there, with its SSE, checksum and condition headers, and
 * its errors explained. Each call names the input the caller wrote, for messages.
 */
export class S3Bucket {
  constructor(
    readonly client: S3Client,
    readonly settings: S3Settings,
    readonly name: string,
  ) {}

  /**
   * A bucket reached through a new client made from the settings (credentials: the AWS chain); the
   * AWS SDK is loaded here, the first time a run needs S3.
   */
  static async open(
    settings: S3Settings,
    name: string,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<S3Bucket> {
    await loadAwsSdk();
    return new S3Bucket(s3Client(settings, env), settings, name);
  }

  /** Another bucket on the same store, through the same client. */
  sibling(name: string): S3Bucket {
    return new S3Bucket(this.client, this.settings, name);
  }

  /** `s3://bucket/key`, as messages and reports name an object. */
  uri(key: string): string {
    return `s3://${this.name}/${key}`;
  }

  /** Where a request went, as explainS3Error and conditionalFailure name it. */
  where(key: string, input: string): { input: string; bucket: string; key: string; endpoint?: string } {
    return { input, bucket: this.name, key, endpoint: this.settings.endpoint };
  }

  /**
   * An object's text with the ETag it was read at, or undefined when there is no such key. With
   * `forbiddenMeansAbsent`, a 403 counts as absent too: without s3:ListBucket that is how S3 answers
   * for a missing key (the caller must then write create-only, which fails if the object exists).
   */
  async getTextVersion(
    key: string,
    input: string,
    forbiddenMeansAbsent = false,
  ): Promise<TextVersion | undefined> {
    try {
      const res = await this.client.send(new (awsSdk().GetObjectCommand)({ Bucket: this.name, Key: key }));
      return { etag: res.ETag, text: (await res.Body?.transformToString('utf8')) ?? '' };
    } catch (error) {
      const e = error as { name?: string };
      if (e.name === 'NoSuchKey' || e.name === 'NotFound') return undefined;
      const explained = explainS3Error(error, this.where(key, input));
      // Without s3:ListBucket (the scheduled job's role has none), S3 answers 403 for a missing key.
      if (isForbidden(error)) {
        if (forbiddenMeansAbsent) return undefined;
        throw new PgferryError(
          `${explained.message}; without s3:ListBucket S3 also answers this way when the object does not exist`,
        );
      }
      throw explained;
    }
  }

  /** A JSON object with the ETag it was read at, or undefined when absent. */
  async getJsonVersion<T>(
    key: string,
    input: string,
  ): Promise<{ value: T; etag: string | undefined } | undefined> {
    const read = await this.getTextVersion(key, input);
    if (!read) return undefined;
    try {
      return { value: JSON.parse(read.text) as T, etag: read.etag };
    } catch {
      throw new NotJsonError(`${input}: ${this.uri(key)} is not valid JSON`);
    }
  }

  /** A JSON object, or undefined when there is no such key. */
  async getJson<T>(key: string, input: string): Promise<T | undefined> {
    return (await this.getJsonVersion<T>(key, input))?.value;
  }

  /** Whether S3 answers 403 to reading the object (any other answer: false). */
  async refusesRead(key: string): Promise<boolean> {
    try {
      const res = await this.client.send(new (awsSdk().GetObjectCommand)({ Bucket: this.name, Key: key }));
      await res.Body?.transformToString();
      return false;
    } catch (error) {
      return isForbidden(error);
    }
  }

  /**
   * Writes `value` as JSON, encrypted as the settings say, and returns its ETag. `tags`: a manifest
   * carries its dump's tier, so the lifecycle rule expires both together. `condition`:
   * `If-None-Match: *` or `If-Match: <etag>`; a refusal throws WriteConflictError.
   */
  async putJson(
    key: string,
    value: unknown,
    input: string,
    { tags = {}, condition }: { tags?: Readonly<Record<string, string>>; condition?: WriteCondition } = {},
  ): Promise<string | undefined> {
    const tagging = new URLSearchParams(Object.entries(tags)).toString();
    try {
      const put = await this.client.send(
        new (awsSdk().PutObjectCommand)({
          Bucket: this.name,
          Key: key,
          Body: `${JSON.stringify(value, null, 2)}\n`,
          ContentType: 'application/json',
          ...(tagging ? { Tagging: tagging } : {}),
          ...this.encryption(),
          ...conditionParams(condition),
        }),
      );
      // Some S3-compatible stores ignore the Tagging header; the tags are set once more on their own.
      if (tagging) {
        await this.client.send(
          new (awsSdk().PutObjectTaggingCommand)({
            Bucket: this.name,
            Key: key,
            Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
          }),
        );
      }
      return put.ETag;
    } catch (error) {
      const where = this.where(key, input);
      throw conditionalFailure(error, condition, where) ?? explainS3Error(error, where);
    }
  }

  /** Replaces the object's tag set (s3:PutObjectTagging, which the writer role has). */
  async putTags(key: string, tags: Readonly<Record<string, string>>, input: string): Promise<void> {
    try {
      await this.client.send(
        new (awsSdk().PutObjectTaggingCommand)({
          Bucket: this.name,
          Key: key,
          Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        }),
      );
    } catch (error) {
      throw explainS3Error(error, this.where(key, input));
    }
  }

  /** The SSE headers every write carries, from the settings. */
  encryption(): { ServerSideEncryption?: S3Settings['sse']; SSEKMSKeyId?: string } {
    return {
      ...(this.settings.sse ? { ServerSideEncryption: this.settings.sse } : {}),
      ...(this.settings.kmsKeyId ? { SSEKMSKeyId: this.settings.kmsKeyId } : {}),
    };
  }

  /** The stored object's size, or undefined when there is no such object. */
  async size(key: string, input: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new (awsSdk().HeadObjectCommand)({ Bucket: this.name, Key: key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404)
        return undefined;
      throw explainS3Error(error, this.where(key, input));
    }
  }

  /**
   * Which digests an upload here computes for its store proof (store-proof.ts): AWS attests a
   * full-object CRC64NVME (asked for on upload); S3-compatible stores attest an MD5 ETag.
   */
  proofMode(): 'crc64nvme' | 'md5' {
    return this.settings.endpoint ? 'md5' : 'crc64nvme';
  }

  /** An SSE-KMS ETag is no MD5 of the bytes (the CRC or a read-back proves those objects). */
  attested(a: Attestation): Attestation {
    return this.settings.sse === 'aws:kms' ? { ...a, etagNotMd5: true } : a;
  }

  /** What the store attests of the object now: size, ETag and (AWS) full-object checksum. */
  async attestation(key: string, input: string): Promise<Attestation> {
    try {
      const head = await this.client.send(
        new (awsSdk().HeadObjectCommand)({ Bucket: this.name, Key: key, ChecksumMode: 'ENABLED' }),
      );
      return this.attested({
        bytes: head.ContentLength,
        etag: head.ETag,
        ...(head.ChecksumCRC64NVME ? { crc64nvme: head.ChecksumCRC64NVME } : {}),
      });
    } catch (error) {
      throw explainS3Error(error, this.where(key, input));
    }
  }

  /**
   * Bytes `start` to `start + length - 1` (fewer at the end) of the object as it is at `etag`:
   * `If-Match` makes the store refuse another version, and the answer's own ETag is checked too,
   * for stores that ignore the header.
   */
  async readRange(
    key: string,
    input: string,
    range: { start: number; length: number; etag: string },
  ): Promise<Buffer> {
    try {
      const res = await this.client.send(
        new (awsSdk().GetObjectCommand)({
          Bucket: this.name,
          Key: key,
          Range: `bytes=${range.start}-${range.start + range.length - 1}`,
          IfMatch: range.etag,
        }),
      );
      const bytes = Buffer.from((await res.Body?.transformToByteArray()) ?? []);
      if (res.ETag !== range.etag)
        throw new PgferryError(
          `${input}: ${this.uri(key)} changed while it was read back: its ETag is ${res.ETag ?? 'none'}, expected ${range.etag}`,
          { code: 'integrity' },
        );
      return bytes;
    } catch (error) {
      if (error instanceof PgferryError) throw error;
      throw explainS3Error(error, this.where(key, input));
    }
  }

  /** The object's body as a stream (and its length, when the store says). */
  async open(key: string, input: string, signal?: AbortSignal): Promise<{ body: Readable; bytes?: number }> {
    try {
      const res = await this.client.send(new (awsSdk().GetObjectCommand)({ Bucket: this.name, Key: key }), {
        abortSignal: signal,
      });
      if (!res.Body) throw new PgferryError(`${input}: ${this.uri(key)} has no body`);
      return { body: res.Body as Readable, bytes: res.ContentLength };
    } catch (error) {
      if (error instanceof PgferryError) throw error;
      throw explainS3Error(error, this.where(key, input));
    }
  }

  /**
   * Downloads to a new 0600 file, checking size and SHA-256 on the way when they are known (a backup
   * always has them; a sanitize-SQL asset has none); a mismatch deletes the file.
   */
  async download(
    key: string,
    input: string,
    file: string,
    expected: { bytes?: number; sha256: string } | undefined,
    signal?: AbortSignal,
  ): Promise<Digest> {
    const { body } = await this.open(key, input, signal);
    return saveVerified(body, file, { input, uri: this.uri(key), expected, signal }).catch(
      (error: unknown) => {
        throw error instanceof PgferryError ? error : explainS3Error(error, this.where(key, input));
      },
    );
  }

  /** A multipart upload to `key` that completes only on commit() (upload.ts). */
  upload(key: string, input: string, options: UploadOptions = {}): GatedUpload {
    return new GatedUpload(this, key, input, options);
  }
}
