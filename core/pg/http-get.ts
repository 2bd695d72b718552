import http from 'node:http';
import https from 'node:https';
import { pipeline, Transform, type Readable } from 'node:stream';
import { PgferryError } from '../errors.js';
import { formatBytes, formatMs, type NetworkLimits } from '../network-limits.js';

/**
 * GET over node:http/https with connect, idle and total limits and a size limit, all of them also
 * when the caller passes a cancellation signal. node:http rather than fetch: it is the one HTTP
 * stack every bundle shares with the AWS SDK and @actions/*, and it exposes the connect and idle
 * phases that fetch hides.
 */
export interface HttpGetOptions {
  /** What is fetched, for messages: `postgresql-17.5.0-….tar.gz`. */
  what: string;
  limits: NetworkLimits;
  maxBytes: number;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface HttpGetResponse {
  status: number;
  /** The URL that answered (after redirects), fit for messages. */
  url: string;
  contentLength?: number;
  /**
   * Fails with an HttpGetError when a limit is crossed or the run is cancelled, and with the
   * socket's own error when the connection breaks.
   */
  body: Readable;
}

/** A request stopped by pgferry (a limit, a cancellation); `reason` says which, with its value. */
export class HttpGetError extends PgferryError {
  override readonly name: string = 'HttpGetError';
  constructor(
    what: string,
    url: string,
    readonly reason: string,
  ) {
    super(`download of ${what} from ${url} failed: ${reason}`, { code: 'http' });
  }
}

const MAX_REDIRECTS = 5;

/** A URL for messages: no credentials and no query (a redirect's signed query is a secret). */
export function displayUrl(raw: string | URL): string {
  const url = new URL(String(raw));
  const auth = url.username || url.password ? '***@' : '';
  return `${url.protocol}//${auth}${url.host}${url.pathname}${url.search ? '?…' : ''}`;
}

export function httpGet(rawUrl: string, options: HttpGetOptions): Promise<HttpGetResponse> {
  const { what, limits, maxBytes, signal } = options;
  return new Promise<HttpGetResponse>((resolve, reject) => {
    let current: http.ClientRequest | undefined;
    let response: http.IncomingMessage | undefined;
    let body: Transform | undefined;
    let headers = { ...options.headers };
    let settled = false;
    let finished = false;
    let url = new URL(rawUrl);

    const cleanup = (): void => {
      clearTimeout(totalTimer);
      signal?.removeEventListener('abort', onAbort);
    };
    /** Ends the request in flight, whether or not its answer has started. */
    const stop = (error: Error): void => {
      if (finished) return;
      finished = true;
      cleanup();
      if (!settled) {
        settled = true;
        reject(error);
      }
      // The reader of the body sees this error, not a bare "premature close".
      if (body && !body.destroyed) body.destroy(error);
      if (response && !response.destroyed) response.destroy(error);
      current?.destroy(error);
    };
    const fail = (reason: string): void => stop(new HttpGetError(what, displayUrl(url), reason));

    const totalTimer = setTimeout(
      () => fail(`not finished within ${formatMs(limits.totalMs)} (total time limit)`),
      limits.totalMs,
    );
    const onAbort = (): void => {
      const reason = signal?.reason as Error | undefined;
      fail(`cancelled${reason?.message ? ` (${reason.message})` : ''}`);
    };
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    const request = (redirects: number): void => {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        fail('not an http(s) URL');
        return;
      }
      const secure = url.protocol === 'https:';
      const req = (secure ? https : http).get(url, { headers });
      current = req;
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(
          () => fail(`no connection within ${formatMs(limits.connectMs)} (connect limit)`),
          limits.connectMs,
        );
        socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      // Socket inactivity: before the answer starts (a server that accepts and never answers) and
      // while the body flows.
      req.setTimeout(limits.idleMs, () =>
        fail(`nothing received for ${formatMs(limits.idleMs)} (idle limit)`),
      );
      req.on('error', (error) => {
        if (!(error instanceof HttpGetError)) fail(error.message);
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if ([301, 302, 303, 307, 308].includes(status) && location) {
          res.resume();
          if (redirects >= MAX_REDIRECTS) {
            fail(`more than ${MAX_REDIRECTS} redirects`);
            return;
          }
          const next = new URL(location, url);
          // A token meant for one host never follows a redirect to another.
          if (next.origin !== url.origin) {
            const { authorization: _dropped, ...rest } = headers;
            headers = rest;
          }
          url = next;
          request(redirects + 1);
          return;
        }
        response = res;
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (Number.isFinite(declared) && declared > maxBytes) {
          fail(`it announces ${declared} bytes, more than the ${formatBytes(maxBytes)} size limit`);
          return;
        }
        let received = 0;
        const limiter = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            received += chunk.length;
            if (received <= maxBytes) return done(null, chunk);
            done(
              new HttpGetError(what, displayUrl(url), `more than the ${formatBytes(maxBytes)} size limit`),
            );
          },
        });
        body = limiter;
        // A broken connection reaches the reader as the socket's error (the caller says how many
        // bytes came); only the limits above speak for themselves.
        pipeline(res, limiter, (error) => {
          if (error instanceof HttpGetError) stop(error);
          finished = true;
          cleanup();
        });
        settled = true;
        resolve({
          status,
          url: displayUrl(url),
          ...(Number.isFinite(declared) ? { contentLength: declared } : {}),
          body: limiter,
        });
      });
    };
    request(0);
  });
}

/** The whole body as text (small answers only: the size limit of the request applies). */
export async function readText(res: HttpGetResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
