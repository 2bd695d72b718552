import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { dumpToPath } from '../../core/jobs/dump.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { readTocEntries } from '../../core/pg/archive-toc.js';
import { parseConnection } from '../../core/pg/connection.js';
import { readFilterFile } from '../../core/pg/filter-file.js';
import type { VersionRequest } from '../../core/pg/version.js';
import { catalog, scratchDir } from '../harness/engine.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';
import type { ServerMajor } from '../harness/paths.js';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

/**
 * Three small tables with skewed columns, so ANALYZE finds most-common values worth comparing.
 * Autovacuum is off for them (pg_dump carries the option), so nothing can analyze a restored copy
 * behind the test's back: statistics found there came from the dump.
 */
async function seed(major: ServerMajor, db: string): Promise<void> {
  for (const t of ['alpha', 'beta', 'gamma']) {
    await sql(
      major,
      db,
      `CREATE TABLE public.${t} (id int PRIMARY KEY, kind text NOT NULL) WITH (autovacuum_enabled = false);
       INSERT INTO public.${t} SELECT g, 'k' || (g % 7) FROM generate_series(1, 3000) g;`,
    );
  }
  await sql(major, db, 'ANALYZE');
}

async function dump(
  major: ServerMajor,
  db: string,
  extra: {
    statistics?: boolean;
    filter?: string;
    postgresVersion?: VersionRequest;
    noPolicies?: boolean;
    sequenceData?: boolean;
    schemaOnly?: boolean;
  },
) {
  const log = new RecordingLogger();
  const file = path.join(scratch.dir, `${uniqueName('d')}.dump`);
  const result = await dumpToPath({
    from: parseConnection(connUrl(major, db), 'from', {}),
    to: file,
    format: 'custom',
    compress: 'auto',
    jobs: 'auto',
    postgresVersion: extra.postgresVersion ?? { kind: 'auto' },
    statistics: extra.statistics,
    filter: readFilterFile(extra.filter),
    noPolicies: extra.noPolicies,
    sequenceData: extra.sequenceData,
    schemaOnly: extra.schemaOnly,
    catalog: catalog(log),
    log,
  });
  return { file, result };
}

async function restore(
  major: ServerMajor,
  file: string,
  extra: { transactionSize?: number; postgresVersion?: VersionRequest; target?: string } = {},
) {
  const log = new RecordingLogger();
  const target = extra.target ?? uniqueName('dst');
  const result = await restoreFromPath({
    from: file,
    to: parseConnection(connUrl(major, target), 'to', {}),
    jobs: 'auto',
    postgresVersion: extra.postgresVersion ?? { kind: 'auto' },
    transactionSize: extra.transactionSize,
    allowDowngrade: true,
    catalog: catalog(log),
    log,
  });
  return { target, result, log };
}

/** The planner's view of a column, and whether anything analyzed the table since it was made. */
async function plannerFacts(major: ServerMajor, db: string, table: string) {
  const stats = await sql<{ vals: string | null; n_distinct: number }>(
    major,
    db,
    `SELECT most_common_vals::text AS vals, n_distinct FROM pg_stats
     WHERE schemaname = 'public' AND tablename = '${table}' AND attname = 'kind'`,
  );
  const [activity] = await sql<{ analyzed: boolean; reltuples: number }>(
    major,
    db,
    `SELECT (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL) AS analyzed,
            (SELECT reltuples FROM pg_class WHERE oid = 'public.${table}'::regclass) AS reltuples
     FROM pg_stat_user_tables WHERE relid = 'public.${table}'::regclass`,
  );
  return { stats, analyzed: activity?.analyzed, reltuples: activity?.reltuples };
}

