import { DEFAULT_NETWORK_LIMITS, type NetworkLimits } from '../../core/network-limits.js';
import { httpGet, HttpGetError, readText } from '../../core/pg/clients/http-get.js';
import { failureOf } from '../harness/failure.js';
import { startUnacceptingPort } from '../harness/unaccepting-port.js';
import { serveLoopback } from '../harness/loopback-http.js';

/** Attacks on the one GET every provisioning request goes through, against loopback servers. */
const LIMITS: NetworkLimits = { ...DEFAULT_NETWORK_LIMITS, connectMs: 1500, idleMs: 2000, totalMs: 6000 };

interface Seen {
  path: string;
  authorization?: string;
}

describe('httpGet', () => {
  it('a token follows a redirect on the same origin and never one to another host', async () => {
    const seen: Seen[] = [];
    const other = await serveLoopback((req, res) => {
      seen.push({ path: `other${req.url}`, authorization: req.headers.authorization });
      res.end('[]');
    });
    const first = await serveLoopback((req, res) => {
      seen.push({ path: `first${req.url}`, authorization: req.headers.authorization });
      if (req.url === '/a') res.writeHead(302, { location: '/b' }).end();
      else res.writeHead(307, { location: `${other.url}/c?X-Amz-Signature=secret` }).end();
    });
    try {
      const res = await httpGet(`${first.url}/a`, {
        what: 'list',
        limits: LIMITS,
        maxBytes: 1024,
        headers: { authorization: 'Bearer ghs_token' },
      });
      expect(await readText(res)).toBe('[]');
      expect(res.url).toBe(`${other.url}/c?…`);
      expect(seen).toEqual([
        { path: 'first/a', authorization: 'Bearer ghs_token' },
        { path: 'first/b', authorization: 'Bearer ghs_token' },
        { path: 'other/c?X-Amz-Signature=secret', authorization: undefined },
      ]);
    } finally {
      await Promise.all([first.close(), other.close()]);
    }
  });

  it('a redirect loop stops after five hops', async () => {
    const loop = await serveLoopback((req, res) => res.writeHead(302, { location: req.url ?? '/' }).end());
    try {
      const error = await failureOf(httpGet(`${loop.url}/x`, { what: 'x', limits: LIMITS, maxBytes: 1 }));
      expect(error).toBeInstanceOf(HttpGetError);
      expect(error.message).toBe(`download of x from ${loop.url}/x failed: more than 5 redirects`);
    } finally {
      await loop.close();
    }
  });

  it('a host that never completes the connection fails at the connect limit', async () => {
    const port = await startUnacceptingPort();
    try {
      const error = await failureOf(
        httpGet(`http://127.0.0.1:${port.port}/versions.json`, {
          what: 'versions.json',
          limits: LIMITS,
          maxBytes: 1,
        }),
      );
      expect(error.message).toBe(
        `download of versions.json from http://127.0.0.1:${port.port}/versions.json failed: no connection within 1500 ms (connect limit)`,
      );
    } finally {
      port.close();
    }
  });

  it('a cancellation mid-body ends the body with a message, and the limits hold while a signal is passed', async () => {
    const slow = await serveLoopback((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x');
      const timer = setInterval(() => res.write('x'), 500);
      res.on('close', () => clearInterval(timer));
    });
    try {
      const controller = new AbortController();
      const cancelled = await httpGet(`${slow.url}/a`, {
        what: 'a',
        limits: LIMITS,
        maxBytes: 2000,
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(new Error('stopped by SIGTERM')), 700);
      const error = await failureOf(readText(cancelled));
      expect(error.message).toBe(`download of a from ${slow.url}/a failed: cancelled (stopped by SIGTERM)`);

      // Same trickle, a signal that never fires: the total limit still ends it.
      const bounded = await httpGet(`${slow.url}/b`, {
        what: 'b',
        limits: LIMITS,
        maxBytes: 2000,
        signal: new AbortController().signal,
      });
      const late = await failureOf(readText(bounded));
      expect(late.message).toBe(
        `download of b from ${slow.url}/b failed: not finished within 6 s (total time limit)`,
      );
    } finally {
      await slow.close();
    }
  });
});
