import { parseToc, type TocEntry } from '../pg/archive-toc.js';
import { OutOfBytes } from '../pg/archive/header-reader.js';
import type { S3Bucket } from '../storage/s3-bucket.js';

/** The first read of an object's front; a custom archive's header and TOC often fit in it. */
const FIRST_FRONT = 64 * 1024;

/**
 * The front of a stored custom archive, read in ranges of one version of it (`If-Match` on `etag`)
 * that double from 64 KiB until its table of contents parses: an archive pg_dump streamed has its
 * header and TOC before any data. Undefined when the object ends inside its TOC.
 */
export async function readArchiveFront(
  bucket: S3Bucket,
  object: { key: string; bytes: number; input: string },
  etag: string,
): Promise<{ front: Buffer; entries: TocEntry[] } | undefined> {
  let front = Buffer.alloc(0);
  if (object.bytes === 0) return undefined;
  for (let want = FIRST_FRONT; ; want *= 2) {
    const length = Math.min(want, object.bytes) - front.length;
    const more = await bucket.readRange(object.key, object.input, { start: front.length, length, etag });
    front = Buffer.concat([front, more]);
    try {
      return { front, entries: parseToc(front, 'custom', bucket.uri(object.key)) };
    } catch (error) {
      if (!(error instanceof OutOfBytes)) throw error;
      if (front.length >= object.bytes || more.length < length) return undefined;
    }
  }
}
