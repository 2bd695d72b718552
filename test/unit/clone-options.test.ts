import { summaryRows } from '../../action/summary.js';
import { InputErrors } from '../../core/errors.js';
import type { JobReport } from '../../core/jobs/report.js';
import { parseJobOptions } from '../../core/options.js';

/** clone's inputs: copies one per line, confirm one name per line (a name may hold a comma). */

const parse = (inputs: Record<string, string>) => parseJobOptions((name) => inputs[name], {});

function problems(inputs: Record<string, string>): string[] {
  try {
    parse(inputs);
  } catch (error) {
    if (error instanceof InputErrors) return error.problems.map((p) => p.message);
    throw error;
  }
  throw new Error('expected the inputs to be refused');
}

describe('clone inputs', () => {
  it('takes the copies one per line, and confirm names one per line, commas kept', () => {
    const o = parse({
      command: 'clone',
      from: 'postgres://ci:secret@db/app_seed',
      to: 'postgres://ci:secret@db/app_1\n  postgres://ci:secret@db/app%2C2\n\n',
      clean: 'true',
      confirm: 'app_1\napp,2',
      'mark-template': 'true',
    });
    if (o.command !== 'clone') throw new Error(`parsed as ${o.command}`);
    expect(o.copies.map((c) => c.params.dbname)).toEqual(['app_1', 'app,2']);
    expect(o.confirm).toEqual(['app_1', 'app,2']);
    expect(o).toMatchObject({ clean: true, markTemplate: true });
  });

  it('defaults to no clean, no confirm, no mark', () => {
    const o = parse({ command: 'clone', from: 'postgres://ci@db/app_seed', to: 'postgres://ci@db/app_1' });
    expect(o).toMatchObject({ command: 'clone', clean: false, confirm: [], markTemplate: false });
  });

  it('refuses a missing to, a path among the copies, and inputs of other commands, all at once', () => {
    expect(problems({ command: 'clone', from: 'postgres://ci@db/app_seed' })).toEqual([
      'to: is required for clone; expected a postgres URL or conninfo',
    ]);
    expect(
      problems({
        command: 'clone',
        from: 'postgres://ci@db/app_seed',
        to: 'postgres://ci@db/app_1\ncopies/app_2',
        jobs: '4',
        'mark-template': 'yes',
      }),
    ).toEqual([
      'jobs: does not apply to clone (it is for dump, restore, copy, backup)',
      'to: clone needs a database here, not a path; expected a postgres:// URL or conninfo such as "host=db dbname=app"',
      'mark-template: "yes" is not a boolean; expected true or false',
    ]);
  });

  it('the summary shows every copy, one per line, and never a password', () => {
    const options = parse({
      command: 'clone',
      from: 'postgres://ci:secret@db/app_seed',
      to: 'postgres://ci:secret@db/app_1\npostgres://ci:secret@db/app_2',
    });
    const report: JobReport = {
      command: 'clone',
      clientVersion: '17.5',
      clientSource: 'cache',
      binDir: '/opt/pg/17/bin',
      durationSeconds: 1.2,
      databases: ['app_1', 'app_2'],
      reason: 'the server is 17; copies made with FILE_COPY',
      warnings: [],
      filtered: [],
    };
    const rows = Object.fromEntries(summaryRows(options, report));
    expect(rows).toMatchObject({
      from: 'ci@db:5432/app_seed',
      to: 'ci@db:5432/app_1\nci@db:5432/app_2',
      databases: 'app_1\napp_2',
    });
    expect(JSON.stringify(rows)).not.toContain('secret');
  });
});
