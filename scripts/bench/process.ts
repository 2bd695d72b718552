/** The bench's child processes: timed, their peak RSS sampled, all killed by `killChildren`. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface RunResult {
  seconds: number;
  stdout: string;
  /** The last 8000 characters of its stderr (pgferry's log). */
  stderr: string;
  /** Peak resident set (VmHWM) of the process itself, in bytes, sampled from /proc. */
  peakRss?: number;
}

function readHwm(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const children = new Set<ReturnType<typeof spawn>>();

/** Kills whatever `run` still has running (cleanup after a failure or a signal). */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

/** Runs a command to completion; rejects with its stderr when it fails. */
export function run(
  cmd: string,
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; trackRss?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, argv, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    let peak: number | undefined;
    const sample = (): void => {
      const hwm = child.pid === undefined ? undefined : readHwm(child.pid);
      if (hwm !== undefined) peak = Math.max(peak ?? 0, hwm);
    };
    // VmHWM only grows, so the last sample before exit is (within one interval) the peak.
    const timer = options.trackRss ? setInterval(sample, 25) : undefined;
    child.on('error', (error) => {
      if (timer) clearInterval(timer);
      children.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      children.delete(child);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve({ seconds, stdout, stderr, peakRss: peak });
      else
        reject(
          new Error(`${path.basename(cmd)} ${argv.join(' ')} failed (${code ?? signal}):\n${stderr.trim()}`),
        );
    });
  });
}
