import { parseJobs } from '../../core/jobs/parallelism.js';
import {
  pgDumpallArgs,
  pgDumpArgs,
  pgRestoreArgs,
  psqlArgs,
  type DumpArgsOptions,
  type RestoreArgsOptions,
} from '../../core/pg/args.js';
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

const dump: DumpArgsOptions = {
  clientMajor: 17,
  format: 'custom',
  compression: { algorithm: 'zstd', level: 1 },
  file: '/backups/app.dump',
};

describe('pgDumpArgs', () => {
  it('builds a plain custom dump', () => {
    expect(pgDumpArgs(dump)).toEqual([
      '--format=c',
      '--file=/backups/app.dump',
      '--compress=zstd:1',
      '--no-password',
    ]);
  });

  it('builds a parallel directory dump with filters and flags, extra args last', () => {
    expect(
      pgDumpArgs({
        ...dump,
        format: 'directory',
        file: '/backups/app.d',
        jobs: 4,
        schemas: ['public', ' sales '],
        excludeSchemas: ['audit'],
        tables: ['public.orders*'],
        excludeTables: ['public.tmp_*'],
        excludeTableData: ['public.logs'],
        noOwner: true,
        noPrivileges: true,
        verbose: true,
        extraArgs: ['--lock-wait-timeout=10s', '--no-comments'],
      }),
    ).toEqual([
      '--format=d',
      '--file=/backups/app.d',
      '--compress=zstd:1',
      '--jobs=4',
      '--schema=public',
      '--schema=sales',
      '--exclude-schema=audit',
      '--table=public.orders*',
      '--exclude-table=public.tmp_*',
      '--exclude-table-data=public.logs',
      '--no-owner',
      '--no-privileges',
      '--verbose',
      '--no-password',
      '--lock-wait-timeout=10s',
      '--no-comments',
    ]);
  });

  it('builds a plain script to stdout with clean, if-exists and create', () => {
    expect(
      pgDumpArgs({
        clientMajor: 15,
        format: 'plain',
        compression: { algorithm: 'none' },
        create: true,
        clean: true,
        ifExists: true,
        schemaOnly: true,
      }),
    ).toEqual([
      '--format=p',
      '--compress=0',
      '--schema-only',
      '--create',
      '--clean',
      '--if-exists',
      '--no-password',
    ]);
  });

  it('spells tar and data-only, and leaves --jobs out for one job', () => {
    expect(
      pgDumpArgs({
        ...dump,
        clientMajor: 14,
        format: 'tar',
        compression: { algorithm: 'none' },
        jobs: 1,
        dataOnly: true,
      }),
    ).toEqual(['--format=t', '--file=/backups/app.dump', '--compress=0', '--data-only', '--no-password']);
  });

  it('never puts a connection or password into argv', () => {
    const argv = pgDumpArgs({ ...dump, verbose: true }).join(' ');
    expect(argv).not.toMatch(/--(dbname|host|port|username|password)\b|-[dhpUW]\b/);
  });

  it('refuses more than one job outside the directory format', () => {
    expect(problem(() => pgDumpArgs({ ...dump, jobs: 4 }))).toBe(
      'jobs: pg_dump can run 4 jobs only with the directory format, not custom; use jobs 1 or the directory format',
    );
  });

  it.each([0, -2, 1.5, NaN])('refuses a job count of %s', (jobs) => {
    expect(problem(() => pgDumpArgs({ ...dump, jobs }))).toMatch(
      /^jobs: .* is not a job count; expected a whole number ≥ 1$/,
    );
  });

  it('refuses a directory dump to stdout', () => {
    expect(problem(() => pgDumpArgs({ ...dump, format: 'directory', file: undefined }))).toMatch(
      /^format: the directory format writes a directory, so it needs a path/,
    );
  });

  it('refuses conflicting options', () => {
    expect(problem(() => pgDumpArgs({ ...dump, schemaOnly: true, dataOnly: true }))).toMatch(
      /^data-only: cannot be combined with schema-only/,
    );
    expect(problem(() => pgDumpArgs({ ...dump, ifExists: true }))).toMatch(/^if-exists: needs clean/);
    expect(problem(() => pgDumpArgs({ ...dump, clean: true, dataOnly: true }))).toMatch(
      /^clean: cannot be combined with data-only/,
    );
  });

  it('refuses empty filter entries, naming the list', () => {
    expect(problem(() => pgDumpArgs({ ...dump, schemas: ['public', '  '] }))).toBe(
      'schemas: entry 2 is empty; expected a name or pattern',
    );
    expect(problem(() => pgDumpArgs({ ...dump, excludeTables: [''] }))).toMatch(
      /^exclude-tables: entry 1 is empty/,
    );
    expect(problem(() => pgDumpArgs({ ...dump, excludeTableData: [''] }))).toMatch(/^exclude-table-data: /);
  });

  it('checks extra arguments as pg_dump reads them', () => {
    expect(problem(() => pgDumpArgs({ ...dump, extraArgs: ['--host=db'] }))).toMatch(
      /^extra-args: -h\/--host/,
    );
    expect(problem(() => pgDumpArgs({ ...dump, extraArgs: ['-c', 'otherdb'] }))).toMatch(
      /^extra-args: word 2 .* pg_dump would read it as the database to dump/,
    );
  });
});

