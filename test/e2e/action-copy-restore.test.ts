import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadDataset } from '../harness/dataset.js';
import { objectsOf, rowHashes } from '../harness/compare.js';
import { connUrl, createDatabase, mirrorUrl, sql, testbed, uniqueName } from '../harness/testbed.js';
import { failure, runAction, runnerDirs, type ActionRun } from '../harness/action-runner.js';
import { scratchDir } from '../harness/engine.js';
import type { ServerMajor } from '../harness/paths.js';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());
const dirs = runnerDirs();
const action = (inputs: Record<string, string>): Promise<ActionRun> =>
  runAction({ mirror: mirrorUrl(), ...inputs }, dirs);

function ok(run: ActionRun): void {
  expect(failure(run)).toBe('(no ::error:: line)');
  expect(run.code).toBe(0);
  expect(run.everything).not.toContain(testbed().password);
}

function failed(run: ActionRun, message: RegExp): void {
  expect(run.code).toBe(1);
  expect(failure(run)).toMatch(message);
  expect(run.everything).not.toContain(testbed().password);
}

function tools(binDir: string | undefined) {
  return { binDir: binDir ?? '', version: { major: 0 }, source: 'explicit' as const };
}

async function tablesOf(major: ServerMajor, db: string): Promise<string[]> {
  const rows = await sql<{ t: string }>(
    major,
    db,
    "SELECT schemaname || '.' || tablename AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
  );
  return rows.map((r) => r.t);
}

/** A plain dump of the dataset written by the Action itself. */
async function plainDump(major: ServerMajor, db: string, name: string): Promise<string> {
  const file = path.join(scratch.dir, name);
  ok(await action({ command: 'dump', from: connUrl(major, db), to: file, format: 'plain' }));
  return file;
}

describe('action: copy', () => {
  it('copies 15 → 18 (an upgrade) with identical schema and rows', async () => {
    const source = await createDatabase(15, 'copy_src');
    await loadDataset(15, source, 400);
    const target = uniqueName('copy_dst');
    // globals: the dataset grants to roles that only the source cluster has.
    const run = await action({
      command: 'copy',
      from: connUrl(15, source),
      to: connUrl(18, target),
      jobs: '1',
      globals: 'true',
    });
    ok(run);
    expect(run.log).toContain('streaming pg_dump straight into the restore (one job, no intermediate file)');
    expect(run.outputs['client-version']).toBe('18.0');
    expect(run.outputs['server-version']).toMatch(/^18\./);
    expect(run.outputs.tables).toBe('8');
    const pg18 = tools(run.outputs['bin-dir']);
    // Servers of different majors word view definitions differently: compare the objects themselves.
    const objects = await objectsOf(pg18, 18, target);
    expect(objects.length).toBeGreaterThan(40);
    expect(objects).toEqual(await objectsOf(pg18, 15, source));
    expect(await rowHashes(18, target)).toEqual(await rowHashes(15, source));
  });

  it('copies table by table with parallel workers, no temporary archive, when jobs > 1', async () => {
    const source = await createDatabase(17, 'copy_par');
    await loadDataset(17, source, 400);
    const target = uniqueName('copy_par_dst');
    const run = await action({
      command: 'copy',
      from: connUrl(17, source),
      to: connUrl(17, target),
      jobs: '2',
    });
    ok(run);
    expect(run.log).toContain('with 2 workers, each COPY straight from the source into the target');
    expect(run.log).not.toContain('dumping to a temporary archive');
    expect(await rowHashes(17, target)).toEqual(await rowHashes(17, source));
  });

  it('refuses 18 → 15 without allow-downgrade, naming both versions, and completes with it', async () => {
    const source = await createDatabase(18, 'down_src');
    await sql(
      18,
      source,
      `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, tags text[]);
       CREATE INDEX items_name ON items (name);
       CREATE VIEW named AS SELECT id, name FROM items;
       INSERT INTO items SELECT i, 'item ' || i, ARRAY['a', 'b'] FROM generate_series(1, 500) i;`,
    );
    const target = uniqueName('down_dst');
    const refused = await action({ command: 'copy', from: connUrl(18, source), to: connUrl(15, target) });
    failed(
      refused,
      /^allow-downgrade: the dump comes from a PostgreSQL 18\.\d+ server and the target runs PostgreSQL 15\.\d+/,
    );

    const allowed = await action({
      command: 'copy',
      from: connUrl(18, source),
      to: connUrl(15, target),
      'allow-downgrade': 'true',
    });
    ok(allowed);
    expect(allowed.log).toMatch(
      /::warning::filtered from the script for PostgreSQL 15: transaction_timeout \(1×: line \d+\)/,
    );
    expect(allowed.summary).toMatch(/transaction_timeout \(1×: line \d+\)/);
    expect(await rowHashes(15, target)).toEqual(await rowHashes(18, source));
  });

  it('refuses a copy onto its own source', async () => {
    const db = await createDatabase(16, 'self');
    failed(
      await action({ command: 'copy', from: connUrl(16, db), to: connUrl(16, db) }),
      /^to: is the source itself/,
    );
  });

  it('carries roles across with globals, without their passwords', async () => {
    const role = uniqueName('pgferry_role');
    const source = await createDatabase(17, 'glob_src');
    await sql(
      17,
      source,
      `CREATE ROLE ${role} LOGIN PASSWORD 'role-secret-9'; CREATE TABLE owned (id int); ALTER TABLE owned OWNER TO ${role}`,
    );
    const target = uniqueName('glob_dst');
    ok(
      await action({ command: 'copy', from: connUrl(17, source), to: connUrl(18, target), globals: 'true' }),
    );
    const rows = await sql<{ rolcanlogin: boolean; rolpassword: string | null }>(
      18,
      'postgres',
      `SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = '${role}'`,
    );
    expect(rows).toEqual([{ rolcanlogin: true, rolpassword: null }]);
    const owner = await sql<{ o: string }>(
      18,
      target,
      "SELECT tableowner AS o FROM pg_tables WHERE tablename = 'owned'",
    );
    expect(owner).toEqual([{ o: role }]);
  });
});

