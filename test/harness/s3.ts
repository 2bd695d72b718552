import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/**
 * An S3-compatible server on loopback for the tests. Everything about which server it is stays in
 * this module, so it can be swapped: tests talk to it only through the endpoint, the credentials and
 * the helpers below.
 *
 * Today it is s3rver, run in a child process of its own:
 * - s3rver builds ListObjectsV2 continuation tokens with DES, which the OpenSSL 3 in Node ≥17
 *   refuses unless its legacy provider is loaded; in-process, every truncated listing (more keys
 *   than MaxKeys, 1000 by default) fails with a 500 InternalError. The child runs with
 *   `--openssl-legacy-provider`, so pagination works as on S3.
 * - `stop()` kills the process: connections drop as when a real endpoint goes away mid-transfer.
 * - Its synchronous directory walks do not stall the test's event loop.
 * - The child exits when its stdin closes, i.e. when the test process is gone however it ended.
 *
 * s3rver ignores S3 conditional writes (`If-None-Match: *`, `If-Match: <etag>`) and stores every
 * write. So the endpoint the tests get is a small proxy in front of it, on loopback, that enforces
 * them as AWS S3 documents: for every final write (PutObject, CompleteMultipartUpload) it takes a
 * per-key lock, checks the condition against the object s3rver holds, and answers 412
 * PreconditionFailed (404 NoSuchKey for If-Match on a missing key) without forwarding, or forwards
 * the write (streamed, as before) and releases the lock once s3rver answered. Everything else streams through untouched.
 * It records each final write with its conditions and answer, can hold one write (to line up a
 * race), and can play a store that ignores conditions (s3rver as is) or refuses them (501).
 */
export interface S3TestServer {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  port: number;
  /** Where the server keeps buckets and objects (its own layout: read it through the API). */
  dir: string;
  /** Stops the server at once, cutting open connections (the "S3 went away mid-upload" faults). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory; objects stored before are kept. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
  /** An SDK client for this server; `overrides` replace the credentials. Destroyed by `close()`. */
  client(overrides?: { accessKeyId?: string; secretAccessKey?: string }): S3Client;
  createBucket(name: string): Promise<void>;
  /** Every key in the bucket (under `prefix`), sorted, across all ListObjectsV2 pages. */
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** The object's body as UTF-8, or undefined when there is no object at the key. */
  getText(bucket: string, key: string): Promise<string | undefined>;
  /**
   * How reads of a missing key are answered from now on: `not-found` (404, at start), or
   * `access-denied` (403), as AWS S3 answers a role without s3:ListBucket — the scheduled job's.
   */
  setMissingKeys(answer: 'not-found' | 'access-denied'): void;
  /** How the store treats conditional writes from now on (`enforce`, like AWS S3, at start). */
  setConditionalWrites(mode: ConditionalWrites): void;
  /** Every final write that reached the store (PutObject, CompleteMultipartUpload), in order. */
  writes(): readonly WriteRecord[];
  /**
   * Holds the next final write to `key` before its condition is checked: `arrived` settles when it
   * is held, `release()` lets it go on (checked against whatever the store holds by then).
   */
  holdNextWrite(bucket: string, key: string): { arrived: Promise<void>; release(): void };
}

/** `enforce` as AWS S3 does; `ignore` as s3rver does; `refuse` with 501 NotImplemented. */
export type ConditionalWrites = 'enforce' | 'ignore' | 'refuse';

export interface WriteRecord {
  operation: 'PutObject' | 'CompleteMultipartUpload';
  bucket: string;
  key: string;
  ifNoneMatch?: string;
  ifMatch?: string;
  /** The HTTP status the writer got. */
  status: number;
}

const REGION = 'us-east-1';
/** s3rver's only account; it knows no other access key id. */
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';
const START_TIMEOUT_MS = 30_000;

const S3RVER_MAIN = createRequire(import.meta.url).resolve('s3rver');

/** The child: argv[1] is JSON [module, directory, port]; prints {"port":n} once it listens. */
const CHILD_SCRIPT = `
const [modulePath, directory, port] = JSON.parse(process.argv[1]);
process.stdin.on('end', () => process.exit(0)).resume();
const S3rver = require(modulePath);
new S3rver({ address: '127.0.0.1', port, directory, silent: true })
  .run()
  .then((address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'))
  .catch((error) => {
    process.stderr.write(String((error && error.stack) || error) + '\\n');
    process.exit(1);
  });
`;

