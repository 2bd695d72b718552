import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { defaultJobs } from '../../core/jobs/parallelism.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import type { ClientTools } from '../../core/pg/clients/tools.js';
import { parseConnection } from '../../core/pg/connection.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { catalog, dumpFile, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';

/**
 * `jobs: auto` into a database that already existed: only one job runs in one transaction, so that is
 * what auto chooses there — a corrupt archive then leaves the database exactly as it was. Jobs given
 * by number run in parallel and are undone on failure (undo-new-objects.ts). A database pgferry
 * creates itself still gets parallel jobs (a failure drops it again).
 */
const scratch = scratchDir();
let tools: ClientTools;
let good: string;
let corrupt: string;

beforeAll(async () => {
  tools = await catalog().provide({ major: 17 });
  const source = await createDatabase(17, 'par_src');
  await sql(
    17,
    source,
    `CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a SELECT i, md5(i::text) FROM generate_series(1, 50000) i;
     CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b SELECT i, md5(i::text) FROM generate_series(1, 50000) i;`,
  );
  good = await dumpFile(17, source, path.join(scratch.dir, 'good.dump'));
  // The table of contents (and its data offsets) intact, the data cut short.
  const bytes = readFileSync(good);
  corrupt = path.join(scratch.dir, 'corrupt.dump');
  writeFileSync(corrupt, bytes.subarray(0, Math.floor(bytes.length * 0.8)));
});
afterAll(() => scratch.cleanup());

function restore(file: string, db: string, jobs: number | 'auto', log = new RecordingLogger()) {
  return restoreFromPath({
    from: file,
    to: parseConnection(connUrl(17, db), 'to', {}),
    jobs,
    confirm: db,
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
  });
}

const parallelMachine = defaultJobs() > 1;

describe('jobs: auto into a database that existed before', () => {
  it('takes one job, says why, and a corrupt archive leaves the database as it was', async () => {
    const db = await createDatabase(17, 'par_old');
    await sql(17, db, 'CREATE TABLE keep (id int); INSERT INTO keep VALUES (1)');
    const before = [await schemaOf(tools, 17, db), await rowHashes(17, db)];
    const log = new RecordingLogger();
    await failureOf(restore(corrupt, db, 'auto', log));
    expect([await schemaOf(tools, 17, db), await rowHashes(17, db)]).toEqual(before);
    if (parallelMachine)
      expect(log.lines.map((l) => l.message).join('\n')).toContain(
        'the target database existed before this restore',
      );
  });

  it('restores in parallel when asked for by number, and a corrupt archive then leaves the database as it was', async () => {
    const db = await createDatabase(17, 'par_old');
    await sql(17, db, 'CREATE TABLE keep (id int); INSERT INTO keep VALUES (1)');
    const before = [await schemaOf(tools, 17, db), await rowHashes(17, db)];
    const log = new RecordingLogger();
    const error = await failureOf(restore(corrupt, db, 2, log));
    expect(error.message).toMatch(/objects this restore had made were dropped; the database is as it was/);
    expect([await schemaOf(tools, 17, db), await rowHashes(17, db)]).toEqual(before);
    expect(log.warnings.join('\n')).not.toContain('not all-or-nothing');
    const ok = await createDatabase(17, 'par_old');
    expect((await restore(good, ok, 2)).jobs).toBe(2);
  });

  it('keeps parallel jobs for a database it creates itself, and drops it again on failure', async () => {
    const db = uniqueName('par_new');
    const result = await restore(good, db, 'auto');
    expect(result.jobs).toBe(defaultJobs());
    const failed = uniqueName('par_new');
    await failureOf(restore(corrupt, failed, 'auto'));
    expect(await sql(17, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${failed}'`)).toEqual([]);
  });
});
