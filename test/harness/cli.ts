import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './paths.js';

/** The built CLI bundle (`npm run build:cli`). */
export const CLI_BUNDLE = path.join(REPO_ROOT, 'dist', 'pgferry.mjs');

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a built bundle (`file`, the CLI by default) as a separate process with only PATH, HOME and
 * `env`, as a shell or a container would; resolves once it has exited.
 */
export function runBundle(
  args: readonly string[],
  env: Record<string, string>,
  file = CLI_BUNDLE,
): Promise<ProcessRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
