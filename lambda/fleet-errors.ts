import { ConnectionError } from '../core/pg/server.js';

/**
 * How a unit fails, by the error's `name`: Lambda reports it as the error type and Step Functions
 * retries or catches on it. Only `PgferryRetryable` is ever retried.
 */
export type UnitErrorName = 'PgferryRetryable' | 'PgferryFailed' | 'PgferryWontFit';

export class UnitError extends Error {
  constructor(
    override readonly name: UnitErrorName,
    message: string,
    readonly unit: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Socket-level failures that say nothing about the server's will: a later attempt may get through. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  // cannot_connect_now (starting up, shutting down, in recovery) and too_many_connections.
  '57P03',
  '53300',
]);

/** AWS SDK errors (Secrets Manager) that its own retries gave up on but a later attempt may pass. */
const TRANSIENT_AWS = new Set([
  'TimeoutError',
  'ThrottlingException',
  'InternalServiceError',
  'ServiceUnavailable',
  'RequestTimeout',
  'NetworkingError',
]);

function transientCause(error: unknown): boolean {
  for (let e = error as { name?: string; code?: string; cause?: unknown } | undefined; e;) {
    if (e instanceof ConnectionError) return TRANSIENT_CODES.has(e.sqlState ?? '');
    if (TRANSIENT_CODES.has(e.code ?? '') || TRANSIENT_AWS.has(e.name ?? '')) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/**
 * A failure before the dump started — no upload part can have completed — that can pass on its own
 * (connection refused, a timed-out connect or login, a throttled secret read) is retryable; a wrong
 * password, a missing database or secret would fail the same way again, and anything after the dump
 * started is never retried: a retry must not race or be mistaken for a partial upload.
 */
export function classifyFailure(unit: string, error: unknown, beforeDump: boolean): UnitError {
  if (error instanceof UnitError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const name = beforeDump && transientCause(error) ? 'PgferryRetryable' : 'PgferryFailed';
  return new UnitError(name, `${unit}: ${message}`, unit, { cause: error });
}
