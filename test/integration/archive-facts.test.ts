import { createReadStream } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { dumpToPath } from '../../core/jobs/dump.js';
import { readArchiveFacts, readArchiveFactsFromStream } from '../../core/pg/archive.js';
import type { DumpFormat } from '../../core/pg/args.js';
import { parseConnection } from '../../core/pg/connection.js';
import { catalog, scratchDir } from '../harness/engine.js';
import { createDatabase, connUrl, sql } from '../harness/testbed.js';
import type { ServerMajor } from '../harness/paths.js';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

/** Client 15 is Debian's (15.x), 17.5 and 18.0 come from the mirror. */
const CLIENTS: {
  major: ServerMajor;
  archiveVersion: string;
  dumpMinor?: number;
  compression: 'gzip' | 'zstd';
}[] = [
  { major: 15, archiveVersion: '1.14', compression: 'gzip' },
  { major: 17, archiveVersion: '1.16', dumpMinor: 5, compression: 'zstd' },
  { major: 18, archiveVersion: '1.16', dumpMinor: 0, compression: 'zstd' },
];
const FORMATS: DumpFormat[] = ['custom', 'tar', 'directory', 'plain'];

describe.each(CLIENTS)(
  'archives written by pg_dump $major',
  ({ major, archiveVersion, dumpMinor, compression }) => {
    let db: string;
    beforeAll(async () => {
      db = await createDatabase(major, 'facts');
      await sql(
        major,
        db,
        'CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 100) i',
      );
    });

    it.each(FORMATS)('reads the %s format', async (format) => {
      const log = new RecordingLogger();
      const to = path.join(scratch.dir, `${db}-${format}`);
      const result = await dumpToPath({
        from: parseConnection(connUrl(major, db), 'from', {}),
        to,
        format,
        compress: 'auto',
        jobs: 'auto',
        postgresVersion: { kind: 'major', major },
        catalog: catalog(log),
        log,
      });
      const facts = await readArchiveFacts(to);
      expect(facts).toEqual(result.archive);
      expect(facts.format).toBe(format);
      expect(facts.serverVersion?.major).toBe(major);
      expect(facts.dumpVersion?.major).toBe(major);
      if (dumpMinor !== undefined) expect(facts.dumpVersion?.minor).toBe(dumpMinor);
      if (format === 'plain') {
        expect(facts.archiveVersion).toBeUndefined();
        expect(facts.compression).toBe('none');
      } else {
        expect(facts.archiveVersion).toBe(archiveVersion);
        expect(facts.database).toBe(db);
        expect(facts.tocEntries).toBeGreaterThan(3);
        expect(facts.compression).toBe(format === 'tar' ? 'none' : compression);
      }
      if (format === 'custom') {
        // The same facts come from the first bytes of a stream (restores from S3 read them this way).
        const { facts: streamed } = await readArchiveFactsFromStream(createReadStream(to), 'stream');
        expect(streamed).toEqual(facts);
      }
    });
  },
);

describe('what is not an archive', () => {
  it('rejects a file that is not a dump, naming it', async () => {
    const file = path.join(scratch.dir, 'notes.txt');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, 'hello, this is not a dump\n'));
    await expect(readArchiveFacts(file)).rejects.toThrow(/notes\.txt is not a PostgreSQL dump/);
  });
});
