import os from 'node:os';
import { InputErrors, PgferryError } from './errors.js';
import { stderrLogger } from './log.js';
import { COMMANDS, INPUTS, parseJobOptions } from './options.js';
import { runJob } from './jobs/run-job.js';
import type { JobReport } from './jobs/report.js';

/**
 * `pgferry <command> --from … --to …`: the contract's inputs as flags, with `PGFERRY_<NAME>`
 * environment variables as fallbacks (the Fargate task and the scheduled job use those).
 */
const USAGE = `usage: pgferry <${COMMANDS.join('|')}> [--name value …] [--json]

Inputs (flags, or PGFERRY_<NAME> environment variables):
${INPUTS.filter((i) => i.name !== 'command')
  .map((i) => `  --${i.name.padEnd(20)} ${i.description}${i.default ? ` (default ${i.default})` : ''}`)
  .join('\n')}

  --json                 print the report as JSON
  --help                 this text`;

interface ParsedArgs {
  values: Map<string, string>;
  json: boolean;
  help: boolean;
}

const KNOWN = new Set(INPUTS.map((i) => i.name));

export function parseArgv(argv: readonly string[]): ParsedArgs {
  const values = new Map<string, string>();
  let json = false;
  let help = false;
  const unknown: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--json') json = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      if (!KNOWN.has(name) || name === 'command') {
        unknown.push(arg.slice(0, eq === -1 ? undefined : eq));
        continue;
      }
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new PgferryError(`--${name} needs a value`);
      // Lists may be given by repeating the flag.
      values.set(name, values.has(name) ? `${values.get(name)}\n${value}` : value);
    } else if (!values.has('command')) values.set('command', arg);
    else unknown.push(arg);
  }
  if (unknown.length)
    throw new PgferryError(
      `unknown argument${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}\n${USAGE}`,
    );
  return { values, json, help };
}

export function envName(input: string): string {
  return `PGFERRY_${input.toUpperCase().replace(/-/g, '_')}`;
}

function printReport(report: JobReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const rows: [string, unknown][] = [
    ['command', report.command],
    ['client-version', `${report.clientVersion} (${report.clientSource})`],
    ['server-version', report.serverVersion],
    ['bin-dir', report.binDir],
    ['location', report.location],
    ['bytes', report.bytes],
    ['sha256', report.sha256],
    ['format', report.format],
    ['archive-version', report.archiveVersion],
    ['toc-entries', report.tocEntries],
    ['tables', report.tables],
    ['manifest', report.manifest],
    ['duration-seconds', report.durationSeconds.toFixed(1)],
    ['why', report.reason],
  ];
  for (const [name, value] of rows)
    if (value !== undefined) process.stdout.write(`${name.padEnd(17)} ${String(value)}\n`);
  if (report.filtered.length)
    process.stdout.write(`${'filtered'.padEnd(17)} ${report.filtered.join(', ')}\n`);
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    stoppedBy ??= signal;
    controller.abort(new PgferryError(`stopped by ${signal}`));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const args = parseArgv(argv);
    if (args.help || argv.length === 0) {
      process.stdout.write(`${USAGE}\n`);
      return args.help ? 0 : 2;
    }
    const get = (name: string): string | undefined => args.values.get(name) ?? env[envName(name)];
    const options = parseJobOptions(get, env);
    const report = await runJob(options, {
      log: stderrLogger,
      signal: controller.signal,
      binDir: env.PGFERRY_BIN_DIR,
      cacheDir: env.PGFERRY_CACHE_DIR,
      token: env.GITHUB_TOKEN,
      onProgress: (p) =>
        stderrLogger.info(
          `… ${(p.bytes / 1048576).toFixed(1)} MiB, ${(p.bytesPerSecond / 1048576).toFixed(1)} MiB/s, ${(p.elapsedMs / 1000).toFixed(0)} s`,
        ),
    });
    printReport(report, args.json);
    return 0;
  } catch (error) {
    if (stoppedBy) {
      // One line, whatever the work in flight made of the cancellation (a cut pipe, a killed child).
      const during = error instanceof PgferryError ? `: ${error.message.split('\n')[0]}` : '';
      process.stderr.write(`pgferry: stopped by ${stoppedBy}${during}\n`);
      return 128 + (os.constants.signals[stoppedBy] ?? 1);
    }
    const message =
      error instanceof PgferryError || error instanceof InputErrors
        ? error.message
        : `unexpected error: ${(error as Error).stack ?? String(error)}`;
    process.stderr.write(`pgferry: ${message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
