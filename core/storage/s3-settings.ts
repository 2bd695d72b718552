import type { ServerSideEncryption } from '../values.js';

/** How pgferry talks to S3 or an S3-compatible store: the s3-* inputs, parsed. */
export interface S3Settings {
  endpoint?: string;
  region?: string;
  forcePathStyle: boolean;
  sse?: ServerSideEncryption;
  kmsKeyId?: string;
}
