import { checkExtraArgs, splitExtraArgs } from '../../core/pg/extra-args.js';
import { InputError } from '../../core/errors.js';

function problem(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('splitExtraArgs: words', () => {
  it('returns nothing for empty input', () => {
    expect(splitExtraArgs(undefined)).toEqual([]);
    expect(splitExtraArgs('  \n ')).toEqual([]);
  });

  it('splits on whitespace and honours quotes and backslashes', () => {
    expect(splitExtraArgs(`--lock-wait-timeout=10s "--table=a b" -t 'x y' --exclude-table a\\ b`)).toEqual([
      '--lock-wait-timeout=10s',
      '--table=a b',
      '-t',
      'x y',
      '--exclude-table',
      'a b',
    ]);
  });

  it('joins quoted parts of one word and keeps escaped quotes', () => {
    expect(splitExtraArgs(`--table=pub"lic.my tab"le -t"it's" --table='say "hi"' -t\\"q\\"`)).toEqual([
      '--table=public.my table',
      "-tit's",
      '--table=say "hi"',
      '-t"q"',
    ]);
  });

  it('spreads over lines, as a multi-line workflow input would', () => {
    expect(splitExtraArgs('--no-comments\n  --no-publications\n')).toEqual([
      '--no-comments',
      '--no-publications',
    ]);
  });

  it('continues lines ending in a backslash, as copied from a shell script', () => {
    expect(splitExtraArgs('--no-owner \\\n  --no-comments \\\r\n --table=a\\\nb')).toEqual([
      '--no-owner',
      '--no-comments',
      '--table=ab',
    ]);
  });

  it('keeps an explicitly empty value', () => {
    expect(splitExtraArgs(`--section ""`)).toEqual(['--section', '']);
  });

  it('keeps $VAR and ${VAR} as literal text, quoted or not', () => {
    expect(splitExtraArgs(`--role=$ROLE "--table=\${SCHEMA}.t" '--table=$x' --snapshot=\\$y --x=$`)).toEqual([
      '--role=$ROLE',
      '--table=${SCHEMA}.t',
      '--table=$x',
      '--snapshot=$y',
      '--x=$',
    ]);
  });

  it('passes quoted or escaped glob characters literally', () => {
    expect(splitExtraArgs(`--table='public.*' "--table=a?" --exclude-table=tmp_\\*`)).toEqual([
      '--table=public.*',
      '--table=a?',
      '--exclude-table=tmp_*',
    ]);
  });
});

describe('splitExtraArgs: shell syntax is refused, never run', () => {
  it.each([
    ['--no-owner ; rm -rf /', ';'],
    ['--no-owner | cat', '|'],
    ['--no-owner && echo hi', '&&'],
    ['--no-owner || true', '||'],
    ['--no-owner > /tmp/out', '>'],
    ['--no-owner < /etc/passwd', '<'],
    ['--no-owner 2>&1', '>&'],
    ['--no-owner &', '&'],
  ])('refuses %j, naming the operator', (raw, op) => {
    expect(problem(() => splitExtraArgs(raw))).toBe(
      `extra-args: shell operator "${op}" is not allowed: pgferry runs the tool directly, without a shell`,
    );
  });

  it.each(['--role=$(whoami)', '"--role=$(whoami)"', '--role=`whoami`', '"--role=`whoami`"'])(
    'refuses command substitution in %s',
    (raw) => {
      expect(problem(() => splitExtraArgs(raw))).toMatch(
        /^extra-args: command substitution .* is not supported: pgferry never runs a shell/,
      );
    },
  );

  it('keeps command substitution inside single quotes as text, as a shell would', () => {
    expect(splitExtraArgs(`'--role=$(whoami)'`)).toEqual(['--role=$(whoami)']);
  });

  it('refuses unquoted globs and comments', () => {
    expect(problem(() => splitExtraArgs('--table=public.*'))).toMatch(
      /^extra-args: an unquoted \* or \? is a shell glob.*quote the word/,
    );
    expect(problem(() => splitExtraArgs('--no-owner # comment'))).toMatch(
      /^extra-args: "#" starts a shell comment/,
    );
  });

  it('refuses unterminated quotes and a trailing backslash', () => {
    expect(problem(() => splitExtraArgs('"--table=a'))).toBe('extra-args: has an unterminated double quote');
    expect(problem(() => splitExtraArgs(`--table='a`))).toBe('extra-args: has an unterminated single quote');
    expect(problem(() => splitExtraArgs('--no-owner \\'))).toBe('extra-args: ends with a lone backslash');
  });

  it('names the input it was given', () => {
    expect(problem(() => splitExtraArgs('| cat', 'restore-extra-args'))).toMatch(/^restore-extra-args: /);
  });
});

describe('extra arguments pgferry controls', () => {
  it.each([
    ['--password', '-W/--password makes the tool prompt for a password'],
    ['-W', '-W/--password'],
    ['--dbname=postgresql://u:secret@h/db', '-d/--dbname sets the connection'],
    ['-d mydb', '-d/--dbname'],
    ['-dmydb', '-d/--dbname'],
    ['--host=db.internal', '-h/--host sets the connection'],
    ['--ho db.internal', '-h/--host'],
    ['-h db', '-h/--host'],
    ['--port=6432', '-p/--port'],
    ['-p 6432', '-p/--port'],
    ['--username=admin', '-U/--username'],
    ['--user=admin', '-U/--username'],
    ['-U admin', '-U/--username'],
    ['--file=/tmp/x', '-f/--file names the file pgferry writes or reads itself'],
    ['-f /tmp/x', '-f/--file'],
    ['--format=plain', '-F/--format use the format input instead'],
    ['-Fc', '-F/--format'],
    // Beside the compress and jobs inputs, the tool would take whichever came last.
    ['--compress=9', '-Z/--compress use the compress input instead'],
    ['-Z 9', '-Z/--compress'],
    ['--jobs 4', '-j/--jobs use the jobs input instead'],
    ['-j4', '-j/--jobs'],
  ])('refuses %s', (raw, message) => {
    const text = problem(() => splitExtraArgs(raw));
    expect(text).toMatch(/^extra-args: /);
    expect(text).toContain(message);
  });

  it('tells where the connection comes from, without echoing the value', () => {
    const text = problem(() => splitExtraArgs('--dbname=postgresql://u:secret@h/db'));
    expect(text).toBe(
      'extra-args: -d/--dbname sets the connection, which pgferry takes from from/to; use from/to instead',
    );
    expect(text).not.toContain('secret');
  });

  it('does not mistake option values for options', () => {
    expect(splitExtraArgs('-thosts -nhr --table=-W --exclude-schema=pg_temp_1')).toEqual([
      '-thosts',
      '-nhr',
      '--table=-W',
      '--exclude-schema=pg_temp_1',
    ]);
    expect(splitExtraArgs('--no-password --lock-wait-timeout 4 -n 9 --section pre-data')).toEqual([
      '--no-password',
      '--lock-wait-timeout',
      '4',
      '-n',
      '9',
      '--section',
      'pre-data',
    ]);
  });

  it('refuses words the tool would read as its database or archive', () => {
    expect(problem(() => splitExtraArgs('--no-owner mydb'))).toBe(
      "extra-args: word 2 is neither an option nor an option's value, so the tool would read it as the database name or archive path; attach values to their options (--table=name, -tname) and set the connection with from/to",
    );
    expect(problem(() => splitExtraArgs(`'x y'`))).toMatch(/^extra-args: word 1 is neither an option/);
    expect(problem(() => splitExtraArgs('--schema-only postgresql://u:pw@h/db'))).not.toContain('pw');
    expect(problem(() => splitExtraArgs('-- mydb'))).toBe(
      'extra-args: "--" ends the options, so later words would be read as the database name or archive path',
    );
  });

  it('refuses an option left without its value', () => {
    expect(problem(() => splitExtraArgs('--no-owner --table'))).toBe(
      'extra-args: --table at the end is missing its value',
    );
  });
});

describe('checkExtraArgs for one tool', () => {
  it('reads short options the way that tool does', () => {
    // pg_dump's -c is --clean, so "mydb" would be its database; psql's -c takes a command.
    expect(problem(() => checkExtraArgs(['-c', 'mydb'], 'pg_dump'))).toMatch(
      /word 2 .* so pg_dump would read it as the database to dump/,
    );
    expect(() => checkExtraArgs(['-c', 'select 1'], 'psql')).not.toThrow();
    expect(problem(() => checkExtraArgs(['-l', 'archive.dump'], 'pg_restore'))).toMatch(
      /pg_restore would read it as the archive to restore/,
    );
  });

  it('finds a reserved option bundled behind others', () => {
    // pg_dump's -v takes no value, so -vW is -v -W; psql's -v takes one, so there it sets variable W.
    expect(problem(() => checkExtraArgs(['-vW'], 'pg_dump'))).toMatch(/^extra-args: -W\/--password/);
    expect(() => checkExtraArgs(['-vW'], 'psql')).not.toThrow();
    expect(problem(() => checkExtraArgs(['-xOU', 'admin'], 'pg_restore'))).toMatch(/-U\/--username/);
  });

  it('lets psql keep -F, its field separator', () => {
    expect(() => checkExtraArgs(['-F', ','], 'psql')).not.toThrow();
    expect(() => checkExtraArgs(['-F', ','], 'pg_dump')).toThrow(/-F\/--format/);
  });

  it("refuses pg_dumpall's -l/--database, which picks its connection", () => {
    expect(problem(() => checkExtraArgs(['--database=postgres'], 'pg_dumpall'))).toMatch(
      /^extra-args: -l\/--database sets the connection/,
    );
    expect(() => checkExtraArgs(['-l', 'postgres'], 'pg_dumpall')).toThrow(/-l\/--database/);
  });
});
