import type { S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { S3Settings } from '../core/storage/s3-settings.js';
import { downloadVerified } from '../core/storage/download.js';
import { isS3Uri, parseLocation } from '../core/storage/location.js';

/**
 * The sanitize SQL as local files: paths are used as they are (shipped in the bundle or image),
 * `s3://` objects (the construct's asset) are fetched into a temporary directory first.
 */
export async function localSqlFiles(
  locations: readonly string[],
  s3: S3Client,
  settings: S3Settings,
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
      await downloadVerified(
        s3,
        {
          bucket: parsed.bucket,
          key: parsed.key,
          input: 'PGFERRY_SANITIZE_SQL',
          endpoint: settings.endpoint,
        },
        file,
        undefined,
        signal,
      );
      files.push(file);
    }
    return { files, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
