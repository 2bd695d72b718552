import { readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { copyDatabase } from '../../core/jobs/copy.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import type { ClientTools } from '../../core/pg/clients/tools.js';
import { parseConnection } from '../../core/pg/connection.js';
import { scratchName, scratchStem, SwapSession } from '../../core/pg/scratch-database.js';
import { stateOf } from '../harness/target-state.js';
import { rowHashes } from '../harness/compare.js';
import { catalog, dumpFile, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import type { ServerMajor } from '../harness/paths.js';
import { connUrl, createDatabase, sql } from '../harness/testbed.js';
import { scratchesOf } from '../harness/database-state.js';

/**
 * Replace by swap: a clean restore or copy of a whole database is built beside the target and
 * renamed into its place in one transaction. Whatever fails before that, the target is what it was
 * (schema, rows and its database-level properties), and no scratch database outlives the next run.
 */

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

const to = (major: ServerMajor, db: string) => parseConnection(connUrl(major, db), 'to', {});
const hooks = () => {
  const log = new RecordingLogger();
  return { postgresVersion: { kind: 'auto' as const }, catalog: catalog(log), log };
};

const SOURCE_SQL = `
  CREATE SCHEMA "my schema";
  CREATE TABLE "my schema"."Order Lines" (id int PRIMARY KEY, note text);
  INSERT INTO "my schema"."Order Lines" SELECT i, 'line ' || i FROM generate_series(1, 2000) i;
  CREATE TABLE public.items (id int PRIMARY KEY, qty int CHECK (qty >= 0));
  INSERT INTO public.items SELECT i, i FROM generate_series(1, 2000) i;
  CREATE INDEX ON public.items (qty);`;

describe.each([14, 18] as const)('replace by swap on PostgreSQL %i', (major) => {
  let tools: ClientTools;
  let archive: string;
  let dirArchive: string;
  let source: string;

  beforeAll(async () => {
    tools = await catalog().provide({ major: 18 });
    source = await createDatabase(major, 'swap_src');
    await sql(major, source, SOURCE_SQL);
    archive = await dumpFile(major, source, path.join(scratch.dir, `swap-${major}.dump`));
    dirArchive = await dumpFile(major, source, path.join(scratch.dir, `swap-${major}.dir`), 'directory');
  });

  /** A target holding an earlier copy of the source, changed since, with properties of its own. */
  async function earlierCopy(): Promise<string> {
    const db = await createDatabase(major, 'swap_tgt');
    await sql(major, db, SOURCE_SQL);
    await sql(
      major,
      db,
      `UPDATE public.items SET qty = 0; DELETE FROM "my schema"."Order Lines" WHERE id > 10`,
    );
    await sql(
      major,
      'postgres',
      `COMMENT ON DATABASE ${db} IS 'staging, do not touch'; ALTER DATABASE ${db} SET work_mem = '7MB';
       ALTER DATABASE ${db} CONNECTION LIMIT 40`,
    );
    return db;
  }

  test('a clean restore with 2 jobs swaps the whole archive in, keeping the target’s own properties', async () => {
    const db = await earlierCopy();
    const before = (await stateOf(tools, major, db)) as { props: unknown };
    const h = hooks();
    const result = await restoreFromPath({
      from: dirArchive,
      to: to(major, db),
      jobs: 2,
      clean: true,
      confirm: db,
      ...h,
    });
    expect(result.swapped).toBe(true);
    expect(result.jobs).toBe(2);
    expect(result.target.database).toBe(db);
    expect(await rowHashes(major, db)).toEqual(await rowHashes(major, source));
    const after = (await stateOf(tools, major, db)) as { props: unknown };
    expect(after.props).toEqual(before.props);
    expect(await scratchesOf(major, db)).toEqual([]);
  });

  test.each([
    ['a truncated archive', 'truncated'],
    ['a row violating a constraint', 'violation'],
    ['sql-after failing', 'sql-after'],
    ['its connection terminated mid-restore', 'terminated'],
  ])('a clean restore that fails at %s leaves the target as it was', async (_what, fault) => {
    const db = await earlierCopy();
    const before = await stateOf(tools, major, db);
    let from = archive;
    let sqlInTransaction: { files: string[]; input: string } | undefined;
    if (fault === 'truncated') {
      from = path.join(scratch.dir, `trunc-${major}.dump`);
      await dumpFile(major, source, from);
      truncateSync(from, Math.floor(statSync(from).size * 0.7));
    }
    if (fault === 'violation') {
      const bad = await createDatabase(major, 'swap_bad');
      // The check's function is changed after the rows went in: restored, the rows break it.
      await sql(
        major,
        bad,
        `CREATE FUNCTION qty_ok(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
         CREATE TABLE public.items (id int PRIMARY KEY, qty int CHECK (qty_ok(qty)));
         INSERT INTO public.items SELECT i, -i FROM generate_series(1, 100) i;
         CREATE OR REPLACE FUNCTION qty_ok(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 >= 0';`,
      );
      from = await dumpFile(major, bad, path.join(scratch.dir, `bad-${major}.dir`), 'directory');
    }
    if (fault === 'sql-after') {
      const file = path.join(scratch.dir, 'fails.sql');
      writeFileSync(file, 'UPDATE public.items SET qty = 1;\nSELECT no_such_column FROM public.items;\n');
      sqlInTransaction = { files: [file], input: 'sql-after' };
    }
    const restore = restoreFromPath({
      from: fault === 'violation' ? from : fault === 'truncated' ? from : dirArchive,
      to: to(major, db),
      jobs: 2,
      clean: true,
      confirm: db,
      ...(sqlInTransaction ? { sqlInTransaction } : {}),
      ...hooks(),
    });
    let killer: NodeJS.Timeout | undefined;
    if (fault === 'terminated') {
      // End every session on the database being built as soon as one appears.
      killer = setInterval(() => {
        void sql(
          major,
          'postgres',
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname LIKE '${scratchStem(db)}%' AND backend_type = 'client backend'`,
        ).catch(() => {});
      }, 20);
    }
    const error = await failureOf(restore).finally(() => clearInterval(killer));
    expect(error.message).not.toMatch(/password/i);
    expect(await stateOf(tools, major, db)).toEqual(before);
    expect(await scratchesOf(major, db)).toEqual([]);
  });

  test('the next run removes a scratch database an interrupted swap left, and refuses a concurrent one', async () => {
    const db = await earlierCopy();
    const left = scratchName(db, 'new');
    await sql(major, 'postgres', `CREATE DATABASE ${left}`);
    const held = await SwapSession.open(to(major, db));
    try {
      const refused = await failureOf(
        restoreFromPath({ from: archive, to: to(major, db), jobs: 1, clean: true, confirm: db, ...hooks() }),
      );
      expect(refused.message).toMatch(/another pgferry run is replacing/);
    } finally {
      await held.close();
    }
    const h = hooks();
    await restoreFromPath({ from: archive, to: to(major, db), jobs: 1, clean: true, confirm: db, ...h });
    expect(h.log.lines.map((l) => l.message).join('\n')).toContain(left);
    expect(await scratchesOf(major, db)).toEqual([]);
    expect(await rowHashes(major, db)).toEqual(await rowHashes(major, source));
  });

  test.each([
    ['an in-place clean restore', 'restore'],
    ['an in-place clean copy', 'copy'],
  ])('%s removes what an interrupted swap into the same target left, too', async (_what, how) => {
    const db = await earlierCopy();
    const left = [scratchName(db, 'new'), scratchName(db, 'old')];
    for (const name of left) await sql(major, 'postgres', `CREATE DATABASE ${name}`);
    const h = hooks();
    const into = { to: to(major, db), jobs: 1, clean: true, confirm: db, swap: false, ...h };
    const result =
      how === 'restore'
        ? await restoreFromPath({ ...into, from: archive })
        : await copyDatabase({ ...into, from: to(major, source) });
    expect(result.swapped).toBeUndefined();
    const log = h.log.lines.map((l) => l.message).join('\n');
    for (const name of left) expect(log).toContain(name);
    expect(await scratchesOf(major, db)).toEqual([]);
    expect(await rowHashes(major, db)).toEqual(await rowHashes(major, source));
  });

  test('after an in-place clean restore (public recreated), the next clean restore is swapped in', async () => {
    const db = await earlierCopy();
    const inPlace = await restoreFromPath({
      from: archive,
      to: to(major, db),
      jobs: 1,
      clean: true,
      confirm: db,
      swap: false,
      ...hooks(),
    });
    expect(inPlace.swapped).toBeUndefined();
    await sql(major, db, 'UPDATE public.items SET qty = 0');
    const h = hooks();
    const swapped = await restoreFromPath({
      from: dirArchive,
      to: to(major, db),
      jobs: 2,
      clean: true,
      confirm: db,
      ...h,
    });
    expect(h.log.lines.map((l) => l.message).join('\n')).not.toMatch(/restoring in place/);
    expect(swapped.swapped).toBe(true);
    expect(await rowHashes(major, db)).toEqual(await rowHashes(major, source));
    expect(await scratchesOf(major, db)).toEqual([]);
  });

  test('a target holding what the archive lacks is restored in place, and keeps it', async () => {
    const db = await earlierCopy();
    await sql(major, db, `CREATE SCHEMA my; CREATE TABLE my.keep (id int); INSERT INTO my.keep VALUES (1)`);
    const h = hooks();
    const result = await restoreFromPath({
      from: archive,
      to: to(major, db),
      jobs: 2,
      clean: true,
      confirm: db,
      ...h,
    });
    expect(result.swapped).toBeUndefined();
    expect(h.log.lines.map((l) => l.message).join('\n')).toMatch(/restoring in place.*schema "my"/);
    expect(await sql(major, db, 'SELECT id FROM my.keep')).toEqual([{ id: 1 }]);
    expect((await rowHashes(major, db))['public.items']).toEqual(
      (await rowHashes(major, source))['public.items'],
    );
  });

  test('a clean copy with 2 jobs swaps in; one failing in sql-after leaves the target as it was', async () => {
    const db = await earlierCopy();
    const before = await stateOf(tools, major, db);
    const file = path.join(scratch.dir, 'copy-fails.sql');
    writeFileSync(file, 'UPDATE public.items SET qty = 2;\nSELECT 1/0;\n');
    const base = {
      from: parseConnection(connUrl(major, source), 'from', {}),
      to: to(major, db),
      jobs: 2,
      clean: true,
      confirm: db,
    };
    await failureOf(copyDatabase({ ...base, sqlAfter: [file], ...hooks() }));
    expect(await stateOf(tools, major, db)).toEqual(before);
    const result = await copyDatabase({ ...base, ...hooks() });
    expect(result.swapped).toBe(true);
    expect(await rowHashes(major, db)).toEqual(await rowHashes(major, source));
    expect(await scratchesOf(major, db)).toEqual([]);
    expect(readdirSync(scratch.dir).length).toBeGreaterThan(0);
  });
});
