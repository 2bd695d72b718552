import { defaultJobs, refuseRestoreJobs, restoreJobs } from '../../core/jobs/parallelism.js';
import type { ArchiveFacts } from '../../core/pg/archive.js';

const custom = (dataOffsets?: ArchiveFacts['dataOffsets']): ArchiveFacts => ({
  format: 'custom',
  compression: 'none',
  ...(dataOffsets ? { dataOffsets } : {}),
});

describe('restoreJobs', () => {
  it('runs a custom archive with its offsets (or without data) in parallel', () => {
    expect(restoreJobs(custom('set'), 'pg_restore', 3, true)).toEqual({ jobs: 3 });
    expect(restoreJobs(custom('none'), 'pg_restore', 3, true)).toEqual({ jobs: 3 });
    expect(restoreJobs(custom('set'), 'pg_restore', 'auto', true)).toEqual({ jobs: defaultJobs() });
  });

  it('gives an archive without data offsets one job, saying why and what was asked', () => {
    const explicit = restoreJobs(custom('unset'), 'pg_restore', 4, true);
    expect(explicit.jobs).toBe(1);
    expect(explicit.reason).toMatch(
      /^one job instead of jobs: 4: its table of contents records no data offsets/,
    );
    const unread = restoreJobs(custom(), 'pg_restore', 4, true);
    expect(unread.jobs).toBe(1);
    expect(unread.reason).toMatch(/was not read for data offsets/);
  });

  it('says nothing when one job was all there was to give', () => {
    expect(restoreJobs(custom('unset'), 'pg_restore', 1, true)).toEqual({ jobs: 1 });
    expect(restoreJobs(custom('unset'), 'script', 'auto', true)).toEqual({ jobs: 1 });
    expect(restoreJobs(custom('set'), 'pg_restore', 4, false)).toEqual({ jobs: 1 });
    expect(restoreJobs({ format: 'tar', compression: 'none' }, 'pg_restore', 'auto', true)).toEqual({
      jobs: 1,
    });
  });

  it('says why a count that was given became one job on the script path', () => {
    const script = restoreJobs(custom('set'), 'script', 4, true);
    expect(script.jobs).toBe(1);
    expect(script.reason).toMatch(
      /^one job instead of jobs: 4: this restore runs as one script through psql/,
    );
  });

  it('refuses a count the format cannot honour (tar, plain), naming jobs and the format', () => {
    for (const format of ['tar', 'plain'] as const)
      expect(() => restoreJobs({ format, compression: 'none' }, 'pg_restore', 4, true)).toThrow(
        /^jobs: 4 parallel jobs need a custom or directory archive; (a plain dump|pg_restore reads a tar)/,
      );
    expect(() => refuseRestoreJobs('plain', 1)).not.toThrow();
    expect(() => refuseRestoreJobs('custom', 8)).not.toThrow();
  });

  it('leaves directory archives, which hold a file per table, parallel', () => {
    expect(restoreJobs({ format: 'directory', compression: 'gzip' }, 'pg_restore', 4, true)).toEqual({
      jobs: 4,
    });
  });

  it('into a database that existed before: auto keeps one transaction, a number runs in parallel', () => {
    const auto = restoreJobs(custom('set'), 'pg_restore', 'auto', true, true);
    if (defaultJobs() > 1) {
      expect(auto.jobs).toBe(1);
      expect(auto.reason).toMatch(
        /^one job instead of \d+ \(jobs: auto\): the target database existed before/,
      );
      expect(auto.reason).toContain('a failure then drops every object it made');
    } else expect(auto).toEqual({ jobs: 1 });
    // Undone on failure (undo-new-objects.ts): nothing left to warn about.
    expect(restoreJobs(custom('set'), 'pg_restore', 2, true, true)).toEqual({ jobs: 2 });
    expect(restoreJobs({ format: 'directory', compression: 'gzip' }, 'pg_restore', 3, true, true)).toEqual({
      jobs: 3,
    });
  });
});
