import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadDataset } from '../harness/dataset.js';
import { rowHashes } from '../harness/compare.js';
import { readmeYamlBlocks } from '../harness/readme-workflows.js';
import { connUrl, createDatabase, mirrorUrl, sql, testbed } from '../harness/testbed.js';
import { failure, runAction, runnerDirs } from '../harness/action-runner.js';
import { scratchDir } from '../harness/engine.js';
import { REPO_ROOT } from '../harness/paths.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Env } from '../harness/s3-engine.js';

/** Every step of the README's workflow snippets that uses the Action, with its inputs as written. */
function readmeSteps(): { title: string; inputs: Record<string, string> }[] {
  return readmeYamlBlocks().flatMap(({ title, steps }) =>
    steps
      .filter((step) => step.uses?.startsWith('pgferry/pgferry@'))
      .map((step) => ({
        title,
        inputs: Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, String(v)])),
      })),
  );
}

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

describe('README workflow examples, run as written against the test servers', () => {
  const secrets: Record<string, string> = {};
  let s3: S3TestServer | undefined;
  const workdir = path.join(scratch.dir, 'repo');

  beforeAll(async () => {
    // The S3 restore example names the database `app` in its prefix: it must be that database.
    const app = 'app';
    await sql(17, 'postgres', 'DROP DATABASE IF EXISTS app').catch(() => undefined);
    await sql(17, 'postgres', 'CREATE DATABASE app');
    await loadDataset(17, app, 200);
    s3 = await startS3();
    await s3.createBucket('acme-db-backups');
    secrets.DATABASE_URL = connUrl(17, app);
    secrets.PRODUCTION_DATABASE_URL = connUrl(17, app);
    // The staging example confirms with the literal name `staging`: it must be that database.
    await sql(17, 'postgres', 'DROP DATABASE IF EXISTS staging').catch(() => undefined);
    await sql(17, 'postgres', 'CREATE DATABASE staging');
    await sql(
      17,
      'staging',
      'CREATE TABLE leftover (id int); CREATE SCHEMA keep; CREATE TABLE keep.notes (id int)',
    );
    secrets.STAGING_DATABASE_URL = connUrl(17, 'staging');
    const legacy = await createDatabase(15, 'legacy');
    await loadDataset(15, legacy, 200);
    secrets.OLD_DATABASE_URL = connUrl(15, legacy);
    secrets.NEW_DATABASE_URL = connUrl(18, legacy);
    mkdirSync(path.join(workdir, 'ci'), { recursive: true });
    writeFileSync(
      path.join(workdir, 'ci', 'anonymise.sql'),
      "UPDATE sales.customers SET email = 'user' || id || '@example.invalid', name = 'Customer ' || id, avatar = NULL;\n",
    );
  });

  afterAll(async () => s3?.close());
  const steps = readmeSteps();
  it('pins the Action by its major tag, or by a full commit SHA with the version beside it', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const refs = [...readme.matchAll(/uses: pgferry\/pgferry@(.*)$/gm)].map((m) => m[1]);
    expect(refs.length).toBe(steps.length);
    for (const ref of refs) expect(ref).toMatch(/^(v1|[0-9a-f]{40} # v1\.\d+\.\d+)$/);
    expect(refs).toContainEqual(expect.stringMatching(/^[0-9a-f]{40} /));
  });

  it('finds the examples', () => {
    expect(steps.map((s) => s.title)).toEqual([
      'The GitHub Action',
      'The GitHub Action',
      'Back up before a migration',
      'Keep the dump',
      'Seed staging from production, anonymised',
      'Copy a database to a newer major',
      'Back up to S3, and restore the latest verified backup',
      'Back up to S3, and restore the latest verified backup',
      'Install the tools for later steps',
    ]);
  });

  it.each(steps)('$title', async ({ title, inputs }) => {
    const resolved = Object.fromEntries(
      Object.entries(inputs).map(([k, v]) => [
        k,
        v.replace(/\$\{\{ secrets\.([A-Z_]+) \}\}/g, (_, name: string) => {
          const value = secrets[name];
          if (!value) throw new Error(`no test value for secrets.${name}`);
          return value;
        }),
      ]),
    );
    // On AWS the credentials step does this; here the same inputs go to the loopback store.
    const usesS3 = Object.values(resolved).some((v) => v.startsWith('s3://'));
    const store: Record<string, string> = usesS3 && s3 ? { 's3-endpoint': s3.endpoint } : {};
    const env = usesS3 && s3 ? s3Env(s3) : {};
    const run = await runAction({ mirror: mirrorUrl(), ...resolved, ...store }, runnerDirs(), env, workdir);
    expect(failure(run)).toBe('(no ::error:: line)');
    expect(run.everything).not.toContain(testbed().password);
    if (title.startsWith('Seed staging')) {
      const rows = await sql<{ n: string }>(
        17,
        'staging',
        "SELECT count(*) AS n FROM sales.customers WHERE email NOT LIKE '%@example.invalid'",
      );
      expect(rows).toEqual([{ n: '0' }]);
      // clean replaces the schemas the dump carries (public among them) and leaves the others.
      const tables = await sql<{ t: string }>(
        17,
        'staging',
        "SELECT schemaname || '.' || tablename AS t FROM pg_tables WHERE tablename IN ('leftover', 'notes')",
      );
      expect(tables).toEqual([{ t: 'keep.notes' }]);
    }
    if (title.startsWith('Copy a database')) {
      const db = new URL(secrets.NEW_DATABASE_URL ?? '').pathname.slice(1);
      expect(await rowHashes(18, db)).toEqual(await rowHashes(15, db));
    }
    if (inputs.command === 'backup')
      expect(run.outputs.manifest).toMatch(/^s3:\/\/acme-db-backups\/nightly\/app\//);
    if (title.startsWith('Back up to S3') && inputs.command === 'restore') {
      // clean replaced what the backup carries; the schema it does not carry (keep) stays.
      const { 'keep.notes': kept, ...restored } = await rowHashes(17, 'staging');
      expect(kept).toBe('0:d41d8cd98f00b204e9800998ecf8427e');
      expect(restored).toEqual(await rowHashes(17, 'app'));
    }
    if (title.startsWith('Install')) expect(run.outputs['client-version']).toBe('17.5');
    if (inputs.command === 'dump') expect(Number(run.outputs.bytes)).toBeGreaterThan(0);
  });
});
