import { describeProgress } from './progress.js';
import os from 'node:os';
import {
  errorCode,
  InputError,
  InputErrors,
  InputProblems,
  PgferryError,
  relabelInputErrors,
  type ErrorCode,
} from './errors.js';
import { cliLabel, envName, parseArgv, type ParsedArgs } from './cli-args.js';
import { CLI_VARIABLES, commandHelp, overviewHelp } from './cli-help.js';
import { commandLinePasswordWarning } from './cli-password.js';
import { VERSION } from './cli-version.js';
import { refuseUnknownVariables } from './env-variables.js';
import { stderrLogger, type Logger } from './log.js';
import {
  COMMANDS,
  commandProblem,
  INPUTS,
  parseJobOptions,
  type Command,
  type JobOptions,
} from './options.js';
import { messageWidth, terminalWidth, wrapText } from './text-wrap.js';
import { outputValues } from './outputs.js';
import { runJob } from './jobs/run-job.js';
import type { JobReport } from './jobs/report.js';

export { envName, parseArgv } from './cli-args.js';

/**
 * The report as the CLI prints it: the Action's outputs by the same names, then the CLI's extras,
 * every name kebab-case as the outputs are, the same in text and in `--json`.
 */
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
      ...(report.masking ? { masking: report.masking } : {}),
    };
    return `${JSON.stringify(fields, null, 2)}\n`;
  }
  const rows: [string, string | number][] = [
    ['command', report.command],
    ...outputs,
    ['client-source', report.clientSource],
    ['reason', report.reason],
  ];
  if (report.filtered.length) rows.push(['filtered', report.filtered.join(', ')]);
  for (const line of report.masking ?? []) rows.push(['masking', line]);
  // A value of several lines (a copy or manifest per database) stays in its column.
  const cell = (value: string | number) =>
    String(value)
      .split('\n')
      .join(`\n${' '.repeat(18)}`);
  return rows.map(([name, value]) => `${name.padEnd(17)} ${cell(value)}\n`).join('');
}

/** stderr lines, long ones wrapped to the terminal. */
const cliLogger: Logger = {
  debug: (message) => stderrLogger.debug(message),
  info: (message) => stderrLogger.info(wrapText(message, messageWidth(process.stderr))),
  warn: (message) => stderrLogger.warn(wrapText(message, messageWidth(process.stderr) - 'warning: '.length)),
};

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

/** The command `argv` names, for help and hints even when the rest of it does not parse. */
function commandOf(argv: readonly string[]): string | undefined {
  try {
    return parseArgv(argv, '').values.get('command');
  } catch {
    return argv.find((a) => COMMANDS.some((c) => c === a)) ?? argv.find((a) => !a.startsWith('-'));
  }
}

/** `--help` for the command named (the overview without one); a command that is none is a usage error. */
function help(command: string | undefined): string {
  const width = terminalWidth(process.stdout);
  if (command === undefined) return overviewHelp(width);
  const problem = commandProblem(command);
  if (problem !== undefined) throw new InputErrors([new InputError('command', problem)]);
  return commandHelp(command as Command, width);
}

/**
 * Exit codes (README, "The CLI"): 2 for an invocation refused before any work (an unknown command or
 * flag, a bad value), 1 for a job that started and failed, whatever the failure.
 */
function exitCode(error: unknown, started: boolean): number {
  return !started && errorCode(error) === 'input' ? 2 : 1;
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
  // Known before parsing, so that a usage error is a JSON object too.
  const json = argv.includes('--json');
  let started = false;
  try {
    if (argv.length === 0) {
      // No arguments is a usage error: the overview goes where errors go.
      process.stderr.write(`${overviewHelp(terminalWidth(process.stderr))}\n`);
      return 2;
    }
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${help(commandOf(argv))}\n`);
      return 0;
    }
    if (argv.includes('--version') || argv.includes('-V')) {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    const command = commandOf(argv);
    const args = parseArgv(
      argv,
      `see "pgferry ${command !== undefined && commandProblem(command) === undefined ? `${command} ` : ''}--help"`,
    );
    label = cliLabel(args, env);
    const passwordWarning = commandLinePasswordWarning(args);
    if (passwordWarning) cliLogger.warn(passwordWarning);
    const options = readOptions(args, env);
    started = true;
    const report = await runJob(options, {
      log: cliLogger,
      signal: controller.signal,
      binDir: env.PGFERRY_BIN_DIR,
      cacheDir: env.PGFERRY_CACHE_DIR,
      token: env.GITHUB_TOKEN,
      onProgress: (p) => stderrLogger.info(describeProgress(p)),
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
    process.stderr.write(`${wrapText(`pgferry: ${message}`, messageWidth(process.stderr))}\n`);
    if (json) writeJsonFailure(errorCode(error), message);
    return exitCode(error, started);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
