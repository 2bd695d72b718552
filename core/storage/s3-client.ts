import type { S3Client } from '@aws-sdk/client-s3';
import { PgferryError } from '../errors.js';
import { formatMs, networkLimits } from '../network-limits.js';
import { awsSdk } from './aws-sdk.js';
import type { S3Settings } from './s3-settings.js';

/**
 * An S3 client from the `s3-*` inputs; credentials come from the standard AWS chain (environment,
 * profile, web identity — OIDC in Actions — or the task/function role).
 */
export function s3Client(settings: S3Settings, env: NodeJS.ProcessEnv = process.env): S3Client {
  const custom = settings.endpoint !== undefined;
  const limits = networkLimits(env);
  return new (awsSdk().S3Client)({
    region: settings.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(custom ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle || custom,
    // S3-compatible stores often lack the SDK's newer default checksums; AWS itself keeps them.
    ...(custom
      ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
    maxAttempts: 3,
    // A connection that goes silent (an endpoint that died mid-request) must fail the request, not
    // hang the backup: the SDK's default waits forever. socketTimeout is the idle limit (it covers
    // a streamed body too); requestTimeout bounds each request until its answer starts (an upload
    // part's body included) and is an error, not a warning. A whole GetObject body has no total
    // limit: a large restore streams for as long as bytes keep coming.
    requestHandler: {
      connectionTimeout: limits.connectMs,
      socketTimeout: limits.idleMs,
      requestTimeout: limits.totalMs,
      throwOnRequestTimeout: true,
    },
  });
}

interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: { code?: string };
}

/** Turns an SDK error into a message that says which input, which bucket or key, and what to do. */
export function explainS3Error(
  error: unknown,
  where: { input: string; bucket: string; key?: string; endpoint?: string },
): PgferryError {
  const e = error as AwsErrorShape;
  const name = e.name ?? e.code ?? '';
  const code = e.code ?? e.cause?.code ?? '';
  const object = `s3://${where.bucket}/${where.key ?? ''}`;
  const status = e.$metadata?.httpStatusCode;
  if (name === 'NoSuchBucket')
    return new PgferryError(`${where.input}: bucket "${where.bucket}" does not exist`, { code: 'not-found' });
  if (name === 'NoSuchKey' || (name === 'NotFound' && where.key))
    return new PgferryError(`${where.input}: ${object} does not exist`, { code: 'not-found' });
  if (
    ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'Forbidden', 'ExpiredToken'].includes(
      name,
    ) ||
    status === 403
  ) {
    return new PgferryError(
      `${where.input}: S3 refused access to ${object} (${name || status}); check the AWS credentials and their permissions`,
      { code: 'access' },
    );
  }
  if (name === 'CredentialsProviderError') {
    return new PgferryError(
      `${where.input}: no AWS credentials found for ${object}; set them in the environment, a profile or a role`,
      { code: 'access' },
    );
  }
  if (name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'TimeoutError') {
    const limits = networkLimits();
    return new PgferryError(
      `${where.input}: S3 request for ${object}${where.endpoint ? ` at ${where.endpoint}` : ''} failed: timed out (limits: connect ${formatMs(limits.connectMs)}, idle ${formatMs(limits.idleMs)}, answer ${formatMs(limits.totalMs)}): ${e.message ?? name}`,
      { code: 'network' },
    );
  }
  if (
    ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code) ||
    /ECONNREFUSED|ENOTFOUND|socket hang up/.test(e.message ?? '')
  ) {
    return new PgferryError(
      `${where.input}: cannot reach the S3 endpoint${where.endpoint ? ` ${where.endpoint}` : ''} for ${object} (${code || e.message})`,
      { code: 'network' },
    );
  }
  if (name === 'AbortError')
    return new PgferryError(`${where.input}: the transfer of ${object} was cancelled`, { code: 'cancelled' });
  return new PgferryError(
    `${where.input}: S3 request for ${object} failed: ${name ? `${name}: ` : ''}${e.message ?? String(error)}`,
  );
}
