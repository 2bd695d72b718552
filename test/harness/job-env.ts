// The scheduled job's bucket and client variables as every test of the job sets them.
import path from 'node:path';
import { SHARED_CLIENT_CACHE } from './engine.js';
import type { S3TestServer } from './s3.js';
import { mirrorUrl } from './testbed.js';

/** The job's bucket on the test S3 server, under `prefix`. */
export function jobBucketEnv(s3: S3TestServer, bucket: string, prefix: string): Record<string, string> {
  return {
    PGFERRY_BUCKET: bucket,
    PGFERRY_PREFIX: prefix,
    PGFERRY_S3_ENDPOINT: s3.endpoint,
    PGFERRY_S3_REGION: s3.region,
  };
}

/**
 * No layer on this machine: the job provisions its clients from `mirror` into `cacheDir`
 * (by default the test mirror and the shared cache). `scratch` holds the absent layer's path.
 */
export function jobClientsEnv(
  scratch: string,
  mirror: string = mirrorUrl(),
  cacheDir: string = SHARED_CLIENT_CACHE,
): Record<string, string> {
  return {
    PGFERRY_CLIENTS_DIR: path.join(scratch, 'no-layer'),
    PGFERRY_PROVISION: 'true',
    PGFERRY_MIRROR: mirror,
    PGFERRY_CACHE_DIR: cacheDir,
  };
}
