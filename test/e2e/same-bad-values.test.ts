import path from 'node:path';
import { failure, runAction, runnerDirs } from '../harness/action-runner.js';
import { runBundle } from '../harness/cli.js';
import { scratchDir, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { messagesIn, TASK_BUNDLE } from '../harness/scheduled-job.js';
import { connUrl, mirrorUrl, server, testbed } from '../harness/testbed.js';
import { OUTPUTS } from '../../core/outputs.js';
import { PgferryBackupPropsError } from '../../infra/props-error.js';
import type { PgferryBackupProps } from '../../infra/props.js';
import { backupIn, testStack } from '../integration/infra-stacks.js';

/**
 * One vocabulary, one message (issue 13): the same bad value is refused by every front end with the
 * same words, naming the input the way that front end spells it — the CLI's flag or variable, the
 * Action's input, the scheduled job's variable, the CDK prop at synth. Each front end runs built:
 * the CLI and task bundles and the committed Action bundle as processes, the construct in a stack.
 */

interface BadValue {
  input: string;
  value: string;
  prop: keyof PgferryBackupProps;
  propValue: string | number;
  /** The engine's words, written out here so that a front end with its own check would fail this. */
  problem: string;
}

const BAD: BadValue[] = [
  {
    input: 'compress',
    value: 'zstd:99',
    prop: 'compress',
    propValue: 'zstd:99',
    problem: '"zstd:99": zstd levels run from 1 to 22',
  },
  {
    input: 'jobs',
    value: '0',
    prop: 'jobs',
    propValue: 0,
    problem: '"0" is not a job count; expected auto or a whole number ≥ 1',
  },
  {
    input: 'postgres-version',
    value: 'banana',
    prop: 'postgresVersion',
    propValue: 'banana',
    problem: '"banana" is not a version; expected auto, a major such as 17, or an exact version such as 17.5',
  },
];

const scratch = scratchDir();
afterAll(() => scratch.cleanup());
const dirs = runnerDirs();
const envName = (input: string): string => `PGFERRY_${input.toUpperCase().replace(/-/g, '_')}`;

/**
 * A dump that would run but for the bad value (parsing a URL connects to nothing); no password in
 * the URL, so the CLI's stderr is the refusal alone, without the warning for a password in argv.
 */
function dumpArgs(): string[] {
  const from = `postgres://postgres@127.0.0.1:${server(15).port}/postgres`;
  return ['dump', '--from', from, '--to', path.join(scratch.dir, 'never-written.dump')];
}

function cli(args: string[], env: Record<string, string> = {}): ReturnType<typeof runBundle> {
  return runBundle(args, { PGFERRY_CACHE_DIR: SHARED_CLIENT_CACHE, PGFERRY_MIRROR: mirrorUrl(), ...env });
}

/** The scheduled job's environment as infra sets it, before any database is reached. */
const JOB_ENV = {
  PGFERRY_SOURCE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app-AbCdEf',
  PGFERRY_BUCKET: 'acme-backups',
};

function synthError(props: Partial<PgferryBackupProps>): string {
  try {
    backupIn(testStack(), props);
  } catch (error) {
    expect(error).toBeInstanceOf(PgferryBackupPropsError);
    return (error as Error).message;
  }
  throw new Error('synth accepted the props');
}

describe.each(BAD)('$input: $value', (bad) => {
  it('the CLI, as a flag: --name', async () => {
    const run = await cli([...dumpArgs(), `--${bad.input}`, bad.value]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`pgferry: --${bad.input}: ${bad.problem}\n`);
  });

  it('the CLI with --json: an error object with its code on stdout', async () => {
    const run = await cli([...dumpArgs(), `--${bad.input}`, bad.value, '--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      error: { code: 'input', message: `--${bad.input}: ${bad.problem}` },
    });
  });

  it('the CLI, as a variable: PGFERRY_NAME', async () => {
    const run = await cli(dumpArgs(), { [envName(bad.input)]: bad.value });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`pgferry: ${envName(bad.input)}: ${bad.problem}\n`);
  });

  it('the Action: the input name', async () => {
    const [, , from, , to] = dumpArgs();
    const run = await runAction(
      { command: 'dump', from: from ?? '', to: to ?? '', mirror: mirrorUrl(), [bad.input]: bad.value },
      dirs,
    );
    expect(run.code).toBe(1);
    expect(failure(run)).toBe(`${bad.input}: ${bad.problem}`);
    expect(run.outputs).toEqual({});
  });

  // jobs is no input of the Fargate task's backup, but it is one of its variables (the restore drill).
  it('the scheduled job (the Fargate task bundle): PGFERRY_NAME', async () => {
    const run = await runBundle([], { ...JOB_ENV, [envName(bad.input)]: bad.value }, TASK_BUNDLE);
    expect(run.code).toBe(1);
    expect(messagesIn(run.stdout).split('\n')).toContain(`${envName(bad.input)}: ${bad.problem}`);
  });

  it('the CDK construct at synth: the prop', () => {
    expect(synthError({ [bad.prop]: bad.propValue })).toBe(`${bad.prop}: ${bad.problem}`);
  });
});

