import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

export async function startS3(): Promise<S3TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgferry-s3-'));
  let running: Running | undefined;
  const clients: S3Client[] = [];

  const first = await spawnServer(dir, 0);
  running = first.running;
  const port = first.port;
  const endpoint = `http://127.0.0.1:${port}`;

  const makeClient = (overrides: { accessKeyId?: string; secretAccessKey?: string } = {}): S3Client => {
    const client = new S3Client(
      clientConfig(
        endpoint,
        overrides.accessKeyId ?? ACCESS_KEY_ID,
        overrides.secretAccessKey ?? SECRET_ACCESS_KEY,
      ),
    );
    clients.push(client);
    return client;
  };
  const admin = makeClient();

  const stop = async (): Promise<void> => {
    const current = running;
    running = undefined;
    if (!current) return;
    current.child.kill('SIGKILL');
    await current.exited;
  };

  const start = async (): Promise<void> => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) return;
    // The port was ours a moment ago; allow the kernel (or a stray connection) a little time.
    for (let attempt = 1; ; attempt++) {
      try {
        running = (await spawnServer(dir, port)).running;
        return;
      } catch (error) {
        if (attempt >= 50 || !String(error).includes('EADDRINUSE')) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
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
    client: makeClient,
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
  };
}
