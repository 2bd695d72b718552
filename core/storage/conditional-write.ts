import { PgferryError } from '../errors.js';

/**
 * S3 conditional writes: `If-None-Match: *` (create, never replace) and `If-Match: <etag>` (replace
 * only the version that was read). AWS S3, MinIO, R2 and others enforce them; some stores ignore the
 * headers (then the write simply happens), a few refuse them.
 */
export type WriteCondition = { ifNoneMatch: '*' } | { ifMatch: string };

export const CREATE_ONLY: WriteCondition = { ifNoneMatch: '*' };

export function conditionParams(c: WriteCondition | undefined): { IfNoneMatch?: string; IfMatch?: string } {
  if (!c) return {};
  return 'ifMatch' in c ? { IfMatch: c.ifMatch } : { IfNoneMatch: c.ifNoneMatch };
}

export function describeCondition(c: WriteCondition): string {
  return 'ifMatch' in c ? `If-Match: ${c.ifMatch}` : 'If-None-Match: *';
}

/** The store said no to the condition: the object exists, changed, or another write got there first. */
export class WriteConflictError extends PgferryError {
  override readonly name: string = 'WriteConflictError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'conflict' });
  }
}

/** The store does not accept conditional writes at all. */
export class ConditionalWriteRefused extends PgferryError {
  override readonly name: string = 'ConditionalWriteRefused';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'refused' });
  }
}

interface AwsErrorShape {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * What a failed conditional write means, or undefined when the failure has nothing to do with the
 * condition. 412 is the documented answer; 409 ConditionalRequestConflict is what S3 answers to a
 * concurrent conditional write; a 404 to If-Match means the version we read is gone.
 */
export function conditionalFailure(
  error: unknown,
  condition: WriteCondition | undefined,
  where: { input: string; bucket: string; key: string; endpoint?: string },
): PgferryError | undefined {
  if (!condition) return undefined;
  const e = error as AwsErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? e.Code ?? '';
  const object = `s3://${where.bucket}/${where.key}`;
  const sent = describeCondition(condition);
  const answer = `${status ?? '?'}${name ? ` ${name}` : ''}`;
  if (status === 412 || name === 'PreconditionFailed') {
    return new WriteConflictError(
      'ifMatch' in condition
        ? `${where.input}: ${object} changed since pgferry read it (the store answered ${answer} to ${sent})`
        : `${where.input}: ${object} already exists, and pgferry never replaces an object it did not read (the store answered ${answer} to ${sent})`,
    );
  }
  if (status === 409 || name === 'ConditionalRequestConflict') {
    return new WriteConflictError(
      `${where.input}: another write to ${object} was in progress (the store answered ${answer} to ${sent})`,
    );
  }
  if ('ifMatch' in condition && (status === 404 || name === 'NoSuchKey')) {
    return new WriteConflictError(
      `${where.input}: ${object} disappeared since pgferry read it (the store answered ${answer} to ${sent})`,
    );
  }
  const aboutHeaders = /if-none-match|if-match|conditional|precondition/i.test(`${name} ${e.message ?? ''}`);
  if (status === 501 || name === 'NotImplemented' || (status === 400 && aboutHeaders)) {
    return new ConditionalWriteRefused(
      `${where.input}: the S3 store${where.endpoint ? ` at ${where.endpoint}` : ''} refused the conditional write of ${object} (it answered ${answer} to ${sent}); pgferry writes backups only with S3 conditional writes, so that one backup can never replace another. Use a store that supports them`,
    );
  }
  return undefined;
}