describe('all three at once: every front end lists every one', () => {
  const lines = (names: (b: BadValue) => string): string[] =>
    BAD.map((b) => `  - ${names(b)}: ${b.problem}`).sort();
  const listed = (message: string): string[] =>
    message
      .split('\n')
      .filter((l) => l.startsWith('  - '))
      .sort();

  it('the CLI, flags and variables mixed', async () => {
    const [compress, jobs, version] = BAD as [BadValue, BadValue, BadValue];
    const run = await cli([...dumpArgs(), '--compress', compress.value, `--jobs=${jobs.value}`], {
      PGFERRY_POSTGRES_VERSION: version.value,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^pgferry: 3 input problems:\n/);
    expect(listed(run.stderr)).toEqual(
      lines((b) => (b.input === 'postgres-version' ? envName(b.input) : `--${b.input}`)),
    );
  });

  it('the Action', async () => {
    const [, , from, , to] = dumpArgs();
    const inputs = Object.fromEntries(BAD.map((b) => [b.input, b.value]));
    const run = await runAction({ command: 'dump', from: from ?? '', to: to ?? '', ...inputs }, dirs);
    expect(listed(failure(run))).toEqual(lines((b) => b.input));
  });

  it('the scheduled job', async () => {
    const env = Object.fromEntries(BAD.map((b) => [envName(b.input), b.value]));
    const run = await runBundle([], { ...JOB_ENV, ...env }, TASK_BUNDLE);
    expect(run.code).toBe(1);
    expect(listed(messagesIn(run.stdout))).toEqual(lines((b) => envName(b.input)));
  });

  it('the CDK construct', () => {
    const props = Object.fromEntries(BAD.map((b) => [b.prop, b.propValue]));
    const message = synthError(props);
    expect(message).toMatch(/^3 prop problems:\n/);
    expect(listed(message)).toEqual(lines((b) => b.prop));
  });
});

describe('unknown names', () => {
  it('the CLI refuses a misspelt PGFERRY_ variable and a misspelt flag, naming the near misses', async () => {
    const variable = await cli(dumpArgs(), { PGFERRY_COMPRESSS: 'none' });
    expect(variable.code).toBe(2);
    expect(variable.stderr).toBe(
      'pgferry: PGFERRY_COMPRESSS: is not a variable pgferry reads; did you mean PGFERRY_COMPRESS?\n',
    );
    const flag = await cli([...dumpArgs(), '--schema-onyl']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(
      /^pgferry: unknown argument: --schema-onyl \(did you mean --schema-only\?\)\n/,
    );
  });

  it('the scheduled job refuses PGFERRY_VERIFYY, naming PGFERRY_VERIFY', async () => {
    const run = await runBundle([], { ...JOB_ENV, PGFERRY_VERIFYY: 'restore' }, TASK_BUNDLE);
    expect(run.code).toBe(1);
    expect(messagesIn(run.stdout).split('\n')).toContain(
      'PGFERRY_VERIFYY: is not a variable pgferry reads; did you mean PGFERRY_VERIFY?',
    );
  });

  it('the Action warns about an undeclared input as the runner would, and goes on', async () => {
    const run = await runAction({ command: 'install', 'postgres-version': '17', mirror: mirrorUrl() }, dirs, {
      INPUT_COMPRESSS: 'none',
    });
    expect(failure(run)).toBe('(no ::error:: line)');
    expect(run.code).toBe(0);
    expect(run.log).toContain(
      "::warning::Unexpected input 'compresss': pgferry has no such input and ignores it; did you mean compress?",
    );
  });
});

describe('one OUTPUTS table, as the front ends give it', () => {
  it('a dump through the Action and through the CLI --json gives the same outputs by the same names', async () => {
    const from = connUrl(15);
    const action = await runAction(
      { command: 'dump', from, to: path.join(scratch.dir, 'action.dump'), mirror: mirrorUrl() },
      dirs,
    );
    expect(failure(action)).toBe('(no ::error:: line)');
    const run = await cli([
      'dump',
      '--from',
      from,
      '--to',
      path.join(scratch.dir, 'cli.dump'),
      '--schema-only',
      'false',
      '--json',
    ]);
    expect(run.stderr).not.toMatch(/^pgferry: /m);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as Record<string, unknown>;
    const names = OUTPUTS.map((o) => o.name);
    const inJson = Object.keys(json).filter((k) => names.includes(k));
    expect(inJson.sort()).toEqual(Object.keys(action.outputs).sort());
    // What does not depend on the moment or the path is equal, value for value.
    for (const name of [
      'client-version',
      'server-version',
      'format',
      'archive-version',
      'toc-entries',
      'tables',
    ])
      expect([name, String(json[name])]).toEqual([name, action.outputs[name]]);
    for (const secret of [testbed().password]) expect(run.stdout + action.everything).not.toContain(secret);
  });
});
