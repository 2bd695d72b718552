import { readdirSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { RecordingLogger } from '../../core/log.js';
import { parseConnection } from '../../core/pg/connection.js';
import { rowHashes } from '../harness/compare.js';
import { catalog, dumpFile, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';

/**
 * A directory archive whose table data file was cut short. pg_restore 18.0 restores an lz4 or zstd
 * one as an empty table and an uncompressed one as the rows before the cut, exit 0; pgferry refuses
 * it before creating anything, naming the file and its table. Whole archives of each kind restore.
 */

const scratch = scratchDir();
afterAll(() => scratch.cleanup());
let source: string;

beforeAll(async () => {
  source = await createDatabase(18, 'dircut_src');
  await sql(
    18,
    source,
    `CREATE TABLE public.items (id int PRIMARY KEY, note text);
     INSERT INTO public.items SELECT i, md5(i::text) FROM generate_series(1, 3000) i;
     CREATE TABLE public.empty (id int);`,
  );
});

function restore(from: string, target: string) {
  const log = new RecordingLogger();
  return restoreFromPath({
    from,
    to: parseConnection(connUrl(18, target), 'to', {}),
    jobs: 2,
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
  });
}

const exists = async (db: string) =>
  (await sql(18, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${db}'`)).length > 0;

describe.each(['none', 'lz4', 'zstd', 'gzip'] as const)(
  'a directory archive compressed with %s',
  (algorithm) => {
    let dir: string;
    beforeAll(async () => {
      dir = await dumpFile(18, source, path.join(scratch.dir, `${algorithm}.dir`), 'directory', {
        algorithm,
      });
    });

    test('restores whole', async () => {
      const target = uniqueName('dircut_ok');
      await restore(dir, target);
      expect(await rowHashes(18, target)).toEqual(await rowHashes(18, source));
    });

    test('cut short, is refused before anything is created', async () => {
      const cut = path.join(scratch.dir, `${algorithm}-cut.dir`);
      await dumpFile(18, source, cut, 'directory', { algorithm });
      const data = readdirSync(cut)
        .filter((f) => f !== 'toc.dat')
        .sort((a, b) => statSync(path.join(cut, b)).size - statSync(path.join(cut, a)).size)[0];
      if (data === undefined) throw new Error('no data file');
      truncateSync(path.join(cut, data), Math.floor(statSync(path.join(cut, data)).size / 2));
      const target = uniqueName('dircut_bad');
      const error = await failureOf(restore(cut, target));
      if (algorithm === 'gzip') {
        // pg_restore itself notices a cut gzip stream; the restore is one that fails, and is undone.
        expect(error.message).toMatch(/pg_restore|data file/);
      } else {
        expect(error.message).toContain(
          `the data file ${data} of table public.items ends before its data does`,
        );
      }
      expect(await exists(target)).toBe(false);
    });
  },
);
