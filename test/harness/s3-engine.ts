import type { BackupOptions } from '../../core/jobs/backup.js';
import { RecordingLogger } from '../../core/log.js';
import type { S3Settings } from '../../core/storage/s3-settings.js';
import { parseConnection } from '../../core/pg/connection.js';
import { loadAwsSdk } from '../../core/storage/aws-sdk.js';
import { S3Bucket } from '../../core/storage/s3-bucket.js';
import { s3Client } from '../../core/storage/s3-client.js';
import { catalog } from './engine.js';
import type { S3TestServer } from './s3.js';
import { connUrl } from './testbed.js';

/** The `s3-*` settings a user would give for this server. */
export function s3Settings(s3: S3TestServer): S3Settings {
  return { endpoint: s3.endpoint, region: s3.region, forcePathStyle: true };
}

// Loaded once for every test that imports this harness, so that s3Bucket can stay synchronous.
await loadAwsSdk();

/**
 * `name` on this server, reached as pgferry reaches a bucket (credentials: the AWS environment);
 * S3Bucket.open without the await.
 */
export function s3Bucket(s3: S3TestServer, name: string, settings: S3Settings = s3Settings(s3)): S3Bucket {
  return new S3Bucket(s3Client(settings), settings, name);
}

/** The credentials reach pgferry the standard way: the AWS environment variables. */
export function s3Env(
  s3: S3TestServer,
  overrides: { accessKeyId?: string; secretAccessKey?: string } = {},
): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: overrides.accessKeyId ?? s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: overrides.secretAccessKey ?? s3.secretAccessKey,
    AWS_REGION: s3.region,
  };
}

/** Runs `work` with these variables in this process's environment, then puts the old ones back. */
export async function withEnv<T>(vars: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await work();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A backup of a database on server 17 to `s3://bucket/prefix/`, with the defaults a user gets. */
export function backupOptionsFor(
  s3: S3TestServer,
  bucket: string,
  prefix: string,
  db: string,
  extra: Partial<BackupOptions> = {},
): BackupOptions {
  const log = new RecordingLogger();
  return {
    from: parseConnection(connUrl(17, db), 'from', {}),
    bucket: s3Bucket(s3, bucket),
    prefix,
    verify: 'list',
    compress: 'auto',
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
    ...extra,
  };
}
