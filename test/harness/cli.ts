import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './paths.js';

/** The built CLI bundle (`npm run build:cli`). */
export const CLI_BUNDLE = path.join(REPO_ROOT, 'dist', 'pgferry.mjs');

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A built bundle started as a separate process: the process, and its run once it has exited. */
export interface StartedBundle {
  child: ChildProcess;
  done: Promise<ProcessRun>;
}

/**
 * Starts a built bundle (`file`, the CLI by default) as a separate process with only PATH, HOME and
 * `env`, as a shell or a container would.
 */
export function startBundle(
  args: readonly string[],
  env: Record<string, string>,
  file = CLI_BUNDLE,
): StartedBundle {
  const child = spawn(process.execPath, [file, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  const done = new Promise<ProcessRun>((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

/** Runs a built bundle as `startBundle` does; resolves once it has exited. */
export function runBundle(
  args: readonly string[],
  env: Record<string, string>,
  file = CLI_BUNDLE,
): Promise<ProcessRun> {
  return startBundle(args, env, file).done;
}
