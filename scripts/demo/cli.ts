/** Runs the built CLI the way a user would, showing its log and reading its `--json` report. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { JobReport } from '../../core/jobs/report.js';
import { camelFields } from '../../test/harness/cli-json.js';
import { REPO_ROOT } from '../../test/harness/paths.js';
import { children } from './cleanup.js';
import { say } from './output.js';

export const CLI = path.join(REPO_ROOT, 'dist', 'pgferry.mjs');

/** The fields of pgferry's `--json` report (the engine's JobReport, camelCased back) the demo reads. */
export type CliReport = Pick<
  JobReport,
  | 'command'
  | 'clientVersion'
  | 'clientSource'
  | 'serverVersion'
  | 'location'
  | 'bytes'
  | 'sha256'
  | 'format'
  | 'archiveVersion'
  | 'durationSeconds'
  | 'tables'
  | 'manifest'
  | 'reason'
  | 'warnings'
>;

/** Runs the built CLI with `--json`; its log lines are shown indented, its stdout is the report. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, database: string): Promise<CliReport> {
  const flag = env.PGFERRY_FROM ? '--from' : '--to';
  say(
    `  $ pgferry ${args[0]} ${flag} ${database} ${args.slice(1).join(' ')} --json   (${flag} passed as ${flag === '--from' ? 'PGFERRY_FROM' : 'PGFERRY_TO'})`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderrTail = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        say(`    │ ${line}`);
        stderrTail = `${stderrTail}${line}\n`.slice(-4000);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      if (partial) say(`    │ ${partial}`);
      if (code !== 0) {
        reject(
          new Error(
            `pgferry ${args[0]} failed (${signal ?? `exit code ${code}`})${stderrTail ? `:\n${stderrTail}${partial}` : ''}`,
          ),
        );
        return;
      }
      try {
        resolve(camelFields(stdout) as CliReport);
      } catch {
        reject(new Error(`pgferry ${args[0]} printed no JSON report:\n${stdout}`));
      }
    });
  });
}