/**
 * Client settings that work against this server:
 * - `forcePathStyle` and the endpoint: the bucket goes in the path, not in a `<bucket>.127.0.0.1`
 *   host name.
 * - `requestChecksumCalculation: 'WHEN_REQUIRED'` is needed. By default the SDK sends a PutObject
 *   whose body is a stream as `Content-Encoding: aws-chunked` with a trailing CRC32; s3rver does not
 *   decode that framing and stores it as the object's bytes (a silently corrupted object), and a
 *   stream of unknown length fails in the SDK before sending. Buffered bodies (every lib-storage
 *   part) only get an `x-amz-checksum-crc32` header, which s3rver ignores.
 * - `responseChecksumValidation: 'WHEN_REQUIRED'` is not needed by s3rver (it returns no checksum
 *   headers, so there is nothing to validate); it is set to match what pgferry itself uses for any
 *   custom endpoint (core/storage/s3-client.ts).
 */
function clientConfig(endpoint: string, accessKeyId: string, secretAccessKey: string): S3ClientConfig {
  return {
    region: REGION,
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Spawns the server; resolves with the port it listens on. Rejects with the server's stderr. */
function spawnServer(dir: string, port: number): Promise<{ running: Running; port: number }> {
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '-e', CHILD_SCRIPT, '--', JSON.stringify([S3RVER_MAIN, dir, port])],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`s3rver did not start within ${START_TIMEOUT_MS} ms\n${stderr}`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited before listening (code ${code}, signal ${signal})\n${stderr}`));
    };
    child.once('exit', onExit);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n', 1)[0];
      if (line === undefined || !stdout.includes('\n')) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      const listening = (JSON.parse(line) as { port: number }).port;
      resolve({ running: { child, exited }, port: listening });
    });
  });
}

/** Where a request goes: bucket, key and which final write it is, if it is one. */
function classify(req: http.IncomingMessage): {
  bucket: string;
  key: string;
  final?: WriteRecord['operation'];
  /** GetObject or HeadObject. */
  read?: boolean;
} {
  const url = new URL(req.url ?? '/', 'http://proxy');
  const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
  const key = rest.map((segment) => decodeURIComponent(segment)).join('/');
  const query = url.searchParams;
  const sub = ['uploadId', 'partNumber', 'tagging', 'uploads', 'acl'].some((q) => query.has(q));
  if (!key) return { bucket, key };
  if (req.method === 'PUT' && !sub && !req.headers['x-amz-copy-source'])
    return { bucket, key, final: 'PutObject' };
  if (req.method === 'POST' && query.has('uploadId'))
    return { bucket, key, final: 'CompleteMultipartUpload' };
  return { bucket, key, read: (req.method === 'GET' || req.method === 'HEAD') && !sub };
}

function s3Error(res: http.ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>pgferry-test</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Forwards one request to s3rver and its answer back; a cut upstream cuts the client too. */
function forward(req: http.IncomingMessage, res: http.ServerResponse, upstreamPort: number): Promise<number> {
  return new Promise((resolve) => {
    const up = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => resolve(answer.statusCode ?? 502));
        answer.on('error', () => {
          res.destroy();
          resolve(0);
        });
      },
    );
    up.on('error', () => {
      res.destroy();
      resolve(0);
    });
    req.pipe(up);
  });
}

interface ConditionalProxy {
  server: http.Server;
  sockets: Set<Socket>;
  mode: ConditionalWrites;
  missingKeys: 'not-found' | 'access-denied';
  writes: WriteRecord[];
  holds: Map<string, () => Promise<void>>;
}

function conditionalProxy(upstreamPort: number, admin: S3Client): ConditionalProxy {
  const locks = new Map<string, Promise<void>>();
  const p: ConditionalProxy = {
    server: http.createServer(),
    sockets: new Set(),
    mode: 'enforce',
    missingKeys: 'not-found',
    writes: [],
    holds: new Map(),
  };
  /** The object's ETag as s3rver has it, or undefined when there is none. */
  const etagOf = async (bucket: string, key: string): Promise<string | undefined> => {
    try {
      return (await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag ?? '';
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
        return undefined;
      throw error;
    }
  };
  const finalWrite = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    where: { bucket: string; key: string; final: WriteRecord['operation'] },
  ): Promise<void> => {
    const ifNoneMatch = req.headers['if-none-match'] as string | undefined;
    const ifMatch = req.headers['if-match'] as string | undefined;
    const id = `${where.bucket}/${where.key}`;
    const hold = p.holds.get(id);
    if (hold) {
      p.holds.delete(id);
      await hold();
    }
    // One final write per key at a time: the check and the write are one step, as on S3.
    const previous = locks.get(id) ?? Promise.resolve();
    let unlock = (): void => {};
    const mine = new Promise<void>((r) => (unlock = r));
    const chain = previous.then(() => mine);
    locks.set(id, chain);
    await previous;
    let status = 0;
    try {
      const conditional = ifNoneMatch !== undefined || ifMatch !== undefined;
      if (conditional && p.mode === 'refuse') {
        status = 501;
        s3Error(
          res,
          501,
          'NotImplemented',
          'A header you provided implies functionality that is not implemented',
        );
      } else if (conditional && p.mode === 'enforce') {
        const current = await etagOf(where.bucket, where.key);
        if (ifNoneMatch === '*' && current !== undefined) status = 412;
        else if (ifMatch !== undefined && current === undefined) status = 404;
        else if (ifMatch !== undefined && ifMatch !== current) status = 412;
        if (status === 412)
          s3Error(
            res,
            412,
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
          );
        if (status === 404) s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      }
      if (status === 0) status = await forward(req, res, upstreamPort);
    } finally {
      p.writes.push({
        operation: where.final,
        bucket: where.bucket,
        key: where.key,
        ...(ifNoneMatch !== undefined ? { ifNoneMatch } : {}),
        ...(ifMatch !== undefined ? { ifMatch } : {}),
        status,
      });
      unlock();
      if (locks.get(id) === chain) locks.delete(id);
    }
  };
  p.server.on('connection', (socket: Socket) => {
    p.sockets.add(socket);
    socket.once('close', () => p.sockets.delete(socket));
  });
  p.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const where = classify(req);
    const deniedIfMissing = async (): Promise<unknown> => {
      if ((await etagOf(where.bucket, where.key)) !== undefined) return forward(req, res, upstreamPort);
      req.resume();
      s3Error(res, 403, 'AccessDenied', 'Access Denied');
      return undefined;
    };
    const work = where.final
      ? finalWrite(req, res, { ...where, final: where.final })
      : where.read && p.missingKeys === 'access-denied'
        ? deniedIfMissing()
        : forward(req, res, upstreamPort);
    work.catch(() => res.destroy());
  });
  return p;
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

export async function startS3(): Promise<S3TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgferry-s3-'));
  let running: Running | undefined;
  const clients: S3Client[] = [];

  const first = await spawnServer(dir, 0);
  running = first.running;
  const upstreamPort = first.port;

  const makeClient = (
    target: string,
    overrides: { accessKeyId?: string; secretAccessKey?: string } = {},
  ): S3Client => {
    const client = new S3Client(
      clientConfig(
        target,
        overrides.accessKeyId ?? ACCESS_KEY_ID,
        overrides.secretAccessKey ?? SECRET_ACCESS_KEY,
      ),
    );
    clients.push(client);
    return client;
  };
  // The harness's own reads go to s3rver directly; the tests' requests go through the proxy.
  const admin = makeClient(`http://127.0.0.1:${upstreamPort}`);
  const proxy = conditionalProxy(upstreamPort, admin);
  const port = await listen(proxy.server, 0);
  const endpoint = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    const current = running;
    running = undefined;
    if (!current) return;
    // Both go at once, cutting open connections: as when a real endpoint dies.
    const closed = new Promise<void>((r) => proxy.server.close(() => r()));
    for (const socket of proxy.sockets) socket.destroy();
    current.child.kill('SIGKILL');
    await Promise.all([current.exited, closed]);
  };

  /** Retries while the port, ours a moment ago, is still held by the kernel or a stray connection. */
  const again = async <T>(work: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (attempt >= 50 || !String(error).includes('EADDRINUSE')) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };

  const start = async (): Promise<void> => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) return;
    running = (await again(() => spawnServer(dir, upstreamPort))).running;
    if (!proxy.server.listening) await again(() => listen(proxy.server, port));
  };

  return {
    endpoint,
    region: REGION,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    port,
    dir,
    stop,
    start,
    async close() {
      await stop();
      for (const client of clients.splice(0)) client.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
    client: (overrides) => makeClient(endpoint, overrides),
    async createBucket(name) {
      await admin.send(new CreateBucketCommand({ Bucket: name }));
    },
    async keys(bucket, prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await admin.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    async getText(bucket, key) {
      try {
        const object = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await object.Body?.transformToString('utf8')) ?? '';
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    setMissingKeys(answer) {
      proxy.missingKeys = answer;
    },
    setConditionalWrites(mode) {
      proxy.mode = mode;
    },
    writes: () => [...proxy.writes],
    holdNextWrite(bucket, key) {
      let arrive = (): void => {};
      let release = (): void => {};
      const arrived = new Promise<void>((r) => (arrive = r));
      const released = new Promise<void>((r) => (release = r));
      proxy.holds.set(`${bucket}/${key}`, () => {
        arrive();
        return released;
      });
      return { arrived, release };
    },
  };
}
