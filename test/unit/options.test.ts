import { parseJobOptions } from '../../core/options.js';
import { InputErrors } from '../../core/errors.js';

const parse = (inputs: Record<string, string>) => parseJobOptions((name) => inputs[name], {});

describe('the input table', () => {
  it('parses a backup of several databases to an S3 prefix', () => {
    const o = parse({
      command: 'backup',
      from: 'postgres://u@db/app\npostgres://u@db/billing',
      to: 's3://dr-bucket/nightly/',
      verify: 'restore',
      's3-sse': 'aws:kms',
      's3-kms-key-id': 'alias/backups',
    });
    if (o.command !== 'backup') throw new Error(`parsed as ${o.command}`);
    expect(o.sources.map((s) => s.params.dbname)).toEqual(['app', 'billing']);
    expect(o.destination).toEqual({ kind: 's3', bucket: 'dr-bucket', key: 'nightly/' });
    expect(o.verify).toBe('restore');
    expect(o.s3).toMatchObject({ sse: 'aws:kms', kmsKeyId: 'alias/backups', forcePathStyle: false });
  });

  it('takes verify full (every byte read back) and names all three values when one is wrong', () => {
    const backup = { command: 'backup', from: 'postgres://u@db/app', to: 's3://b-b/p/' };
    const o = parse({ ...backup, verify: 'full' });
    if (o.command !== 'backup') throw new Error(`parsed as ${o.command}`);
    expect(o.verify).toBe('full');
    expect(() => parse({ ...backup, verify: 'fulll' })).toThrow(
      'verify: "fulll" is not a verification; expected list, full or restore',
    );
  });

  it('takes jobs for a sharded backup, and refuses it with a format other than custom, naming jobs', () => {
    const backup = { command: 'backup', from: 'postgres://u@db/app', to: 's3://b-b/p/' };
    const o = parse({ ...backup, jobs: '4' });
    if (o.command !== 'backup') throw new Error(`parsed as ${o.command}`);
    expect(o.jobs).toBe(4);
    const auto = parse(backup);
    if (auto.command !== 'backup') throw new Error(`parsed as ${auto.command}`);
    expect(auto.jobs).toBe('auto');
    for (const format of ['directory', 'tar', 'plain'])
      expect(() => parse({ ...backup, jobs: '2', format })).toThrow(
        new RegExp(
          `^jobs: 2 jobs shard a backup into custom archives, one per worker; the ${format} format cannot be sharded`,
        ),
      );
    expect(() => parse({ ...backup, jobs: '1', format: 'custom' })).not.toThrow();
  });

  it.each([
    ['s3://', /^to: "s3:\/\/" is not a valid s3:\/\/ URI/],
    ['s3://UPPER/key', /^to: "s3:\/\/UPPER\/key" is not a valid s3:\/\/ URI; expected s3:\/\/bucket\/key/],
    ['s3://ok-bucket/a//b', /has an empty path segment/],
  ])('rejects the malformed URI %s', (to, message) => {
    expect(() => parse({ command: 'dump', from: 'postgres://u@db/app', to })).toThrow(message);
  });

  it('refuses a backup to a path, naming to', () => {
    expect(() => parse({ command: 'backup', from: 'postgres://u@db/app', to: '/backups' })).toThrow(
      /^to: backup stores to S3; expected an s3:\/\/bucket\/prefix\/ URI, not "\/backups"/,
    );
  });

  it('reports every problem at once', () => {
    try {
      parse({
        command: 'backup',
        to: 's3://b-b/p/',
        verify: 'maybe',
        's3-sse': 'rot13',
        's3-endpoint': 'ftp://x',
      });
      throw new Error('expected a failure');
    } catch (error) {
      expect(error).toBeInstanceOf(InputErrors);
      const names = (error as InputErrors).problems.map((p) => p.input).sort();
      expect(names).toEqual(['from', 's3-endpoint', 's3-sse', 'verify']);
    }
  });
});

describe('a backup is the whole database', () => {
  it('refuses selection and content inputs by name, rather than backing up everything regardless', () => {
    const given = {
      command: 'backup',
      from: 'postgres://u@db/app',
      to: 's3://b-b/p/',
      tables: 'public.t',
      'exclude-table-data': 'audit.log',
      'schema-only': 'true',
      'no-owner': 'true',
      filter: 'select.filter',
    };
    let problems: string[] = [];
    try {
      parse(given);
    } catch (error) {
      if (!(error instanceof InputErrors)) throw error;
      problems = error.problems.map((p) => p.message);
    }
    expect(problems).toEqual([
      'tables: does not apply to backup (it is for dump, copy)',
      'exclude-table-data: does not apply to backup (it is for dump, copy)',
      'schema-only: does not apply to backup (it is for dump, restore, copy)',
      'no-owner: does not apply to backup (it is for dump, restore, copy)',
      'filter: does not apply to backup (it is for dump, copy)',
      'filter: cannot read select.filter (ENOENT); expected a pg_dump filter file',
    ]);
  });
});

describe('rules across inputs, checked by the parser before anything runs', () => {
  const problemsOf = (inputs: Record<string, string>): string[] => {
    try {
      parse(inputs);
    } catch (error) {
      if (error instanceof InputErrors) return error.problems.map((p) => p.message);
      throw error;
    }
    return [];
  };
  const dump = { command: 'dump', from: 'postgres://u@db/app' };

  it('refuses a dump to an S3 prefix and an S3 dump in another format, together', () => {
    expect(problemsOf({ ...dump, to: 's3://dr-bucket/nightly/', format: 'directory' })).toEqual([
      'to: s3://dr-bucket/nightly/ is a prefix; a dump needs an object key (use backup for a prefix)',
      'format: a dump streamed to S3 is written in the custom format, not directory',
    ]);
    expect(problemsOf({ ...dump, to: 's3://dr-bucket/nightly/app.dump' })).toEqual([]);
  });

  it('refuses jobs the dump format cannot honour, naming jobs and the format', () => {
    expect(problemsOf({ ...dump, to: '/backups/app.dump', jobs: '4' })).toEqual([
      'jobs: 4 parallel jobs need the directory format; the custom format dumps with one job (use jobs 1 or format directory)',
    ]);
    expect(problemsOf({ ...dump, to: '/backups/app', format: 'directory', jobs: '4' })).toEqual([]);
    expect(problemsOf({ ...dump, to: '/backups/app.sql', format: 'plain', jobs: 'auto' })).toEqual([]);
  });

  it('gives each command only its own options', () => {
    const restore = parse({ command: 'restore', from: '/backups/app.dump', to: 'postgres://u@db/app' });
    expect(restore.command).toBe('restore');
    expect(Object.keys(restore)).not.toEqual(
      expect.arrayContaining(['format', 'compress', 'verify', 'sources']),
    );
    const install = parse({ command: 'install' });
    expect(Object.keys(install).sort()).toEqual([
      'cache',
      'clientSource',
      'command',
      'minClientVersion',
      'mirror',
      'postgresVersion',
      'source',
    ]);
  });
});
