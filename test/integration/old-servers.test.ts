import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { dumpToPath } from '../../core/jobs/dump.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { runJob } from '../../core/jobs/run-job.js';
import type { JobReport } from '../../core/jobs/report.js';
import { parseJobOptions } from '../../core/options.js';
import { ClientCatalog } from '../../core/pg/clients/catalog.js';
import type { ClientTools } from '../../core/pg/clients/tools.js';
import { parseConnection } from '../../core/pg/connection.js';
import { formatVersion } from '../../core/pg/version.js';
import { objectsOf, rowHashes, schemaOf } from '../harness/compare.js';
import { databaseProps } from '../harness/database-state.js';
import { loadDataset } from '../harness/dataset.js';
import { catalog, scratchDir, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { useOldServers } from '../harness/old-servers.js';
import { OLD_SERVER_MAJORS, type ServerMajor } from '../harness/paths.js';
import { connUrl, createDatabase, mirrorUrl, sql, uniqueName } from '../harness/testbed.js';

/**
 * Issue 14, old servers: upgrading off PostgreSQL 10–13 is a main use of pg_dump. Each of them is
 * copied into 18 (the upgrade path) and dumped and restored on its own major, with pgferry's choice
 * of client asserted from the job report. No client of 10–13 can be had here (Debian's 15 is
 * installed, the mirror serves 17.5 and 18.0), so DESIGN.md's "lowest newer major that can" is 15
 * for every one of them, with a warning. Then the catalog code that runs against the target is
 * attacked on the old major: a clean restore over an existing database (the swap and its catalog
 * snapshot) and a parallel restore into an existing database that fails (the undo's snapshot and
 * its drop statements).
 */
useOldServers();
const scratch = scratchDir();
afterAll(() => scratch.cleanup());

/** What DESIGN.md's policy picks here for a 10–13 server: the lowest newer major available. */
const LOWEST_NEWER_CLIENT = 15;

/** `app.loading` is on only where the source is built: there the trap lets its rows through. */
const LOADING = "coalesce(current_setting('app.loading', true), '') = 'on'";
const TRAP = `SET app.loading = on;
  CREATE FUNCTION public.row_ok(int) RETURNS bool LANGUAGE sql IMMUTABLE AS $$ SELECT $1 < 1000 OR ${LOADING} $$;
  CREATE TABLE public.trap (id int CHECK (public.row_ok(id))); INSERT INTO public.trap VALUES (1), (5000);`;

/** The target's own objects, which an undo must leave as they were. */
const EXISTING = `CREATE SCHEMA mine;
  CREATE TABLE mine.t (id int PRIMARY KEY, v text); INSERT INTO mine.t SELECT i, md5(i::text) FROM generate_series(1, 100) i;
  CREATE FUNCTION mine.f(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1 $$;
  CREATE AGGREGATE mine.total(int) (sfunc = int4pl, stype = int);
  CREATE VIEW mine.v AS SELECT id FROM mine.t;
  SELECT lo_from_bytea(0, 'the target''s own large object');`;

async function job(inputs: Record<string, string>): Promise<{ report: JobReport; log: RecordingLogger }> {
  const log = new RecordingLogger();
  const all: Record<string, string> = { mirror: mirrorUrl(), ...inputs };
  const report = await runJob(
    parseJobOptions((name) => all[name], {}),
    { log, cacheDir: SHARED_CLIENT_CACHE },
  );
  return { report, log };
}

async function versionOf(major: ServerMajor): Promise<string> {
  const [row] = await sql<{ v: string }>(major, 'postgres', "SELECT current_setting('server_version') AS v");
  return row?.v ?? '';
}

const lowestNewerWarning = (major: number): string =>
  `no PostgreSQL ${major} client could be had; using ${LOWEST_NEWER_CLIENT}, the lowest newer major available, for dumping a PostgreSQL ${major} server`;

let client15: ClientTools;
let client18: ClientTools;
beforeAll(async () => {
  client15 = await catalog().provide({ major: LOWEST_NEWER_CLIENT });
  client18 = await catalog().provide({ major: 18 });
});

describe.each(OLD_SERVER_MAJORS)('PostgreSQL %i as a dump source', (major) => {
  let source: string;
  let version: string;
  let archive: string;
  let dumped: JobReport;
  beforeAll(async () => {
    version = await versionOf(major);
    expect(version).toMatch(new RegExp(`^${major}\\.\\d+`));
    source = await createDatabase(major, 'old');
    await loadDataset(major, source, 400);
    // Database-level properties, which pgferry carries itself (its capture reads them from the TOC).
    await sql(
      major,
      source,
      `COMMENT ON SCHEMA sales IS $$sold things$$; COMMENT ON DATABASE ${source} IS $$from the old server$$;
       ALTER DATABASE ${source} SET work_mem = '8MB'; ALTER DATABASE ${source} CONNECTION LIMIT 40;
       GRANT CONNECT ON DATABASE ${source} TO pgferry_reader`,
    );
    const props = await databaseProps(major, source);
    expect(props).toMatchObject({
      comment: 'from the old server',
      datconnlimit: 40,
      settings: ['{work_mem=8MB}'],
    });
    archive = path.join(scratch.dir, `${source}.dump`);
    dumped = (await job({ command: 'dump', from: connUrl(major, source), to: archive })).report;
  });

  it('copies into 18 with pg_dump 15 and pg_restore 18: same objects, rows and large objects', async () => {
    const target = uniqueName('up');
    const { report, log } = await job({
      command: 'copy',
      from: connUrl(major, source),
      to: connUrl(18, target),
      // The upgrade path: the source's roles (its grants name them) come along.
      globals: 'true',
    });
    const target18 = await versionOf(18);
    expect(report.command).toBe('copy');
    // The report's client is the restore side's; the dump side's choice is in its reason and warning.
    expect(report.clientVersion).toMatch(/^18\./);
    expect(report.reason).toBe(
      `dump: the source server runs PostgreSQL ${version} and no ${major} client could be had; restore: the target server runs PostgreSQL ${target18}`,
    );
    expect(report.warnings).toContain(lowestNewerWarning(major));
    expect(log.warnings).toContain(lowestNewerWarning(major));
    expect(report.serverVersion).toBe(target18);

    // Servers of different majors word definitions differently: the objects are compared, with
    // the rows and large objects, by one pg_dump (18's) for both sides.
    expect(await objectsOf(client18, 18, target)).toEqual(await objectsOf(client18, major, source));
    const rows = await rowHashes(major, source);
    expect(rows['(large objects)']).toMatch(/^5:/);
    expect(rows['sales.orders']).toMatch(/^1200:/);
    expect(await rowHashes(18, target)).toEqual(rows);
    expect(await databaseProps(18, target)).toEqual(await databaseProps(major, source));
  });

  it('dumps and restores on its own major with client 15: identical schema, rows and large objects', async () => {
    expect(dumped.clientVersion).toMatch(new RegExp(`^${LOWEST_NEWER_CLIENT}\\.`));
    expect(dumped.clientSource).toBe('installed');
    expect(dumped.serverVersion).toBe(version);
    expect(dumped.archiveVersion).toBe('1.14');
    expect(dumped.reason).toBe(
      `the source server runs PostgreSQL ${version} and no ${major} client could be had`,
    );
    expect(dumped.warnings).toContain(lowestNewerWarning(major));

    const target = uniqueName('same');
    const restored = await job({ command: 'restore', from: archive, to: connUrl(major, target) });
    expect(restored.report.clientVersion).toMatch(new RegExp(`^${LOWEST_NEWER_CLIENT}\\.`));
    // 12 and 13 read the archive pg_dump 15 writes (1.14); 10 and 11 do not, so pg_restore 12 or newer it is.
    expect(restored.report.reason).toBe(
      major >= 12
        ? `the target server runs PostgreSQL ${version} and no ${major} client could be had`
        : `the archive (format 1.14, written by pg_dump ${dumped.clientVersion}) needs pg_restore 12 or newer`,
    );
    expect(restored.report.warnings).toContain(
      `no PostgreSQL ${major >= 12 ? major : 12} client could be had; using ${LOWEST_NEWER_CLIENT}, the lowest newer major available, for restoring into a PostgreSQL ${major} server`,
    );

    expect(await schemaOf(client15, major, target)).toBe(await schemaOf(client15, major, source));
    expect(await rowHashes(major, target)).toEqual(await rowHashes(major, source));
    expect(await databaseProps(major, target)).toEqual(await databaseProps(major, source));
  });

  it('a clean restore over an older restore of it swaps the new one in, identical to the source', async () => {
    const target = uniqueName('clean');
    await job({ command: 'restore', from: archive, to: connUrl(major, target) });
    await sql(
      major,
      target,
      "DELETE FROM sales.order_items; UPDATE sales.customers SET name = 'stale'; SELECT lo_unlink(content) FROM audit.documents WHERE id = 1",
    );
    const { report } = await job({
      command: 'restore',
      from: archive,
      to: connUrl(major, target),
      clean: 'true',
      confirm: target,
    });
    expect(report.swapped).toBe(true);
    expect(await schemaOf(client15, major, target)).toBe(await schemaOf(client15, major, source));
    expect(await rowHashes(major, target)).toEqual(await rowHashes(major, source));
    expect(await databaseProps(major, target)).toEqual(await databaseProps(major, source));
  });

  it('a failed parallel restore into an existing database drops what it made and keeps what was there', async () => {
    const trapped = await createDatabase(major, 'trapped');
    await loadDataset(major, trapped, 50);
    await sql(major, trapped, TRAP);
    const trappedArchive = path.join(scratch.dir, `${trapped}.dump`);
    await job({ command: 'dump', from: connUrl(major, trapped), to: trappedArchive });

    const target = await createDatabase(major, 'kept');
    await sql(major, target, EXISTING);
    const schemaBefore = await schemaOf(client15, major, target);
    const rowsBefore = await rowHashes(major, target);

    const error = await failureOf(
      job({
        command: 'restore',
        from: trappedArchive,
        to: connUrl(major, target),
        jobs: '2',
        confirm: target,
      }),
    );
    expect(error.message).toMatch(/row_ok|trap/);
    expect(error.message).toMatch(/objects this restore had made were dropped; the database is as it was/);
    expect(await schemaOf(client15, major, target)).toBe(schemaBefore);
    expect(await rowHashes(major, target)).toEqual(rowsBefore);
  });
});

/**
 * Without Debian's 15 (a runner with no PostgreSQL installed), the lowest newer major that can be
 * had for a 10–13 server is the mirror's 17: pg_dump 17 writes archive 1.16, which only pg_restore
 * 17 reads, and pg_restore 17 sets transaction_timeout, which these servers do not know. The
 * restore must go through the filtered script and still be identical.
 */
describe.each(OLD_SERVER_MAJORS)('PostgreSQL %i with no installed client', (major) => {
  it('dumps with the mirror 17 and restores through the script with transaction_timeout filtered', async () => {
    const log = new RecordingLogger();
    const noInstalled = new ClientCatalog({
      log,
      mirror: mirrorUrl(),
      cacheDir: SHARED_CLIENT_CACHE,
      installedDirs: () => [],
    });
    const source = await createDatabase(major, 'bare');
    await loadDataset(major, source, 200);
    const file = path.join(scratch.dir, `${source}.dump`);
    const dumped = await dumpToPath({
      from: parseConnection(connUrl(major, source), 'from', {}),
      to: file,
      format: 'custom',
      compress: 'auto',
      jobs: 1,
      postgresVersion: { kind: 'auto' },
      catalog: noInstalled,
      log,
    });
    expect(dumped.client.version.major).toBe(17);
    expect(dumped.client.source).not.toBe('installed');
    expect(dumped.archive.archiveVersion).toBe('1.16');
    expect(dumped.choice.warnings).toContain(
      `no PostgreSQL ${major} client could be had; using 17, the lowest newer major available, for dumping a PostgreSQL ${major} server`,
    );

    const target = uniqueName('bare_dst');
    const restored = await restoreFromPath({
      from: file,
      to: parseConnection(connUrl(major, target), 'to', {}),
      jobs: 'auto',
      postgresVersion: { kind: 'auto' },
      catalog: noInstalled,
      log,
    });
    expect(restored.client.version.major).toBe(17);
    expect(restored.choice.reason).toBe(
      `the archive (format 1.16, written by pg_dump ${formatVersion(dumped.client.version)}) needs pg_restore 17 or newer`,
    );
    expect(restored.path).toBe('script');
    expect(restored.filtered).toEqual([expect.stringMatching(/^transaction_timeout \(1×: line \d+\)$/)]);
    expect(await schemaOf(dumped.client, major, target)).toBe(await schemaOf(dumped.client, major, source));
    expect(await rowHashes(major, target)).toEqual(await rowHashes(major, source));
  });
});
