import { createReadStream, existsSync, statSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * The simplest file server there is, of the kind that crashed the Action's old HTTP stack: it
 * answers `HTTP/1.0` with `Connection: close`, writes the file as fast as the socket takes it and
 * closes the connection right behind the last byte (as `python3 -m http.server` does).
 */
export interface Http10Server {
  url: string;
  /** Requests answered so far. */
  requests(): number;
  close(): Promise<void>;
}

export async function startHttp10Server(root: string): Promise<Http10Server> {
  let served = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      served += 1;
      const target = /^GET (\S+) HTTP\/1\.[01]\r\n/.exec(head)?.[1] ?? '/';
      const file = path.join(root, path.normalize(decodeURIComponent(target.split('?')[0] ?? '/')));
      if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
        socket.end('HTTP/1.0 404 Not Found\r\nConnection: close\r\nContent-Length: 9\r\n\r\nNot Found');
        return;
      }
      socket.write(
        `HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6\r\nContent-Type: application/octet-stream\r\nContent-Length: ${statSync(file).size}\r\nConnection: close\r\n\r\n`,
      );
      createReadStream(file).pipe(socket);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
