import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { formatReport } from '../../core/cli.js';
import { cliLabel, parseArgv } from '../../core/cli-args.js';
import {
  ERROR_CODES,
  errorCode,
  InputError,
  InputErrors,
  PgferryError,
  ToolError,
} from '../../core/errors.js';
import type { JobReport } from '../../core/jobs/report.js';
import { editDistance, nearestName } from '../../core/near-miss.js';
import { ACTION_ONLY_INPUTS, INPUTS } from '../../core/options.js';
import { OUTPUTS, outputValues } from '../../core/outputs.js';
import { undeclaredInputs } from '../../action/inputs.js';
import { parseScheduledJobConfig } from '../../lambda/config.js';
import { REPO_ROOT } from '../harness/paths.js';
import { KnockOnError } from '../../core/pg/run.js';

/**
 * The front ends' vocabulary: unknown names are refused (with a near miss named), CLI booleans take
 * a bare flag without swallowing the next argument, and one OUTPUTS table is what every front end shows.
 */

function thrown(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, got none');
}

describe('near misses', () => {
  it.each([
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
    ['PGFERRY_VERIFYY', 'PGFERRY_VERIFY', 1],
    // A swap of neighbours is one edit, as a typist makes it.
    ['jbos', 'jobs', 1],
    ['dupm', 'dump', 1],
    ['same', 'same', 0],
  ])('%s → %s is %i edits', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });

  it('names the nearest known name, and nothing for a name near nothing', () => {
    const known = ['PGFERRY_VERIFY', 'PGFERRY_PREFIX', 'PGFERRY_JOBS', 'PGFERRY_JOB'];
    expect(nearestName('PGFERRY_VERIFYY', known)).toBe('PGFERRY_VERIFY');
    expect(nearestName('pgferry_verify', known)).toBe('PGFERRY_VERIFY');
    expect(nearestName('PGFERRY_JOBZ', known)).toBe('PGFERRY_JOBS');
    expect(nearestName('PGFERRY_BANANA', known)).toBeUndefined();
    // Short names allow one edit only: "tab" is not "to".
    expect(nearestName('tab', ['to', 'from'])).toBeUndefined();
  });
});

describe('the scheduled job refuses PGFERRY_ variables it does not read', () => {
  const BASE = {
    PGFERRY_SOURCE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app-AbCdEf',
    PGFERRY_BUCKET: 'acme-backups',
  };

  it('names a misspelt variable with its near miss, beside every other problem', () => {
    const error = thrown(() =>
      parseScheduledJobConfig({
        ...BASE,
        PGFERRY_VERIFYY: 'restore',
        PGFERRY_JOBS: '0',
        PGFERRY_WHATEVER: 'x',
      }),
    );
    expect(error).toBeInstanceOf(InputErrors);
    expect((error as InputErrors).problems.map((p) => p.message)).toEqual([
      'PGFERRY_VERIFYY: is not a variable pgferry reads; did you mean PGFERRY_VERIFY?',
      "PGFERRY_WHATEVER: is not a variable pgferry reads; see the README's table of the job's environment",
      'PGFERRY_JOBS: "0" is not a job count; expected auto or a whole number ≥ 1',
    ]);
  });

  it('takes the engine variables for operators (debug, network limits) and ignores other prefixes', () => {
    const config = parseScheduledJobConfig({
      ...BASE,
      PGFERRY_DEBUG: '1',
      PGFERRY_NETWORK_LIMITS: 'idle-ms=3000',
      PGFERRYVERIFY: 'x',
      AWS_REGION: 'eu-west-1',
    });
    expect(config.verify).toBe('list');
  });

  it('a variable the README lists but spelt in lower case is no PGFERRY_ variable: not read, not refused', () => {
    expect(parseScheduledJobConfig({ ...BASE, pgferry_verify: 'restore' }).verify).toBe('list');
  });
});

const USAGE = '(usage)';

