import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isS3Uri, parseLocation } from '../core/storage/location.js';
import type { S3Bucket } from '../core/storage/s3-bucket.js';

/**
 * The sanitize SQL as local files: paths are used as they are (shipped in the bundle or image),
 * `s3://` objects (the construct's asset) are fetched into a temporary directory first, through the
 * job's own store (`store`: its client and settings; an asset may sit in another bucket there).
 */
export async function localSqlFiles(
  locations: readonly string[],
  store: S3Bucket,
  signal?: AbortSignal,
): Promise<{ files: string[]; cleanup: () => Promise<void> }> {
  if (!locations.some(isS3Uri)) return { files: [...locations], cleanup: async () => {} };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-sanitize-'));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const files: string[] = [];
    for (const [index, location] of locations.entries()) {
      const parsed = parseLocation(location, 'PGFERRY_SANITIZE_SQL');
      if (parsed.kind === 'file') {
        files.push(parsed.path);
        continue;
      }
      const file = path.join(dir, `${index}-${path.basename(parsed.key)}`);
      await store
        .sibling(parsed.bucket)
        .download(parsed.key, 'PGFERRY_SANITIZE_SQL', file, undefined, signal);
      files.push(file);
    }
    return { files, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
