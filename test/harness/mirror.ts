import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * A loopback HTTP server laid out like the GitHub releases (`<base>/<version>/<asset>` plus
 * `.sha256`, and `<base>/versions.json`). `/faults/<mode>/…` serves the same tree broken on purpose:
 * `wrong-sha`, `corrupt` (flipped bytes, right checksum), `missing` (404 for archives), `cut` (the
 * connection drops halfway). `/__stats` tells how often each path was asked for.
 */
export interface MirrorServer {
  url: string;
  close(): Promise<void>;
}

export type FaultMode = 'wrong-sha' | 'corrupt' | 'missing' | 'cut';

export async function startMirror(root: string, port = 0): Promise<MirrorServer> {
  const hits = new Map<string, number>();
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
    const m = /^\/faults\/(wrong-sha|corrupt|missing|cut)(\/.*)$/.exec(rel);
    if (m) {
      fault = m[1] as FaultMode;
      rel = m[2] ?? '/';
    }
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
    const size = statSync(file).size;
    res.setHeader('content-length', String(size));
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
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function mirrorHits(mirrorUrl: string): Promise<Record<string, number>> {
  const res = await fetch(`${mirrorUrl}/__stats`);
  return (await res.json()) as Record<string, number>;
}