describe('CLI flags', () => {
  it('a bare boolean flag means true and leaves the next argument alone', () => {
    const args = parseArgv(['dump', '--schema-only', '--json', '--from', 'x'], USAGE);
    expect(args.values.get('schema-only')).toBe('true');
    expect(args.json).toBe(true);
    expect(args.values.get('from')).toBe('x');
  });

  it('a boolean flag still takes an explicit true or false after it, or after =', () => {
    const args = parseArgv(
      ['restore', '--clean', 'true', '--create-database', 'false', '--globals=false'],
      USAGE,
    );
    expect(Object.fromEntries(args.values)).toEqual({
      command: 'restore',
      clean: 'true',
      'create-database': 'false',
      globals: 'false',
    });
    // Any other value after =, and it is the boolean parser's to refuse (named, with what is expected).
    expect(parseArgv(['dump', '--clean=yes'], USAGE).values.get('clean')).toBe('yes');
  });

  it('--no-<flag> means false; the no- inputs are names of their own, with no double negative', () => {
    const args = parseArgv(['copy', '--no-cache', '--no-create-database', '--no-owner'], USAGE);
    expect(Object.fromEntries(args.values)).toEqual({
      command: 'copy',
      cache: 'false',
      'create-database': 'false',
      'no-owner': 'true',
    });
    expect(thrown(() => parseArgv(['copy', '--no-no-owner'], USAGE)).message).toMatch(
      /^unknown argument: --no-no-owner \(did you mean --no-owner=false\?\)/,
    );
  });

  it('refuses --no- of an input that is not a boolean, --no-flag=value and a boolean given twice', () => {
    expect(thrown(() => parseArgv(['dump', '--no-compress'], USAGE)).message).toMatch(
      /^unknown argument: --no-compress \(--compress is not a boolean\)/,
    );
    expect(thrown(() => parseArgv(['dump', '--no-cache=true'], USAGE)).message).toBe(
      '--no-cache takes no value; write --cache=true instead',
    );
    const twice = thrown(() => parseArgv(['dump', '--cache', '--no-cache'], USAGE));
    expect(twice).toBeInstanceOf(PgferryError);
    expect(twice.message).toBe('--cache: given more than once; give a boolean once');
  });

  it('refuses unknown flags, each with its near miss, and prints the usage', () => {
    const error = thrown(() =>
      parseArgv(['dump', '--frm', 'x', '--compresss=none', '--zzz', '--json', 'extra'], USAGE),
    );
    expect(error.message).toBe(
      'unknown arguments: --frm (did you mean --from?), --compresss (did you mean --compress?), --zzz (see --help), extra\n(usage)',
    );
    // The command is positional: --command is no flag.
    expect(thrown(() => parseArgv(['--command', 'dump'], USAGE)).message).toMatch(
      /^unknown argument: --command \(see --help\)/,
    );
  });

  it('names an input the way it was given: the flag, else the variable it came from', () => {
    const args = parseArgv(['dump', '--jobs', '0'], USAGE);
    const label = cliLabel(args, { PGFERRY_JOBS: '2', PGFERRY_COMPRESS: 'zstd:99' });
    expect(['jobs', 'compress', 'format', 'command'].map(label)).toEqual([
      '--jobs',
      'PGFERRY_COMPRESS',
      '--format',
      'command',
    ]);
  });
});