describe('statistics: a dump of server 18 with its planner statistics', () => {
  let source: string;
  let file: string;
  beforeAll(async () => {
    source = await createDatabase(18, 'stats');
    await seed(18, source);
    ({ file } = await dump(18, source, { statistics: true }));
  });

  it('holds STATISTICS DATA entries, which pg_dump 18 leaves out unless asked', async () => {
    const withStats = await readTocEntries(file, 'custom');
    expect(withStats.filter((e) => e.desc === 'STATISTICS DATA').length).toBeGreaterThanOrEqual(3);
    const plain = await dump(18, source, {});
    expect(plain.result.client.version.major).toBe(18);
    const without = await readTocEntries(plain.file, 'custom');
    expect(without.filter((e) => e.desc === 'STATISTICS DATA')).toEqual([]);
  });

  it('restored into 18: pg_stats matches the source without any ANALYZE', async () => {
    const { target, result } = await restore(18, file);
    expect(result.client.version.major).toBe(18);
    expect(result.filtered).toEqual([]);
    const want = await plannerFacts(18, source, 'alpha');
    const got = await plannerFacts(18, target, 'alpha');
    expect(want.stats).toHaveLength(1);
    expect(got.stats).toEqual(want.stats);
    expect(got.analyzed).toBe(false);
    expect(got.reltuples).toBe(3000);
  });

  it('restored into 17: succeeds without them and says so', async () => {
    const { target, result, log } = await restore(17, file);
    expect(result.target.version.major).toBe(17);
    expect(result.filtered).toEqual([expect.stringMatching(/^statistics \(/)]);
    expect(log.warnings.join('\n')).toMatch(/filtered from the script for PostgreSQL 17: statistics/);
    const got = await plannerFacts(17, target, 'alpha');
    expect(got.stats).toEqual([]);
    expect(got.analyzed).toBe(false);
    const rows = await sql<{ n: string }>(17, target, 'SELECT count(*) AS n FROM public.alpha');
    expect(rows[0]?.n).toBe('3000');
  });
});

describe.each([
  [17 as ServerMajor, { kind: 'auto' } as VersionRequest, 17, '--filter'],
  [15 as ServerMajor, { kind: 'major', major: 15 } as VersionRequest, 15, 'flags'],
])('filter on server %i', (major, postgresVersion, client) => {
  it('two tables selected, one of them without its rows, round-trip as exactly that', async () => {
    const source = await createDatabase(major, 'filt');
    await seed(major, source);
    const filter = path.join(scratch.dir, `${uniqueName('f')}.filter`);
    writeFileSync(
      filter,
      '# only alpha and beta; beta as a definition\ninclude table public.alpha\ninclude table "public"."beta"\n\nexclude table_data public.beta\n',
    );
    const { file, result } = await dump(major, source, { filter, postgresVersion });
    expect(result.client.version.major).toBe(client);
    const { target } = await restore(major, file);
    const tables = await sql<{ t: string }>(
      major,
      target,
      `SELECT relname AS t FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 1`,
    );
    expect(tables.map((r) => r.t)).toEqual(['alpha', 'beta']);
    const counts = await sql<{ a: string; b: string }>(
      major,
      target,
      'SELECT (SELECT count(*) FROM public.alpha) AS a, (SELECT count(*) FROM public.beta) AS b',
    );
    expect(counts[0]).toEqual({ a: '3000', b: '0' });
  });
});

describe('no-policies and sequence-data: pg_dump 18', () => {
  it('leave the policy out, and carry the sequence value in a schema-only dump', async () => {
    const source = await createDatabase(18, 'pol');
    await sql(
      18,
      source,
      `CREATE TABLE public.doc (id int); ALTER TABLE public.doc ENABLE ROW LEVEL SECURITY;
       CREATE POLICY own ON public.doc USING (id > 0);
       CREATE SEQUENCE public.counter; SELECT setval('public.counter', 4242);`,
    );
    const { file } = await dump(18, source, { noPolicies: true, sequenceData: true, schemaOnly: true });
    const { target } = await restore(18, file);
    expect(await sql(18, target, 'SELECT policyname FROM pg_policies')).toEqual([]);
    const [seq] = await sql<{ last_value: string }>(18, target, 'SELECT last_value FROM public.counter');
    expect(seq?.last_value).toBe('4242');
    // The control: without the flags, the policy comes along and a schema-only dump resets the sequence.
    const plain = await dump(18, source, { schemaOnly: true });
    const back = await restore(18, plain.file);
    expect(await sql(18, back.target, 'SELECT policyname FROM pg_policies')).toEqual([{ policyname: 'own' }]);
    const [reset] = await sql<{ last_value: string }>(
      18,
      back.target,
      'SELECT last_value FROM public.counter',
    );
    expect(reset?.last_value).toBe('1');
  });

  it('asked of a 17 client, no-policies is refused by name and nothing is written', async () => {
    const source = await createDatabase(17, 'pol17');
    await expect(dump(17, source, { noPolicies: true })).rejects.toThrow(
      /^no-policies: needs pg_dump --no-policies, which PostgreSQL 18\+ clients have; the client chosen is 17/,
    );
    expect(readdirSync(scratch.dir).filter((f) => f.includes('pgferry-'))).toEqual([]);
  });
});

describe('transaction-size: pg_restore 17', () => {
  it('restores in batches, identical rows', async () => {
    const source = await createDatabase(17, 'txs');
    await seed(17, source);
    const { file } = await dump(17, source, {});
    const { target, result } = await restore(17, file, { transactionSize: 2 });
    expect(result.path).toBe('pg_restore');
    expect(result.client.version.major).toBe(17);
    const counts = await sql<{ n: string }>(
      17,
      target,
      'SELECT (SELECT count(*) FROM public.alpha) + (SELECT count(*) FROM public.beta) + (SELECT count(*) FROM public.gamma) AS n',
    );
    expect(counts[0]?.n).toBe('9000');
  });

  it('with a 15 client it is refused by name before the target is made', async () => {
    const source = await createDatabase(15, 'txs15');
    await seed(15, source);
    const { file } = await dump(15, source, {});
    const target = uniqueName('dst');
    const attempt = restore(15, file, {
      transactionSize: 2,
      postgresVersion: { kind: 'major', major: 15 },
      target,
    });
    await expect(attempt).rejects.toThrow(/^transaction-size: needs pg_restore --transaction-size/);
    const left = await sql(15, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${target}'`);
    expect(left).toEqual([]);
  });
});
