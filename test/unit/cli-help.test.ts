import { parse as shellParse } from 'shell-quote';
import { parseArgv } from '../../core/cli-args.js';
import { commandHelp, HELP, overviewHelp } from '../../core/cli-help.js';
import { commandLinePasswordWarning } from '../../core/cli-password.js';
import { didYouMean } from '../../core/near-miss.js';
import { COMMANDS, INPUTS, parseJobOptions } from '../../core/options.js';
import { wrapLine, wrapText } from '../../core/text-wrap.js';

/** The `--name` flags a help text lists, in order (rows start with two spaces and the flag). */
function listedFlags(help: string): string[] {
  const flags = help.slice(help.indexOf('Flags:'), help.indexOf('Examples:'));
  return [...flags.matchAll(/^ {2}(--[a-z0-9-]+)/gm)].map((m) => m[1] ?? '');
}

const CLI_OWN = ['--json', '--help', '--version'];

describe('help per command, from the one schema', () => {
  it.each(COMMANDS)('%s --help lists exactly the inputs for it, and the CLI’s own flags', (command) => {
    const expected = INPUTS.filter(
      (i) => i.name !== 'command' && (i.for === 'all' || i.for.includes(command)),
    ).map((i) => `--${i.name}`);
    expect(listedFlags(commandHelp(command, 80))).toEqual([...expected, ...CLI_OWN]);
  });

  it('dump --help offers none of the flags dump refuses', () => {
    const help = commandHelp('dump', 80);
    for (const refused of ['--clean', '--confirm', '--swap', '--verify', '--sql-after'])
      expect(listedFlags(help)).not.toContain(refused);
  });

  it.each(COMMANDS)('every example of %s parses with no problem', (command) => {
    expect(HELP[command].examples.length).toBeGreaterThanOrEqual(2);
    expect(HELP[command].examples.length).toBeLessThanOrEqual(3);
    for (const example of HELP[command].examples) {
      const words = shellParse(example).map(String);
      const env: Record<string, string> = {};
      while (/^[A-Z_]+=/.test(words[0] ?? '')) {
        const [name = '', ...value] = (words.shift() ?? '').split('=');
        env[name] = value.join('=');
      }
      expect(words.shift()).toBe('pgferry');
      expect(words[0]).toBe(command);
      const args = parseArgv(words, '');
      const options = parseJobOptions(
        (name) => args.values.get(name) ?? env[`PGFERRY_${name.toUpperCase().replace(/-/g, '_')}`],
        {},
      );
      expect(options.command).toBe(command);
    }
  });

  it('the overview names every command and points at per-command help', () => {
    const help = overviewHelp(80);
    for (const command of COMMANDS) expect(help).toMatch(new RegExp(`^ {2}${command} +\\S`, 'm'));
    expect(help).toContain('"pgferry <command> --help"');
    expect(help).toMatch(/Exit codes: 0 .*; 1 .*; 2 /s);
  });

  it.each([40, 60, 80, 120])('no help line is wider than %i columns, but for one word longer', (width) => {
    for (const text of [overviewHelp(width), ...COMMANDS.map((c) => commandHelp(c, width))])
      for (const line of text.split('\n')) {
        const oneWord = !/\S \S/.test(line.replace(/ \\$/, '').trim());
        expect([line, line.length <= width || oneWord]).toEqual([line, true]);
      }
  });
});

describe('wrapping', () => {
  const text =
    'pgferry: --from: dump needs a database here, not a path; expected a postgres:// URL or conninfo such as "host=db dbname=app"';

  it('breaks at spaces only, keeps every word, and indents what follows', () => {
    const lines = wrapText(text, 40).split('\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(40);
    for (const line of lines.slice(1)) expect(line).toMatch(/^ {2}\S/);
    expect(lines.map((l) => l.trim()).join(' ')).toBe(text);
  });

  it('a list item continues under its text; a word longer than the width stays whole', () => {
    const item = `  - --jobs: ${'word '.repeat(20).trim()}`;
    for (const line of wrapText(item, 30).split('\n').slice(1)) expect(line).toMatch(/^ {4}word/);
    const url = `see https://example.com/${'x'.repeat(60)} now`;
    expect(wrapLine(url, 30, 2)).toEqual(['see', `  https://example.com/${'x'.repeat(60)}`, '  now']);
  });
});

describe('did you mean', () => {
  it.each([
    ['dupm', 'did you mean dump?', COMMANDS],
    ['restor', 'did you mean restore?', COMMANDS],
    ['--form', 'did you mean --from or --format?', ['--from', '--to', '--format', '--jobs']],
    ['--compresss', 'did you mean --compress?', ['--compress', '--from']],
    ['banana', '(none)', COMMANDS],
    // A start that many names share points at none of them.
    ['--s3-', '(none)', ['--s3-endpoint', '--s3-region', '--s3-sse', '--s3-kms-key-id']],
  ])('%s → %s', (name, hint, known) => {
    expect(didYouMean(name, known, '(none)')).toBe(hint);
  });
});

describe('a password on the command line', () => {
  const SECRET = 'hunter2-Secret';
  const warn = (argv: string[]) => commandLinePasswordWarning(parseArgv(argv, ''));

  it.each([
    ['a URL', ['dump', '--from', `postgres://app:${SECRET}@db/app`, '--to', 'x.dump']],
    ['a percent-encoded URL', ['dump', '--from', `postgresql://app:${encodeURIComponent('p@ss/w')}@db/app`]],
    ['a URL query', ['dump', '--from', `postgres://app@db/app?password=${SECRET}`]],
    ['conninfo', ['dump', '--from', `host=db dbname=app password=${SECRET}`]],
    ['quoted conninfo', ['dump', '--from', `host=db password='${SECRET} x'`]],
    ['the second line of a backup', ['backup', '--from', `postgres://a@db/a\npostgres://b:${SECRET}@db/b`]],
    ['the target', ['restore', '--from', 'x.dump', '--to', `postgres://app:${SECRET}@db/app`]],
  ])('is warned about in %s, pointing at the variables and a passfile, never repeating it', (_, argv) => {
    const warning = warn(argv);
    expect(warning).toMatch(/PGFERRY_(FROM|TO)/);
    expect(warning).toContain('passfile');
    expect(warning).not.toContain(SECRET);
    expect(warning).not.toContain('p@ss');
  });

  it('names both flags when both carry one', () => {
    expect(
      warn(['copy', '--from', `postgres://a:${SECRET}@h/a`, '--to', `postgres://b:${SECRET}@h/b`]),
    ).toMatch(/^--from and --to carry passwords .* PGFERRY_FROM \/ PGFERRY_TO/);
  });

  it.each([
    ['a URL with a user only', ['dump', '--from', 'postgres://app@db/app', '--to', 'x.dump']],
    ['an empty password', ['dump', '--from', 'postgres://app:@db/app']],
    ['conninfo without one', ['dump', '--from', 'host=db dbname=app user=app']],
    ['a path and an s3 URI', ['restore', '--from', 's3://b/k.dump', '--to', 'host=db']],
    ['a password= inside another value', ['dump', '--from', "host=db options='-c password=x'"]],
  ])('is not warned about for %s', (_, argv) => {
    expect(warn(argv)).toBeUndefined();
  });
});
