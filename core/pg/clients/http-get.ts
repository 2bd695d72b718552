import http from 'node:http';
import https from 'node:https';
import { pipeline, Transform, type Readable } from 'node:stream';
import { PgferryError } from '../../errors.js';
import { formatMs, type NetworkLimits } from '../../network-limits.js';
import { formatSize } from '../../sizes.js';

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
  return new Promise<HttpGetResponse>((resolve, reject) => {
    new HttpGetRun(new URL(rawUrl), options, resolve, reject).start();
  });
}

const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

/** One GET and the redirects it follows, under one set of limits: the first failure ends it. */
class HttpGetRun {
  private current: http.ClientRequest | undefined;
  private response: http.IncomingMessage | undefined;
  private body: Transform | undefined;
  private headers: Record<string, string>;
  /** Whether the caller's promise was resolved or rejected. */
  private settled = false;
  /** Whether the request is over: stopped, or its body done. */
  private finished = false;
  private totalTimer: NodeJS.Timeout | undefined;

  constructor(
    private url: URL,
    private readonly options: HttpGetOptions,
    private readonly resolve: (response: HttpGetResponse) => void,
    private readonly reject: (error: Error) => void,
  ) {
    this.headers = { ...options.headers };
  }

  start(): void {
    const { limits, signal } = this.options;
    this.totalTimer = setTimeout(
      () => this.fail(`not finished within ${formatMs(limits.totalMs)} (total time limit)`),
      limits.totalMs,
    );
    if (signal?.aborted) {
      this.onAbort();
      return;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    this.request(0);
  }

  private readonly onAbort = (): void => {
    const reason = this.options.signal?.reason as Error | undefined;
    this.fail(`cancelled${reason?.message ? ` (${reason.message})` : ''}`);
  };

  private cleanup(): void {
    clearTimeout(this.totalTimer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }

  /** Ends the request in flight, whether or not its answer has started. */
  private stop(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.cleanup();
    if (!this.settled) {
      this.settled = true;
      this.reject(error);
    }
    // The reader of the body sees this error, not a bare "premature close".
    if (this.body && !this.body.destroyed) this.body.destroy(error);
    if (this.response && !this.response.destroyed) this.response.destroy(error);
    this.current?.destroy(error);
  }

  private fail(reason: string): void {
    this.stop(this.error(reason));
  }

  private error(reason: string): HttpGetError {
    return new HttpGetError(this.options.what, displayUrl(this.url), reason);
  }

  private request(redirects: number): void {
    const { limits } = this.options;
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') {
      this.fail('not an http(s) URL');
      return;
    }
    const secure = this.url.protocol === 'https:';
    const req = (secure ? https : http).get(this.url, { headers: this.headers });
    this.current = req;
    this.limitConnect(req, secure);
    // Socket inactivity: before the answer starts (a server that accepts and never answers) and
    // while the body flows.
    req.setTimeout(limits.idleMs, () =>
      this.fail(`nothing received for ${formatMs(limits.idleMs)} (idle limit)`),
    );
    req.on('error', (error) => {
      if (!(error instanceof HttpGetError)) this.fail(error.message);
    });
    req.on('response', (res) => this.answered(res, redirects));
  }

  /** The connect limit, for a socket that is new (a reused one is connected already). */
  private limitConnect(req: http.ClientRequest, secure: boolean): void {
    const { connectMs } = this.options.limits;
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(
        () => this.fail(`no connection within ${formatMs(connectMs)} (connect limit)`),
        connectMs,
      );
      socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
  }

  private answered(res: http.IncomingMessage, redirects: number): void {
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (REDIRECT_STATUSES.includes(status) && location) {
      res.resume();
      this.redirect(location, redirects);
      return;
    }
    this.response = res;
    const declared = Number(res.headers['content-length'] ?? NaN);
    const { maxBytes } = this.options;
    if (Number.isFinite(declared) && declared > maxBytes) {
      this.fail(`it announces ${declared} bytes, more than the ${formatSize(maxBytes)} size limit`);
      return;
    }
    const body = this.limitBody(res);
    this.settled = true;
    this.resolve({
      status,
      url: displayUrl(this.url),
      ...(Number.isFinite(declared) ? { contentLength: declared } : {}),
      body,
    });
  }

  private redirect(location: string, redirects: number): void {
    if (redirects >= MAX_REDIRECTS) {
      this.fail(`more than ${MAX_REDIRECTS} redirects`);
      return;
    }
    const next = new URL(location, this.url);
    // A token meant for one host never follows a redirect to another.
    if (next.origin !== this.url.origin) {
      const { authorization: _dropped, ...rest } = this.headers;
      this.headers = rest;
    }
    this.url = next;
    this.request(redirects + 1);
  }

  /** The body as the caller reads it: cut, with an HttpGetError, at the size limit. */
  private limitBody(res: http.IncomingMessage): Transform {
    const { maxBytes } = this.options;
    let received = 0;
    const limiter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        received += chunk.length;
        if (received <= maxBytes) return done(null, chunk);
        done(this.error(`more than the ${formatSize(maxBytes)} size limit`));
      },
    });
    this.body = limiter;
    // A broken connection reaches the reader as the socket's error (the caller says how many
    // bytes came); only the limits above speak for themselves.
    pipeline(res, limiter, (error) => {
      if (error instanceof HttpGetError) this.stop(error);
      this.finished = true;
      this.cleanup();
    });
    return limiter;
  }
}

/** The whole body as text (small answers only: the size limit of the request applies). */
export async function readText(res: HttpGetResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