describe('the Action warns about inputs action.yml does not declare', () => {
  it('one warning per undeclared INPUT_ variable, with its near miss', () => {
    const env = {
      INPUT_COMPRESS: 'none',
      INPUT_COMPRESSS: 'none',
      INPUT_BANANA: '1',
      INPUT_POSTGRES_VERSION: '17',
    };
    expect(undeclaredInputs(env)).toEqual([
      "Unexpected input 'banana': pgferry has no such input and ignores it; see action.yml for the inputs",
      "Unexpected input 'compresss': pgferry has no such input and ignores it; did you mean compress?",
      // The runner keeps dashes (INPUT_POSTGRES-VERSION): this one reaches no input.
      "Unexpected input 'postgres_version': pgferry has no such input and ignores it; did you mean postgres-version?",
    ]);
  });

  it('every declared input, dashes and all, is what the runner sets', () => {
    const yml = parse(readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const env = Object.fromEntries(
      Object.keys(yml.inputs).map((name) => [`INPUT_${name.toUpperCase()}`, 'x']),
    );
    expect(Object.keys(env)).toHaveLength(INPUTS.length + ACTION_ONLY_INPUTS.length);
    expect(undeclaredInputs(env)).toEqual([]);
  });
});

/** A report with every output set, each value distinct. */
const FULL_REPORT: JobReport = {
  command: 'dump',
  clientVersion: '17.5',
  clientSource: 'cache',
  serverVersion: '17.10',
  binDir: '/opt/pg/17/bin',
  location: 's3://bucket/app.dump',
  bytes: 1234,
  sha256: 'a'.repeat(64),
  format: 'custom',
  archiveVersion: '1.16',
  durationSeconds: 12.345,
  tocEntries: 42,
  tables: 7,
  swapped: true,
  databases: ['app_1'],
  manifest: 's3://bucket/app.dump.json',
  verification: 'list: passed, 42 TOC entries read back, 7 tables, 65536 bytes read back',
  reason: 'the server is 17',
  warnings: [],
  filtered: ['transaction_timeout'],
};

describe('one OUTPUTS table', () => {
  it('action.yml declares exactly the table, with its descriptions', () => {
    const yml = parse(readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')) as {
      outputs: Record<string, { description: string }>;
    };
    expect(yml.outputs).toEqual(
      Object.fromEntries(OUTPUTS.map((o) => [o.name, { description: o.description }])),
    );
  });

  it("the README's outputs table is the table", () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Outputs'), readme.indexOf('## The CLI'));
    const rows = [...section.matchAll(/^\| `([a-z0-9-]+)` +\| (.+?) +\|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(OUTPUTS.map((o) => [o.name, o.description]));
  });

  it("the README's inputs table names every input once, and nothing else", () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Inputs'), readme.indexOf('### Outputs'));
    const named = [...section.matchAll(/^\| ((?:`[a-z0-9-]+`(?:, )?)+) +\|/gm)].flatMap((m) =>
      [...(m[1] ?? '').matchAll(/`([a-z0-9-]+)`/g)].map((n) => n[1]),
    );
    expect([...named].sort()).toEqual([...INPUTS, ...ACTION_ONLY_INPUTS].map((i) => i.name).sort());
    expect(section).not.toMatch(/coming/i);
  });

  it('a full report has every output, and the CLI prints each under its name, in text and JSON', () => {
    const values = outputValues(FULL_REPORT);
    expect(values.map(([name]) => name)).toEqual(OUTPUTS.map((o) => o.name));
    expect(Object.fromEntries(values)['duration-seconds']).toBe(12.3);

    const json = JSON.parse(formatReport(FULL_REPORT, true)) as Record<string, unknown>;
    for (const [name, value] of values) expect(json[name]).toEqual(value);
    expect(json).toMatchObject({
      command: 'dump',
      'client-source': 'cache',
      filtered: ['transaction_timeout'],
    });

    const lines = formatReport(FULL_REPORT, false).trimEnd().split('\n');
    const text = new Map(lines.map((l) => [l.slice(0, 17).trim(), l.slice(18)]));
    for (const [name, value] of values) expect(text.get(name)).toBe(String(value));
    expect(text.get('reason')).toBe('the server is 17');
    // One key style: every text name is a JSON key, and every key is kebab-case as the outputs are.
    for (const name of text.keys()) expect(Object.keys(json)).toContain(name);
    for (const key of Object.keys(json)) expect(key).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('outputs a job does not have are left out, everywhere', () => {
    const install: JobReport = {
      command: 'install',
      clientVersion: '18.0',
      clientSource: 'download',
      binDir: '/b',
      durationSeconds: 1,
      reason: 'asked for 18',
      warnings: [],
      filtered: [],
    };
    expect(outputValues(install).map(([name]) => name)).toEqual([
      'client-version',
      'bin-dir',
      'duration-seconds',
    ]);
    expect(Object.keys(JSON.parse(formatReport(install, true)) as object)).not.toContain('sha256');
    expect(formatReport(install, false)).not.toMatch(/^sha256/m);
  });
});

describe('error codes', () => {
  it('each kind of error carries its code, for callers to branch on', () => {
    expect(errorCode(new InputError('jobs', 'is wrong'))).toBe('input');
    expect(errorCode(new InputErrors([new InputError('a', 'x'), new InputError('b', 'y')]))).toBe('input');
    expect(errorCode(new ToolError('pg_dump', 1, null, ''))).toBe('tool');
    expect(errorCode(new PgferryError('something', { code: 'integrity' }))).toBe('integrity');
    expect(errorCode(new PgferryError('something'))).toBe('failed');
    expect(errorCode(new Error('not ours'))).toBe('failed');
    // A tool stopped by another failure carries the code of what stopped it.
    const digest = new PgferryError('does not match its manifest', { code: 'integrity' });
    expect(errorCode(new KnockOnError('psql was cancelled', { cause: digest }))).toBe('integrity');
    expect(errorCode(new KnockOnError('psql was cancelled', { cause: new Error('EPIPE') }))).toBe('knock-on');
  });

  it('the README names every code a failure under --json can carry', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const paragraph = readme.slice(readme.indexOf('A failure under `--json`'));
    for (const code of ERROR_CODES) expect(paragraph).toContain(`\`${code}\``);
  });
});
