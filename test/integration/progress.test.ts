import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { dumpToPath, sizeOnDisk, type DumpOptions } from '../../core/jobs/dump.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { parseConnection } from '../../core/pg/connection.js';
import type { Progress } from '../../core/pg/run.js';
import { describeProgress } from '../../core/progress.js';
import { catalog, scratchDir } from '../harness/engine.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';

/**
 * Progress as the front ends print it, from real pg_dump and pg_restore runs: a restore counts the
 * bytes of the archive its pg_restore has read (not the archive's size from the start, at 0 B/s),
 * growing and never past the archive; an uncompressed dump of everything has an estimated share of
 * the table data, a compressed one none.
 */

const scratch = scratchDir();
afterAll(() => scratch.cleanup());
const MAJOR = 17;
let db: string;

beforeAll(async () => {
  db = await createDatabase(MAJOR, 'progress');
  // ~30 MiB of rows: long enough for many 20 ms progress ticks.
  await sql(
    MAJOR,
    db,
    'CREATE TABLE t AS SELECT g AS id, repeat(md5(g::text), 8) AS v FROM generate_series(1, 100000) g',
  );
});

function dumpOptions(to: string, extra: Partial<DumpOptions>): DumpOptions {
  const log = new RecordingLogger();
  return {
    from: parseConnection(connUrl(MAJOR, db), 'from', {}),
    to,
    format: 'custom',
    compress: { algorithm: 'none' },
    jobs: 'auto',
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
    progressIntervalMs: 20,
    ...extra,
  };
}

async function dumpWithProgress(
  name: string,
  compress: DumpOptions['compress'],
): Promise<{ file: string; progress: Progress[] }> {
  const progress: Progress[] = [];
  const file = path.join(scratch.dir, name);
  await dumpToPath(dumpOptions(file, { compress, onProgress: (p) => progress.push(p) }));
  return { file, progress };
}

describe('restore progress', () => {
  it.each([1, 2])(
    'counts the archive bytes pg_restore has read, with %i job(s), up to the archive and no further',
    async (jobs) => {
      const { file } = await dumpWithProgress(`restore-${jobs}.dump`, { algorithm: 'none' });
      const archiveBytes = sizeOnDisk(file);
      const progress: Progress[] = [];
      const log = new RecordingLogger();
      await restoreFromPath({
        from: file,
        to: parseConnection(connUrl(MAJOR, uniqueName('progress_to')), 'to', {}),
        jobs,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
        onProgress: (p) => progress.push(p),
        progressIntervalMs: 20,
      });
      expect(progress.length).toBeGreaterThan(0);
      for (const p of progress) {
        expect(p).toMatchObject({
          counts: 'read',
          measured: true,
          total: { bytes: archiveBytes, of: 'the archive', estimate: false },
        });
        // A few KiB of the tool's own reads (shared-library headers) may come on top of the archive.
        expect(p.bytes).toBeLessThanOrEqual(archiveBytes + 256 * 1024);
      }
      const bytes = progress.map((p) => p.bytes);
      expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
      // It grows as pg_restore works through the archive, rather than standing at one number.
      expect(bytes[0]).toBeLessThan(bytes.at(-1) ?? 0);
      const line = describeProgress(progress.at(-1) as Progress);
      expect(line).toMatch(
        / read, \d+% of the \d+(\.\d)? MiB of the archive, \d+(\.\d)? (B|KiB|MiB)\/s, \d+ s elapsed$/,
      );
      expect(line).not.toMatch(/ 0 B\/s/);
    },
  );
});

describe('dump progress', () => {
  it('gives an uncompressed dump of everything a share of the table data on disk, marked as an estimate', async () => {
    const { progress } = await dumpWithProgress('plain-share.dump', { algorithm: 'none' });
    const [{ bytes: tableData } = { bytes: -1 }] = await sql<{ bytes: number }>(
      MAJOR,
      db,
      "SELECT pg_table_size('t')::int + pg_table_size('pg_largeobject')::int AS bytes",
    );
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) {
      expect(p).toMatchObject({
        counts: 'written',
        measured: true,
        total: { bytes: tableData, of: 'table data on disk', estimate: true },
      });
    }
    expect(describeProgress(progress.at(-1) as Progress)).toMatch(
      / written, ~\d+% of ~\d+(\.\d)? MiB of table data on disk \(an estimate\)/,
    );
  });

  it('gives a compressed dump, or a filtered one, no share at all', async () => {
    const compressed = await dumpWithProgress('compressed.dump', { algorithm: 'gzip', level: 1 });
    const filtered: Progress[] = [];
    await dumpToPath(
      dumpOptions(path.join(scratch.dir, 'filtered.dump'), {
        tables: ['t'],
        onProgress: (p) => filtered.push(p),
      }),
    );
    expect(compressed.progress.length).toBeGreaterThan(0);
    expect(filtered.length).toBeGreaterThan(0);
    for (const p of [...compressed.progress, ...filtered]) {
      expect(p.total).toBeUndefined();
      expect(describeProgress(p)).not.toContain('%');
    }
  });
});
