import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { runBundle } from '../harness/cli.js';
import { camelFields } from '../harness/cli-json.js';
import { rowHashes } from '../harness/compare.js';
import { scratchDir } from '../harness/engine.js';
import { connUrl, createDatabase, mirrorUrl, sql, testbed, uniqueName } from '../harness/testbed.js';

/**
 * `pgferry clone` as a user runs it: the copies from PGFERRY_TO, one per line, their names as the
 * `databases` output, the template marked; then a second run over the same copies refused without
 * clean and confirm, and done with them. No password in anything printed.
 */

const MAJOR = 17;
const scratch = scratchDir();
afterAll(() => scratch.cleanup());
const cache = path.join(scratch.dir, 'cache');
mkdirSync(cache, { recursive: true });

function clone(to: string[], ...args: string[]) {
  return runBundle(['clone', '--mirror', mirrorUrl(), ...args], {
    PGFERRY_CACHE_DIR: cache,
    PGFERRY_TO: to.map((t) => connUrl(MAJOR, encodeURIComponent(t))).join('\n'),
  });
}

describe('pgferry clone', () => {
  it('makes the copies, prints their names, marks the template; a rerun needs clean and confirm', async () => {
    const from = await createDatabase(MAJOR, 'cli_seed');
    await sql(
      MAJOR,
      from,
      "CREATE TABLE t (id int, v text); INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 500) i",
    );
    const to = [uniqueName('worker 1'), uniqueName('worker "2"')];
    const run = await clone(to, '--from', connUrl(MAJOR, from), '--mark-template', '--json');
    expect(run.stderr + run.stdout).not.toContain(testbed().password);
    expect(run.code).toBe(0);
    const report = camelFields(run.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ command: 'clone', databases: to.join('\n') });
    expect(report.reason).toMatch(/copies made with FILE_COPY/);
    const [marked] = await sql<{ t: boolean }>(
      MAJOR,
      'postgres',
      `SELECT datistemplate AS t FROM pg_database WHERE datname = '${from}'`,
    );
    expect(marked?.t).toBe(true);
    const expected = await rowHashes(MAJOR, from);
    for (const copy of to) expect(await rowHashes(MAJOR, encodeURIComponent(copy))).toEqual(expected);

    const refused = await clone(to, '--from', connUrl(MAJOR, from));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already exist; to replace them, set clean: true');

    const again = await clone(to, '--from', connUrl(MAJOR, from), '--clean', '--confirm', to.join('\n'));
    expect(again.stderr + again.stdout).not.toContain(testbed().password);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^databases +${to[0]}\\n +${to[1]}$`, 'm'));
  });

  it('refuses mark-template for another command, by name', async () => {
    const run = await runBundle(
      ['copy', '--from', connUrl(MAJOR), '--to', connUrl(MAJOR, 'x'), '--mark-template'],
      {
        PGFERRY_CACHE_DIR: cache,
      },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('mark-template: does not apply to copy (it is for clone)');
  });
});
