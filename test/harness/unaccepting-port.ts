import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A loopback port whose listen backlog is full and that never accepts: a new connection's SYN is
 * dropped, so connecting hangs as it does to a firewalled host. Node's own servers always accept,
 * so a small Python listener (python3 is on the test machines) holds the port.
 */
export interface UnacceptingPort {
  port: number;
  close(): void;
}

const LISTENER = `
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
port = s.getsockname()[1]
held = []
for _ in range(8):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(('127.0.0.1', port))
    except BlockingIOError: pass
    held.append(c)
time.sleep(1)
print(port, flush=True)
time.sleep(600)
`;

export async function startUnacceptingPort(): Promise<UnacceptingPort> {
  const child: ChildProcess = spawn('python3', ['-c', LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the listener exited with ${code}`)));
  });
  return { port, close: () => child.kill('SIGKILL') };
}
