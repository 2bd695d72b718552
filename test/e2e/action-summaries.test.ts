import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { failure, runAction, runnerDirs } from '../harness/action-runner.js';
import { rowHashes } from '../harness/compare.js';
import { loadDataset } from '../harness/dataset.js';
import { scratchDir } from '../harness/engine.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Env } from '../harness/s3-engine.js';
import { createDatabase, mirrorUrl, server, sql, testbed, uniqueName } from '../harness/testbed.js';

/**
 * The Action's job summaries, read back from GITHUB_STEP_SUMMARY as the runner would show them: a
 * backup's summary holds its manifest, key, verification and table count; a failed step writes a
 * failure summary that says what failed and claims untouched only what the check then confirms;
 * every password of a multi-line `from` is masked, in the log and in the summary.
 */

const BUCKET = 'summaries';
const MAJOR = 16;
const scratch = scratchDir();
const dirs = runnerDirs();
let s3: S3TestServer;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
});
afterAll(async () => {
  scratch.cleanup();
  await s3?.close();
});

function s3Inputs(): Record<string, string> {
  return {
    's3-endpoint': s3.endpoint,
    's3-force-path-style': 'true',
    's3-region': s3.region,
    mirror: mirrorUrl(),
  };
}

/** A login role of its own with `password`, owning `db`: a second password the step must mask. */
async function roleOwning(db: string, password: string): Promise<string> {
  const role = uniqueName('summary_role');
  await sql(
    MAJOR,
    'postgres',
    `CREATE ROLE ${role} LOGIN SUPERUSER PASSWORD '${password.replace(/'/g, "''")}'`,
  );
  await sql(MAJOR, 'postgres', `ALTER DATABASE ${db} OWNER TO ${role}`);
  return role;
}

function urlOf(user: string, password: string, db: string): string {
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${server(MAJOR).port}/${db}`;
}

/** Every form of a password a log could show: as typed, and percent-encoded as in the URL. */
function formsOf(password: string): string[] {
  return [password, encodeURIComponent(password)];
}

describe('the summary of a backup', () => {
  it('holds the manifest URI, key, verification result and table count, and masks both passwords of a two-line from', async () => {
    const first = await createDatabase(MAJOR, 'summary_a');
    const second = await createDatabase(MAJOR, 'summary_b');
    await loadDataset(MAJOR, first, 50);
    await sql(
      MAJOR,
      second,
      'CREATE TABLE one (id int); CREATE TABLE two (id int); INSERT INTO one VALUES (1)',
    );
    // URL-special characters: the encoded and the decoded forms both have to be masked.
    const secondPassword = `sec@nd:pa/ss%${uniqueName('w')}`;
    const role = await roleOwning(second, secondPassword);
    const from = [urlOf('postgres', testbed().password, first), urlOf(role, secondPassword, second)].join(
      '\n',
    );

    const run = await runAction(
      { command: 'backup', from, to: `s3://${BUCKET}/b/`, ...s3Inputs() },
      dirs,
      s3Env(s3),
    );
    expect(failure(run)).toBe('(no ::error:: line)');
    for (const password of [testbed().password, secondPassword]) {
      for (const form of formsOf(password)) {
        expect(run.masked).toContain(form);
        expect(run.everything).not.toContain(form);
      }
    }
    const manifests = (run.outputs.manifest ?? '').split('\n');
    expect(manifests).toHaveLength(2);
    for (const uri of manifests) {
      expect(uri).toMatch(new RegExp(`^s3://${BUCKET}/b/summary_[ab]_\\w+/.*\\.dump\\.json$`));
      expect(run.summary).toContain(uri);
      // The key is the manifest's without `.json`, and the object is really there.
      const key = uri.slice(`s3://${BUCKET}/`.length, -'.json'.length);
      expect(run.summary).toContain(key);
      expect(await s3.keys(BUCKET, key)).toContain(key);
    }
    expect(run.outputs.verification?.split('\n')).toEqual([
      expect.stringMatching(/^list: passed, \d+ TOC entries read back, 8 tables, \d+ bytes read back$/),
      expect.stringMatching(/^list: passed, \d+ TOC entries read back, 2 tables, \d+ bytes read back$/),
    ]);
    expect(run.summary).toMatch(
      /<td>verification<\/td><td>list: passed, \d+ TOC entries read back, 8 tables, \d+ bytes read back<br>/,
    );
    expect(run.outputs.tables).toBe('10');
    expect(run.summary).toContain('<td>tables</td><td>10</td>');
    // A size in its unit with the exact count, not "0.0 MiB".
    expect(run.summary).toMatch(/<td>bytes<\/td><td>\d+(\.\d)? (KiB|MiB) \(\d+ bytes\)<\/td>/);
  });
});

