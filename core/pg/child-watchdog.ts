import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Child tools die with pgferry, however pgferry ends — also by SIGKILL, when no handler of ours runs.
 * Each tool runs in a process group of its own; a small watchdog process, started once, is told the
 * groups over a pipe. When pgferry is gone the pipe closes, and the watchdog ends every group still
 * listed (SIGTERM, then SIGKILL) and exits. Node cannot ask the kernel for a parent-death signal, and
 * a pipe's end is the one thing that reaches another process whatever killed us.
 */
const WATCHDOG = `
const groups = new Set();
let rest = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (rest + chunk).split('\\n');
  rest = lines.pop();
  for (const line of lines) {
    const pid = Number(line.slice(1));
    if (line[0] === '+') groups.add(pid); else groups.delete(pid);
  }
});
const end = (signal) => { for (const pid of groups) { try { process.kill(-pid, signal); } catch {} } };
process.stdin.on('end', () => {
  end('SIGTERM');
  if (groups.size === 0) process.exit(0);
  setTimeout(() => { end('SIGKILL'); process.exit(0); }, 3000);
});
process.on('SIGINT', () => {});
`;

let watchdog: ChildProcess | undefined;

function started(): ChildProcess | undefined {
  if (watchdog && watchdog.exitCode === null && watchdog.stdin?.writable) return watchdog;
  try {
    const child = spawn(process.execPath, ['-e', WATCHDOG], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      // The watchdog must not inherit an --inspect or loader flag meant for pgferry itself.
      env: { PATH: process.env.PATH ?? '' },
      windowsHide: true,
    });
    child.on('error', () => {});
    child.stdin?.on('error', () => {});
    // It never keeps pgferry alive: neither the process nor its pipe holds the event loop.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    watchdog = child;
    return child;
  } catch {
    return undefined;
  }
}

/** Where process groups exist (not on Windows), tools get one each and the watchdog knows it. */
export const OWN_PROCESS_GROUPS = process.platform !== 'win32';

export function watchGroup(pid: number | undefined): void {
  if (!OWN_PROCESS_GROUPS || pid === undefined) return;
  started()?.stdin?.write(`+${pid}\n`);
}

export function unwatchGroup(pid: number | undefined): void {
  if (!OWN_PROCESS_GROUPS || pid === undefined || !watchdog) return;
  watchdog.stdin?.write(`-${pid}\n`);
}

/** Signals the tool's whole group (pg_restore -j forks workers), or just the tool where there are none. */
export function signalTool(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (OWN_PROCESS_GROUPS && child.pid !== undefined) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    child.kill(signal);
  }
}
