import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { copyDatabase } from '../../core/jobs/copy.js';
import { dumpToPath } from '../../core/jobs/dump.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { parseConnection } from '../../core/pg/connection.js';
import type { VersionRequest } from '../../core/pg/version.js';
import { catalog, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';

// An 18 dump whose statistics calls are longer than the script filter holds (8 KB): read by
// pg_restore 17 they reach the filter whole and are refused; pgferry's choice, pg_restore 18,
// leaves them out before the script is written, so the restore into 17 goes through.
const scratch = scratchDir();
afterAll(() => scratch.cleanup());

let file: string;
let db: string;
beforeAll(async () => {
  db = await createDatabase(18, 'widestats');
  // 300 distinct 500-character values: the histogram alone holds 101 of them (~50 KB in one call).
  await sql(
    18,
    db,
    `CREATE TABLE public.wide (id int PRIMARY KEY, label text NOT NULL);
     INSERT INTO public.wide SELECT g, lpad((g % 300)::text, 500, 'x') FROM generate_series(1, 6000) g;
     ANALYZE public.wide;`,
  );
  const log = new RecordingLogger();
  file = path.join(scratch.dir, `${uniqueName('d')}.dump`);
  await dumpToPath({
    from: parseConnection(connUrl(18, db), 'from', {}),
    to: file,
    format: 'custom',
    compress: 'auto',
    jobs: 1,
    postgresVersion: { kind: 'auto' },
    statistics: true,
    catalog: catalog(log),
    log,
  });
});

function restoreInto17(postgresVersion: VersionRequest) {
  const log = new RecordingLogger();
  const target = uniqueName('dst');
  const done = restoreFromPath({
    from: file,
    to: parseConnection(connUrl(17, target), 'to', {}),
    jobs: 'auto',
    postgresVersion,
    allowDowngrade: true,
    catalog: catalog(log),
    log,
  });
  return { done, target, log };
}

describe('an 18 archive with statistics calls over 8 KB restored into 17', () => {
  it('postgres-version auto takes pg_restore 18, which leaves the statistics out: restored, said', async () => {
    const { done, target } = restoreInto17({ kind: 'auto' });
    const result = await done;
    expect(result.client.version.major).toBe(18);
    expect(result.filtered).toEqual([expect.stringMatching(/^statistics \(pg_restore --no-statistics: /)]);
    const [n] = await sql<{ n: string }>(17, target, 'SELECT count(*) AS n FROM public.wide');
    expect(n?.n).toBe('6000');
    expect(
      await sql(17, target, `SELECT 1 FROM pg_stats WHERE schemaname = 'public' AND tablename = 'wide'`),
    ).toEqual([]);
  });

  it('the control: pg_restore 17 pinned passes the long call to the filter, which refuses it', async () => {
    const { done } = restoreInto17({ kind: 'major', major: 17 });
    const error = await failureOf(done);
    expect(error.message).toMatch(
      /a statistics call longer than 8192 bytes, which PostgreSQL 17 cannot take; restore with pg_restore 18 or newer/,
    );
  });
});

describe('a copy from 18 into 17 reports statistics left out only when it asked for them', () => {
  it.each([
    [true, [expect.stringMatching(/^statistics \(pg_restore --no-statistics: PostgreSQL 17 /)]],
    [undefined, []],
  ])('statistics: %s', async (statistics, filtered) => {
    const log = new RecordingLogger();
    const target = uniqueName('cp');
    const result = await copyDatabase({
      from: parseConnection(connUrl(18, db), 'from', {}),
      to: parseConnection(connUrl(17, target), 'to', {}),
      jobs: 1,
      postgresVersion: { kind: 'auto' },
      allowDowngrade: true,
      ...(statistics === undefined ? {} : { statistics }),
      catalog: catalog(log),
      log,
    } as Parameters<typeof copyDatabase>[0]);
    expect(result.filtered.filter((f) => f.startsWith('statistics'))).toEqual(filtered);
    const [n] = await sql<{ n: string }>(17, target, 'SELECT count(*) AS n FROM public.wide');
    expect(n?.n).toBe('6000');
  });
});