const restore: RestoreArgsOptions = { clientMajor: 17, dbname: 'app', file: '/backups/app.dump' };

describe('pgRestoreArgs', () => {
  it('restores a file into a database, stopping at the first error, archive last', () => {
    expect(pgRestoreArgs(restore)).toEqual([
      '--dbname=app',
      '--exit-on-error',
      '--no-password',
      '/backups/app.dump',
    ]);
  });

  it('builds a parallel restore with filters, flags and extra args', () => {
    expect(
      pgRestoreArgs({
        ...restore,
        jobs: 8,
        schemas: ['public'],
        excludeSchemas: ['audit'],
        tables: ['orders'],
        clean: true,
        ifExists: true,
        noOwner: true,
        noPrivileges: true,
        verbose: true,
        extraArgs: ['--disable-triggers', '-L', 'toc.list'],
      }),
    ).toEqual([
      '--dbname=app',
      '--jobs=8',
      '--exit-on-error',
      '--schema=public',
      '--exclude-schema=audit',
      '--table=orders',
      '--no-owner',
      '--no-privileges',
      '--clean',
      '--if-exists',
      '--verbose',
      '--no-password',
      '--disable-triggers',
      '-L',
      'toc.list',
      '/backups/app.dump',
    ]);
  });

  it('restores from stdin in one transaction', () => {
    expect(
      pgRestoreArgs({ clientMajor: 16, dbname: 'app', singleTransaction: true, exitOnError: false }),
    ).toEqual(['--dbname=app', '--single-transaction', '--no-password']);
  });

  it('writes the SQL script to stdout, or lists the archive', () => {
    expect(pgRestoreArgs({ clientMajor: 17, file: 'a.dump', toStdout: true, create: true })).toEqual([
      '--file=-',
      '--exit-on-error',
      '--create',
      '--no-password',
      'a.dump',
    ]);
    expect(pgRestoreArgs({ clientMajor: 17, file: 'a.dump', list: true, exitOnError: false })).toEqual([
      '--list',
      '--no-password',
      'a.dump',
    ]);
  });

  it('keeps an archive named like an option from reading as one', () => {
    expect(pgRestoreArgs({ ...restore, file: '-weird.dump' }).at(-1)).toBe('./-weird.dump');
  });

  it('refuses several jobs in a single transaction or from stdin', () => {
    expect(problem(() => pgRestoreArgs({ ...restore, jobs: 4, singleTransaction: true }))).toBe(
      'jobs: a single-transaction restore runs on one connection, so it cannot use 4 jobs; use jobs 1 or turn single-transaction off',
    );
    expect(problem(() => pgRestoreArgs({ ...restore, file: undefined, jobs: 2 }))).toBe(
      'jobs: pg_restore needs an archive file it can seek in to run 2 jobs, not stdin; use jobs 1 or restore from a file',
    );
  });

  it('refuses create in a single transaction, and other conflicts', () => {
    expect(problem(() => pgRestoreArgs({ ...restore, create: true, singleTransaction: true }))).toMatch(
      /^single-transaction: cannot be combined with create/,
    );
    expect(problem(() => pgRestoreArgs({ ...restore, schemaOnly: true, dataOnly: true }))).toMatch(
      /^data-only: /,
    );
    expect(problem(() => pgRestoreArgs({ ...restore, ifExists: true }))).toMatch(/^if-exists: needs clean/);
    expect(problem(() => pgRestoreArgs({ ...restore, clean: true, dataOnly: true }))).toMatch(/^clean: /);
  });

  it('refuses table exclusion, which pg_restore does not have', () => {
    expect(problem(() => pgRestoreArgs({ ...restore, excludeTables: ['t'] }))).toBe(
      'exclude-tables: pg_restore cannot leave tables out; exclude them when dumping instead',
    );
    expect(problem(() => pgRestoreArgs({ ...restore, excludeTableData: ['t'] }))).toMatch(
      /^exclude-table-data: /,
    );
    expect(() => pgRestoreArgs({ ...restore, excludeTables: [] })).not.toThrow();
  });

  it('needs a plain database name, or stdout, or a listing', () => {
    expect(problem(() => pgRestoreArgs({ clientMajor: 17, file: 'a.dump' }))).toBe(
      'to: pg_restore needs the name of the database to restore into',
    );
    expect(problem(() => pgRestoreArgs({ ...restore, toStdout: true }))).toMatch(
      /^to: restore into a database or to stdout/,
    );
    const connstr = problem(() => pgRestoreArgs({ ...restore, dbname: 'postgresql://u:secret@h/app' }));
    expect(connstr).toMatch(/^to: the database name looks like a connection string/);
    expect(connstr).not.toContain('secret');
    expect(problem(() => pgRestoreArgs({ ...restore, dbname: 'dbname=app password=x' }))).toMatch(
      /connection string/,
    );
    expect(problem(() => pgRestoreArgs({ ...restore, dbname: ' ' }))).toBe('to: the database name is empty');
  });

  it('checks extra arguments as pg_restore reads them', () => {
    expect(problem(() => pgRestoreArgs({ ...restore, extraArgs: ['-Fc'] }))).toMatch(
      /^extra-args: -F\/--format/,
    );
    // A trailing option would swallow the archive path that follows it.
    expect(problem(() => pgRestoreArgs({ ...restore, extraArgs: ['--use-list'] }))).toBe(
      'extra-args: --use-list at the end is missing its value',
    );
  });
});

