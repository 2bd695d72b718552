import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { copyDatabase } from '../../core/jobs/copy.js';
import { dumpToPath, type DumpResult } from '../../core/jobs/dump.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import type { DumpFormat } from '../../core/pg/args.js';
import { parseConnection } from '../../core/pg/connection.js';
import { catalog, scratchDir } from '../harness/engine.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';

/**
 * Issue 12: clean misses objects that belong to no schema. A database holding a publication, a
 * foreign data wrapper with a server and a user mapping, a transform, a table access method and an
 * event trigger (hostile names where a name is free) is clean-restored over its earlier copy: that
 * must succeed and leave the target identical to the source, while objects of the same kinds that
 * the dump does not carry stay.
 */

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

const SOURCE_SQL = `
CREATE TABLE public.t (id int PRIMARY KEY, v text);
INSERT INTO public.t SELECT g, 'row ' || g FROM generate_series(1, 20) g;
CREATE ACCESS METHOD "heap two" TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE public.on_heap_two (id int) USING "heap two";
INSERT INTO public.on_heap_two VALUES (1), (2);
CREATE PUBLICATION "my pub" FOR TABLE public.t;
CREATE FOREIGN DATA WRAPPER "fdw x";
CREATE SERVER "srv; y" FOREIGN DATA WRAPPER "fdw x" OPTIONS (host 'nowhere');
CREATE USER MAPPING FOR postgres SERVER "srv; y" OPTIONS (user 'nobody');
CREATE FOREIGN TABLE public.ft (a int) SERVER "srv; y";
CREATE TRANSFORM FOR int LANGUAGE SQL (FROM SQL WITH FUNCTION prsd_lextype(internal), TO SQL WITH FUNCTION int4recv(internal));
CREATE FUNCTION public.quiet_et() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
CREATE EVENT TRIGGER "et z" ON ddl_command_start EXECUTE FUNCTION public.quiet_et();
`;

/** Objects of the same kinds that only the target has: a clean restore must leave them. */
const TARGET_ONLY_SQL = `
CREATE PUBLICATION other_pub;
CREATE FOREIGN DATA WRAPPER other_fdw;
CREATE SERVER other_srv FOREIGN DATA WRAPPER other_fdw;
CREATE ACCESS METHOD other_am TYPE TABLE HANDLER heap_tableam_handler;
`;

async function targetOnly(major: 15 | 17, db: string): Promise<string[]> {
  const rows = await sql<{ n: string }>(
    major,
    db,
    `SELECT 'pub ' || pubname AS n FROM pg_publication WHERE pubname = 'other_pub'
     UNION ALL SELECT 'fdw ' || fdwname FROM pg_foreign_data_wrapper WHERE fdwname = 'other_fdw'
     UNION ALL SELECT 'srv ' || srvname FROM pg_foreign_server WHERE srvname = 'other_srv'
     UNION ALL SELECT 'am ' || amname FROM pg_am WHERE amname = 'other_am' ORDER BY 1`,
  );
  return rows.map((r) => r.n);
}

/** A schema dump without the blocks of the target-only objects (one block per `-- Name:` comment). */
function withoutTargetOnly(schema: string): string {
  return schema
    .split(/\n(?=--\n-- Name: )/)
    .filter((block) => !/other_(pub|fdw|srv|am)/.test(block))
    .join('\n');
}

const FORMATS: { format: DumpFormat; file: string }[] = [
  { format: 'custom', file: 'kinds.dump' },
  { format: 'directory', file: 'kinds.dir' },
  { format: 'plain', file: 'kinds.sql' },
];

describe.each([15, 17] as const)('server %i: clean restore over an earlier copy', (major) => {
  const log = new RecordingLogger();
  const made: string[] = [];
  const dumps = new Map<DumpFormat, { file: string; result: DumpResult }>();
  let source: string;

  beforeAll(async () => {
    source = await createDatabase(major, 'kinds_src');
    made.push(source);
    await sql(major, source, SOURCE_SQL);
    for (const { format, file } of FORMATS) {
      const to = path.join(scratch.dir, `${major}-${file}`);
      const result = await dumpToPath({
        from: parseConnection(connUrl(major, source), 'from', {}),
        to,
        format,
        compress: 'auto',
        jobs: 1,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      });
      dumps.set(format, { file: to, result });
    }
  });
  afterAll(async () => {
    for (const db of made) await sql(major, 'postgres', `DROP DATABASE IF EXISTS "${db}"`).catch(() => {});
  });

  it.each(FORMATS.map((f) => f.format))(
    'from the %s dump: succeeds, identical to the source',
    async (format) => {
      const dump = dumps.get(format);
      if (!dump) throw new Error(`no ${format} dump`);
      const target = uniqueName('kinds_dst');
      made.push(target);
      const to = parseConnection(connUrl(major, target), 'to', {});
      const options = { jobs: 1, postgresVersion: { kind: 'auto' as const }, catalog: catalog(log), log };
      await restoreFromPath({ ...options, from: dump.file, to });
      await sql(major, target, TARGET_ONLY_SQL);
      // The earlier copy drifted: the clean restore must bring the source's rows back.
      await sql(major, target, 'DELETE FROM public.t WHERE id > 10');

      await restoreFromPath({ ...options, from: dump.file, to, clean: true, confirm: target });

      const tools = dump.result.client;
      expect(await rowHashes(major, target)).toEqual(await rowHashes(major, source));
      expect(withoutTargetOnly(await schemaOf(tools, major, target))).toEqual(
        await schemaOf(tools, major, source),
      );
      expect(await targetOnly(major, target)).toEqual([
        'am other_am',
        'fdw other_fdw',
        'pub other_pub',
        'srv other_srv',
      ]);
    },
  );

  it('a clean copy over an earlier copy: succeeds, identical to the source', async () => {
    const target = uniqueName('kinds_copy');
    made.push(target);
    const from = parseConnection(connUrl(major, source), 'from', {});
    const to = parseConnection(connUrl(major, target), 'to', {});
    const options = { jobs: 1, postgresVersion: { kind: 'auto' as const }, catalog: catalog(log), log };
    await copyDatabase({ ...options, from, to });
    await sql(major, target, TARGET_ONLY_SQL);
    await sql(major, target, 'DELETE FROM public.t WHERE id > 10');

    await copyDatabase({ ...options, from, to, clean: true, confirm: target });

    const custom = dumps.get('custom');
    if (!custom) throw new Error('no custom dump');
    expect(await rowHashes(major, target)).toEqual(await rowHashes(major, source));
    expect(withoutTargetOnly(await schemaOf(custom.result.client, major, target))).toEqual(
      await schemaOf(custom.result.client, major, source),
    );
    expect(await targetOnly(major, target)).toHaveLength(4);
  });
});
