import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PgferryError } from '../errors.js';
import { HashMeter } from './hash-meter.js';

export interface Digest {
  bytes: number;
  sha256: string;
}

/** The object read: `uri` as messages name it, and the input the caller named it by. */
export interface ReadObject {
  input: string;
  uri: string;
}

/** The bytes read are the bytes the manifest describes, or the restore is refused. */
export function checkDigest(
  object: ReadObject,
  actual: Digest,
  expected: { bytes?: number; sha256: string },
): void {
  if ((expected.bytes === undefined || actual.bytes === expected.bytes) && actual.sha256 === expected.sha256)
    return;
  throw new PgferryError(
    `${object.input}: ${object.uri} does not match its manifest: ${actual.bytes} bytes with SHA-256 ${actual.sha256}, the manifest says ${expected.bytes ?? 'some'} bytes with ${expected.sha256}; refusing to restore it`,
    { code: 'integrity' },
  );
}

/**
 * An object's body into a new 0600 file, hashed on the way and checked against `expected` when
 * given; on any failure the file is deleted and the error rethrown as it came (S3Bucket.download
 * explains the store's).
 */
export async function saveVerified(
  body: Readable,
  file: string,
  o: ReadObject & { expected: { bytes?: number; sha256: string } | undefined; signal?: AbortSignal },
): Promise<Digest> {
  const meter = new HashMeter();
  try {
    // The file holds the whole database: readable by its owner only, and never one that was there.
    await pipeline(body, meter, createWriteStream(file, { mode: 0o600, flags: 'wx' }), { signal: o.signal });
    const actual = { bytes: meter.bytes, sha256: meter.digest() };
    if (o.expected) checkDigest(o, actual, o.expected);
    return actual;
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
}