describe('action: restore guarantees', () => {
  let source: string;
  let archive: string;
  beforeAll(async () => {
    source = await createDatabase(17, 'guard_src');
    await loadDataset(17, source, 200);
    archive = path.join(scratch.dir, 'guard.dump');
    ok(await action({ command: 'dump', from: connUrl(17, source), to: archive }));
  });

  it('stops at a SQL error in a plain dump and leaves the target as it was', async () => {
    const file = await plainDump(17, source, 'broken.sql');
    writeFileSync(file, '\nSELECT 1/0;\n', { flag: 'a' });
    const target = await createDatabase(17, 'broken_dst');
    failed(
      await action({ command: 'restore', from: file, to: connUrl(17, target) }),
      /^psql exited with code 3:\n.*division by zero/s,
    );
    expect(await tablesOf(17, target)).toEqual([]);
  });

  it('stops at the first error of an archive restore with one job and leaves the target as it was', async () => {
    const target = await createDatabase(17, 'conflict_dst');
    await sql(
      17,
      target,
      'CREATE SCHEMA inventory; CREATE TABLE inventory.keep (id int); INSERT INTO inventory.keep VALUES (1)',
    );
    const before = await rowHashes(17, target);
    failed(
      await action({
        command: 'restore',
        from: archive,
        to: connUrl(17, target),
        jobs: '1',
        confirm: target,
      }),
      /^pg_restore exited with code 1:\n.*schema "inventory" already exists/s,
    );
    expect(await tablesOf(17, target)).toEqual(['inventory.keep']);
    expect(await rowHashes(17, target)).toEqual(before);
  });

  it('refuses a destructive restore without confirm, naming confirm, and touches nothing', async () => {
    const target = uniqueName('occupied');
    ok(await action({ command: 'restore', from: archive, to: connUrl(17, target) }));
    await sql(17, target, "UPDATE sales.customers SET name = 'changed' WHERE id = 1");
    const before = await rowHashes(17, target);
    failed(
      await action({ command: 'restore', from: archive, to: connUrl(17, target), clean: 'true' }),
      new RegExp(
        `^confirm: this restore into "${target}" is destructive \\(clean drops its existing objects\\); set confirm to "${target}"`,
      ),
    );
    failed(
      await action({
        command: 'restore',
        from: archive,
        to: connUrl(17, target),
        clean: 'true',
        confirm: 'prod',
      }),
      /^confirm: "prod" does not match the target database/,
    );
    expect(await rowHashes(17, target)).toEqual(before);
    ok(
      await action({
        command: 'restore',
        from: archive,
        to: connUrl(17, target),
        clean: 'true',
        confirm: target,
      }),
    );
    expect(await rowHashes(17, target)).toEqual(await rowHashes(17, source));
  });

  it('runs sql-after in the restore’s own transaction; its failure fails the step and rolls everything back', async () => {
    const anonymise = path.join(scratch.dir, 'anonymise.sql');
    writeFileSync(
      anonymise,
      "UPDATE sales.customers SET email = 'user' || id || '@example.invalid', avatar = NULL;\n",
    );
    const grants = path.join(scratch.dir, 'grants.sql');
    writeFileSync(grants, 'GRANT SELECT ON ALL TABLES IN SCHEMA sales TO pgferry_app;\n');
    const target = uniqueName('staging');
    ok(
      await action({
        command: 'restore',
        from: archive,
        to: connUrl(17, target),
        'sql-after': `${anonymise}\n${grants}`,
      }),
    );
    const emails = await sql<{ n: string }>(
      17,
      target,
      "SELECT count(*) AS n FROM sales.customers WHERE email NOT LIKE '%@example.invalid'",
    );
    expect(emails).toEqual([{ n: '0' }]);

    const broken = path.join(scratch.dir, 'broken-after.sql');
    writeFileSync(broken, "UPDATE sales.customers SET name = 'gone';\nSELECT 1/0;\n");
    const second = uniqueName('staging');
    failed(
      await action({ command: 'restore', from: archive, to: connUrl(17, second), 'sql-after': broken }),
      /^sql-after: .*broken-after\.sql, line 2: ERROR: +division by zero; nothing was committed \(the restore and the SQL roll back together\)/,
    );
    // sql-after ran in the restore's own transaction: nothing of it, nor of the restore, stayed, and
    // the database pgferry created for it is gone again.
    const exists = await sql(17, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${second}'`);
    expect(exists).toEqual([]);
  });
});
