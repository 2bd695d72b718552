import os from 'node:os';
import {
  errorCode,
  InputErrors,
  InputProblems,
  PgferryError,
  relabelInputErrors,
  type ErrorCode,
} from './errors.js';
import { cliLabel, envName, parseArgv, type ParsedArgs } from './cli-args.js';
import { ENGINE_VARIABLES, refuseUnknownVariables } from './env-variables.js';
import { stderrLogger } from './log.js';
import { COMMANDS, INPUTS, parseJobOptions, type JobOptions } from './options.js';
import { outputValues } from './outputs.js';
import { runJob } from './jobs/run-job.js';
import type { JobReport } from './jobs/report.js';

export { envName, parseArgv } from './cli-args.js';

/** Variables the CLI reads besides the inputs' own `PGFERRY_<NAME>`. */
const CLI_VARIABLES = ['PGFERRY_BIN_DIR', 'PGFERRY_CACHE_DIR'];

/**
 * `pgferry <command> --from … --to …`: the contract's inputs as flags, with `PGFERRY_<NAME>`
 * environment variables as fallbacks (the Fargate task and the scheduled job use those).
 */
export const USAGE = `usage: pgferry <${COMMANDS.join('|')}> [--name value …] [--json]

Inputs (flags, or PGFERRY_<NAME> environment variables):
${INPUTS.filter((i) => i.name !== 'command')
  .map((i) => `  --${i.name.padEnd(20)} ${i.description}${i.default ? ` (default ${i.default})` : ''}`)
  .join('\n')}

  --json                 print the report as JSON (the fields the Action outputs, by the same names)
  --help                 this text

Booleans take true or false (--clean=true, --clean true); a bare --clean means true and
--no-clean false (--no-owner and --no-privileges are names of their own: --no-owner=false).
Other variables: ${[...CLI_VARIABLES, ...ENGINE_VARIABLES].join(', ')}. Any other PGFERRY_*
variable, and any unknown flag, is an error.`;

/** The report as the CLI prints it: the Action's outputs by the same names, then the CLI's extras. */
export function formatReport(report: JobReport, json: boolean): string {
  const outputs = outputValues(report);
  if (json) {
    const fields = {
      command: report.command,
      ...Object.fromEntries(outputs),
      'client-source': report.clientSource,
      reason: report.reason,
      warnings: report.warnings,
      filtered: report.filtered,
    };
    return `${JSON.stringify(fields, null, 2)}\n`;
  }
  const rows: [string, string | number][] = [
    ['command', report.command],
    ...outputs,
    ['client-source', report.clientSource],
    ['why', report.reason],
  ];
  if (report.filtered.length) rows.push(['filtered', report.filtered.join(', ')]);
  return rows.map(([name, value]) => `${name.padEnd(17)} ${String(value)}\n`).join('');
}

/** Every problem with the flags' values and the environment at once, each named as the user wrote it. */
function readOptions(args: ParsedArgs, env: NodeJS.ProcessEnv): JobOptions {
  const problems = new InputProblems();
  refuseUnknownVariables(
    env,
    [...INPUTS.map((i) => envName(i.name)), ...CLI_VARIABLES],
    problems,
    'pgferry --help',
  );
  const get = (name: string): string | undefined => args.values.get(name) ?? env[envName(name)];
  const options = problems.collect(() => parseJobOptions(get, env));
  try {
    problems.throwIfAny();
  } catch (error) {
    throw relabelInputErrors(error, cliLabel(args, env));
  }
  return options as JobOptions;
}

/** Under --json a failure is a JSON object too: its code (core/errors.ts) and message. */
function writeJsonFailure(code: ErrorCode, message: string): void {
  process.stdout.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    stoppedBy ??= signal;
    controller.abort(new PgferryError(`stopped by ${signal}`, { code: 'cancelled' }));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let label: (input: string) => string = (input) => input;
  let json = false;
  try {
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    const args = parseArgv(argv, USAGE);
    label = cliLabel(args, env);
    json = args.json === true;
    const options = readOptions(args, env);
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
    process.stdout.write(formatReport(report, args.json));
    return 0;
  } catch (caught) {
    // Input errors found while the job runs (after provisioning) are named the CLI's way too.
    const error = relabelInputErrors(caught, label);
    if (stoppedBy) {
      // One line, whatever the work in flight made of the cancellation (a cut pipe, a killed child).
      const during = error instanceof PgferryError ? `: ${error.message.split('\n')[0]}` : '';
      process.stderr.write(`pgferry: stopped by ${stoppedBy}${during}\n`);
      if (json) writeJsonFailure('cancelled', `stopped by ${stoppedBy}${during}`);
      return 128 + (os.constants.signals[stoppedBy] ?? 1);
    }
    const message =
      error instanceof PgferryError || error instanceof InputErrors
        ? error.message
        : `unexpected error: ${(error as Error).stack ?? String(error)}`;
    process.stderr.write(`pgferry: ${message}\n`);
    if (json) writeJsonFailure(errorCode(error), message);
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