describe('the failure summary', () => {
  it('of a restore that fails midway says what failed and that the target is as it was, which it is', async () => {
    const source = await createDatabase(MAJOR, 'summary_src');
    await loadDataset(MAJOR, source, 200);
    const target = await createDatabase(MAJOR, 'summary_dst');
    await sql(MAJOR, target, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('before')");
    const before = await rowHashes(MAJOR, target);
    const archive = path.join(scratch.dir, 'whole.dump');
    const dump = await runAction(
      {
        command: 'dump',
        from: urlOf('postgres', testbed().password, source),
        to: archive,
        mirror: mirrorUrl(),
      },
      dirs,
    );
    expect(failure(dump)).toBe('(no ::error:: line)');
    // Cut off in its data: the header and TOC read fine, pg_restore fails on the rows.
    const whole = readFileSync(archive);
    const truncated = path.join(scratch.dir, 'truncated.dump');
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)));

    const run = await runAction(
      {
        command: 'restore',
        from: truncated,
        to: urlOf('postgres', testbed().password, target),
        clean: 'true',
        confirm: target,
        mirror: mirrorUrl(),
      },
      dirs,
    );
    expect(run.code).toBe(1);
    expect(failure(run)).not.toBe('(no ::error:: line)');
    expect(run.summary).toContain('pgferry failed: pgferry restore');
    expect(run.summary).toMatch(/Failure code: <code>(tool|integrity|failed)<\/code>/);
    expect(run.summary).toContain(
      `The target database postgres@127.0.0.1:${server(MAJOR).port}/${target} is as it was`,
    );
    expect(run.summary).not.toContain('Done before the failure');
    expect(run.summary).not.toContain(testbed().password);
    // The claim checked: the target still holds exactly what it held.
    expect(await rowHashes(MAJOR, target)).toEqual(before);
  });

  it('of a dump whose pg_dump fails says nothing was written at the destination, which is so', async () => {
    const source = await createDatabase(MAJOR, 'summary_nodump');
    const to = path.join(scratch.dir, 'never.dump');
    const run = await runAction(
      {
        command: 'dump',
        from: urlOf('postgres', testbed().password, source),
        to,
        tables: 'no_such_table',
        mirror: mirrorUrl(),
      },
      dirs,
    );
    expect(run.code).toBe(1);
    expect(run.summary).toContain('pgferry failed: pgferry dump');
    expect(run.summary).toContain('<code>tool</code>');
    expect(run.summary).toContain('no matching tables were found');
    expect(run.summary).toContain(`Nothing was written at ${to}`);
    expect(run.summary).toContain('PATH was not changed');
    expect(existsSync(to)).toBe(false);
    expect(run.path).toEqual([]);
  });

  it('of bad input says nothing ran, and masks the password of a second line that does not parse', async () => {
    const secondPassword = `unparsed${uniqueName('pw')}`;
    const from = [
      urlOf('postgres', testbed().password, 'postgres'),
      `postgres://someone:${secondPassword}@127.0.0.1:notaport/db`,
    ].join('\n');
    const run = await runAction(
      { command: 'backup', from, to: `s3://${BUCKET}/bad/`, ...s3Inputs() },
      dirs,
      s3Env(s3),
    );
    expect(run.code).toBe(1);
    expect(run.summary).toContain('pgferry failed: reading the inputs');
    expect(run.summary).toContain('<code>input</code>');
    expect(run.summary).toContain('Nothing ran');
    for (const password of [testbed().password, secondPassword]) {
      expect(run.masked).toContain(password);
      expect(run.everything).not.toContain(password);
    }
    expect(await s3.keys(BUCKET, 'bad/')).toEqual([]);
  });
});
