import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './paths.js';

/**
 * A loopback HTTP server laid out like the GitHub releases (`<base>/<version>/<asset>` plus
 * `.sha256`, and `<base>/versions.json`). `/faults/<mode>/…` serves the same tree broken on purpose:
 * `wrong-sha`, `corrupt` (flipped bytes, right checksum), `missing` (404 for archives), `cut` (the
 * connection drops halfway), `trickle` (archives arrive one byte every TRICKLE_INTERVAL_MS),
 * `silent` (every request is accepted and never answered), `chunked` (archives without a
 * Content-Length, so only counting the bytes can bound them). A substitute given to startMirror under
 * a name serves `/faults/<name>/…` archives as those bytes, with a `.sha256` that matches them.
 * `/__stats` tells how often each path was asked for.
 */
export interface MirrorServer {
  url: string;
  close(): Promise<void>;
}

export type FaultMode = 'wrong-sha' | 'corrupt' | 'missing' | 'cut' | 'trickle' | 'silent' | 'chunked';
const FAULTS = /^\/faults\/(wrong-sha|corrupt|missing|cut|trickle|silent|chunked)(\/.*)$/;
export const TRICKLE_INTERVAL_MS = 2000;

export async function startMirror(
  root: string,
  port = 0,
  substitutes: Readonly<Record<string, Buffer>> = {},
): Promise<MirrorServer> {
  const hits = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/__stats') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(Object.fromEntries(hits)));
      return;
    }
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    let rel = decodeURIComponent(url.pathname);
    let fault: FaultMode | undefined;
    let substitute: Buffer | undefined;
    const m = FAULTS.exec(rel);
    const s = /^\/faults\/([^/]+)(\/.*)$/.exec(rel);
    if (m) {
      fault = m[1] as FaultMode;
      rel = m[2] ?? '/';
    } else if (s?.[1] && Object.hasOwn(substitutes, s[1])) {
      substitute = substitutes[s[1]];
      rel = s[2] ?? '/';
    }
    if (fault === 'silent') return; // accepted, never answered
    const file = path.join(root, path.normalize(rel));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      res.end('Not Found');
      return;
    }
    const isArchive = file.endsWith('.tar.gz');
    if (fault === 'missing' && isArchive) {
      res.statusCode = 404;
      res.end('Not Found');
      return;
    }
    if (fault === 'wrong-sha' && file.endsWith('.sha256')) {
      res.end(`${'0'.repeat(64)}  ${path.basename(file, '.sha256')}\n`);
      return;
    }
    if (fault === 'corrupt' && isArchive) {
      const bytes = readFileSync(file);
      for (let i = 4096; i < bytes.length; i += 65536) bytes[i] = (bytes[i] ?? 0) ^ 0xff;
      res.end(bytes);
      return;
    }
    if (substitute && isArchive) {
      res.setHeader('content-length', String(substitute.length));
      res.end(substitute);
      return;
    }
    if (substitute && file.endsWith('.sha256')) {
      res.end(
        `${createHash('sha256').update(substitute).digest('hex')}  ${path.basename(file, '.sha256')}\n`,
      );
      return;
    }
    if (fault === 'chunked' && isArchive) {
      createReadStream(file).pipe(res);
      return;
    }
    const size = statSync(file).size;
    res.setHeader('content-length', String(size));
    if (fault === 'trickle' && isArchive) {
      const bytes = readFileSync(file);
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent >= bytes.length) {
          clearInterval(timer);
          timers.delete(timer);
          return;
        }
        res.write(bytes.subarray(sent, ++sent));
      }, TRICKLE_INTERVAL_MS);
      timers.add(timer);
      res.flushHeaders();
      return;
    }
    if (fault === 'cut' && isArchive) {
      const stream = createReadStream(file, { start: 0, end: Math.floor(size / 2) });
      stream.on('data', (chunk) => res.write(chunk));
      stream.on('end', () => res.socket?.destroy());
      return;
    }
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearInterval(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function mirrorHits(mirrorUrl: string): Promise<Record<string, number>> {
  const res = await fetch(`${mirrorUrl}/__stats`);
  return (await res.json()) as Record<string, number>;
}

/** startMirror in a child process (test/harness/mirror-process.ts), for the test bed's mirror. */
export async function startMirrorProcess(root: string): Promise<MirrorServer> {
  const child = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, 'scripts/run-ts.mjs'),
      path.join(REPO_ROOT, 'test/harness/mirror-process.ts'),
      root,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`the mirror process exited (${code}) before serving`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