describe('psqlArgs', () => {
  it('runs a script from stdin, stopping at the first error, without psqlrc or prompts', () => {
    expect(psqlArgs({})).toEqual(['--no-psqlrc', '--set=ON_ERROR_STOP=1', '--file=-', '--no-password']);
  });

  it('builds a quiet single-transaction run of a file with variables', () => {
    expect(
      psqlArgs({
        dbname: 'app',
        file: '/tmp/app.sql',
        singleTransaction: true,
        quiet: true,
        variables: { schema: 'public', _x1: 'a b' },
        extraArgs: ['--echo-errors'],
      }),
    ).toEqual([
      '--no-psqlrc',
      '--dbname=app',
      '--set=ON_ERROR_STOP=1',
      '--set=schema=public',
      '--set=_x1=a b',
      '--single-transaction',
      '--quiet',
      '--file=/tmp/app.sql',
      '--no-password',
      '--echo-errors',
    ]);
  });

  it('runs one command instead of a script', () => {
    expect(psqlArgs({ command: 'SELECT 1', onErrorStop: false })).toEqual([
      '--no-psqlrc',
      '--command=SELECT 1',
      '--no-password',
    ]);
  });

  it('refuses a command together with a file, and bad variable names', () => {
    expect(problem(() => psqlArgs({ command: 'SELECT 1', file: 'a.sql' }))).toBe(
      'command: runs instead of a script file, not with one',
    );
    expect(problem(() => psqlArgs({ variables: { 'a=b': 'c' } }))).toBe(
      'variables: "a=b" is not a psql variable name; expected letters, digits and _',
    );
    expect(problem(() => psqlArgs({ dbname: 'host=evil' }))).toMatch(
      /^to: the database name looks like a connection/,
    );
  });
});

describe('pgDumpallArgs', () => {
  it('dumps globals without role passwords by default', () => {
    expect(pgDumpallArgs({ clientMajor: 17 })).toEqual([
      '--globals-only',
      '--no-role-passwords',
      '--no-password',
    ]);
  });

  it('takes a file, a database to connect to, and extra args', () => {
    expect(
      pgDumpallArgs({
        clientMajor: 12,
        globalsOnly: false,
        noRolePasswords: false,
        dbname: 'postgres',
        file: '/backups/globals.sql',
        extraArgs: ['--no-comments'],
      }),
    ).toEqual(['--database=postgres', '--file=/backups/globals.sql', '--no-password', '--no-comments']);
  });

  it('checks extra arguments as pg_dumpall reads them', () => {
    expect(problem(() => pgDumpallArgs({ clientMajor: 17, extraArgs: ['-l', 'template1'] }))).toMatch(
      /^extra-args: -l\/--database sets the connection/,
    );
  });
});

describe('parseJobs', () => {
  it('reads auto and whole numbers', () => {
    expect(parseJobs(undefined)).toBe('auto');
    expect(parseJobs('')).toBe('auto');
    expect(parseJobs('AUTO')).toBe('auto');
    expect(parseJobs('1')).toBe(1);
    expect(parseJobs(' 8 ')).toBe(8);
  });

  it.each(['0', '-1', '1.5', 'two', '4x', '1e3', '9999999'])('refuses %s', (raw) => {
    expect(() => parseJobs(raw)).toThrow(InputError);
    expect(() => parseJobs(raw)).toThrow(
      `jobs: "${raw}" is not a job count; expected auto or a whole number ≥ 1`,
    );
  });

  it('names the input it was given', () => {
    expect(() => parseJobs('0', 'restore-jobs')).toThrow(/^restore-jobs: "0" is not a job count/);
  });
});
