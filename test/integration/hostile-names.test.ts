import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { RecordingLogger } from '../../core/log.js';
import { archiveContents } from '../../core/jobs/clean.js';
import { copyDatabase } from '../../core/jobs/copy.js';
import { dumpToPath, type DumpResult } from '../../core/jobs/dump.js';
import { countArchiveTables, countDatabaseTables } from '../../core/jobs/report.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { tableCounts } from '../../core/jobs/table-counts.js';
import type { DumpFormat } from '../../core/pg/args.js';
import type { ClientTools } from '../../core/pg/clients/tools.js';
import { parseConnection, type ConnectionSpec } from '../../core/pg/connection.js';
import { scratchStem } from '../../core/pg/scratch-database.js';
import { catalog, scratchDir } from '../harness/engine.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';

/**
 * Issue 12: names are parsed, never guessed. A database whose schemas, tables, owners and large
 * objects' owners carry every legal kind of identifier (spaces, quotes, dots, unicode, 63-byte
 * names, keywords, names that read like `--list` fields) goes through every path that reads names:
 * restore in each format, clean restore over an earlier copy, table counts. The clean restore's
 * target also holds look-alikes (`my` beside `my schema`, `a` beside `a b c`, `public ` beside
 * `public`, `DATA`) that the dump does not carry: they must come through untouched (restored in
 * place, since a swap would drop them). Without look-alikes the clean restore and the clean copy
 * are replaced by swap, also into a target database whose own name is hostile.
 */

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const lit = (text: string): string => `'${text.replace(/'/g, "''")}'`;

const SCHEMAS = [
  'my schema',
  'a b c',
  'a.b',
  'we"ird',
  "it's",
  'Ünïcödé 🚀',
  'é'.repeat(31) + 'x', // 63 bytes
  `long ${'n'.repeat(58)}`, // 63 bytes
  'select',
  'DATA x',
  'public ',
  'line\nbreak',
  'SCHEMA - x y',
];
const TABLES = ['t', 'schema t', 'TABLE DATA', 't;--', 'Mixed Case', 'dot.ted'];
/** What a clean restore's target holds besides an earlier copy: names the dump does not carry. */
const LOOK_ALIKES = ['my', 'a', 'DATA', 'SCHEMA', 'long', 'line'];

function hostileSql(owners: readonly string[]): string {
  const [first = 'postgres', second = 'postgres'] = owners;
  const statements: string[] = [];
  SCHEMAS.forEach((schema, i) => {
    const owner = i % 2 === 0 ? first : second;
    statements.push(`CREATE SCHEMA ${q(schema)} AUTHORIZATION ${q(owner)}`);
    for (const table of TABLES) {
      statements.push(`CREATE TABLE ${q(schema)}.${q(table)} (id int PRIMARY KEY, ${q('va lue')} text)`);
      statements.push(`ALTER TABLE ${q(schema)}.${q(table)} OWNER TO ${q(owner)}`);
      statements.push(
        `INSERT INTO ${q(schema)}.${q(table)} SELECT g, ${lit(`${schema}/${table}`)} || g FROM generate_series(1, ${i + 2}) g`,
      );
    }
  });
  statements.push(`CREATE TABLE public.plain_table AS SELECT 1 AS id`);
  statements.push(`SELECT lo_from_bytea(0, 'blob of a hostile owner')`);
  statements.push(
    `DO $$ BEGIN EXECUTE format('ALTER LARGE OBJECT %s OWNER TO %I', (SELECT max(oid) FROM pg_largeobject_metadata), ${lit(second)}); END $$`,
  );
  return statements.join(';\n');
}

async function userSchemas(major: 15 | 17, db: string): Promise<string[]> {
  const rows = await sql<{ n: string }>(
    major,
    db,
    "SELECT nspname AS n FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname NOT IN ('information_schema', 'public') ORDER BY 1",
  );
  return rows.map((r) => r.n).sort();
}

async function counts(major: 15 | 17, db: string) {
  const client = new pg.Client({ connectionString: connUrl(major, db) });
  await client.connect();
  try {
    return await tableCounts(client);
  } finally {
    await client.end();
  }
}

/** A URL path segment for any database name: the harness's connection strings carry names as given. */
const inUrl = (db: string): string => encodeURIComponent(db);

/** Scratch databases of a swap into `db` still on the server (none once a swap has finished). */
async function scratchesOf(major: 15 | 17, db: string): Promise<string[]> {
  const rows = await sql<{ datname: string }>(
    major,
    'postgres',
    `SELECT datname FROM pg_database WHERE left(datname, ${scratchStem(db).length}) = ${lit(scratchStem(db))}`,
  );
  return rows.map((r) => r.datname);
}

/** A database's own properties as the server holds them: owner, comment, grants and settings. */
async function propertiesOf(major: 15 | 17, db: string): Promise<unknown> {
  return sql(
    major,
    'postgres',
    `SELECT pg_get_userbyid(d.datdba) AS owner, shobj_description(d.oid, 'pg_database') AS comment,
            d.datacl::text AS acl,
            (SELECT array_agg(coalesce(pg_get_userbyid(s.setrole), '') || ':' || s.setconfig::text ORDER BY s.setrole)
               FROM pg_db_role_setting s WHERE s.setdatabase = d.oid) AS settings
       FROM pg_database d WHERE d.datname = ${lit(db)}`,
  );
}

/** Changes rows of an earlier copy (no object added): a clean restore must undo them. */
async function changeRows(major: 15 | 17, db: string): Promise<void> {
  await sql(
    major,
    inUrl(db),
    `DELETE FROM ${q('my schema')}.t; UPDATE ${q('we"ird')}.${q('Mixed Case')} SET ${q('va lue')} = 'changed'`,
  );
}

const FORMATS: { format: DumpFormat; file: string }[] = [
  { format: 'custom', file: 'hostile.dump' },
  { format: 'directory', file: 'hostile.dir' },
  { format: 'tar', file: 'hostile.tar' },
  { format: 'plain', file: 'hostile.sql' },
];

describe.each([15, 17] as const)('server %i: hostile identifiers', (major) => {
  const log = new RecordingLogger();
  const owners = [`owner ${uniqueName('o')} a b`, `own"er ${uniqueName('o')}`];
  const made: string[] = [];
  const dumps = new Map<DumpFormat, { file: string; result: DumpResult }>();
  let source: string;

  beforeAll(async () => {
    for (const role of owners) await sql(major, 'postgres', `CREATE ROLE ${q(role)}`);
    source = await createDatabase(major, 'hostile_src');
    made.push(source);
    await sql(major, source, hostileSql(owners));
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
    for (const db of made) await sql(major, 'postgres', `DROP DATABASE IF EXISTS ${q(db)}`).catch(() => {});
    for (const role of owners) await sql(major, 'postgres', `DROP ROLE IF EXISTS ${q(role)}`).catch(() => {});
  });

  it('the source holds every hostile schema (the fixture itself is right)', async () => {
    expect(await userSchemas(major, source)).toEqual([...SCHEMAS].sort());
  });

  it.each(['custom', 'directory', 'tar'] as const)(
    'the %s archive is read for exactly the schemas it carries and the tables it has',
    async (format) => {
      const dump = dumps.get(format);
      if (!dump) throw new Error(`no ${format} dump`);
      const contents = await archiveContents(dump.file, format);
      expect([...contents.schemas].sort()).toEqual([...(await userSchemas(major, source))].sort());
      expect(contents.usesPublic).toBe(true);
      expect(contents.largeObjects).toBe(true);
      expect(await countArchiveTables(dump.file, format)).toBe(SCHEMAS.length * TABLES.length + 1);
    },
  );

  it.each(FORMATS.map((f) => f.format))(
    'the %s dump restores into a new database identical to the source',
    async (format) => {
      const dump = dumps.get(format);
      if (!dump) throw new Error(`no ${format} dump`);
      const target = uniqueName('hostile_new');
      made.push(target);
      await restoreFromPath({
        from: dump.file,
        to: parseConnection(connUrl(major, target), 'to', {}),
        jobs: format === 'directory' || format === 'custom' ? 2 : 1,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      });
      const tools = dump.result.client;
      expect(await schemaOf(tools, major, target)).toEqual(await schemaOf(tools, major, source));
      expect(await rowHashes(major, target)).toEqual(await rowHashes(major, source));
      expect(await counts(major, target)).toEqual(await counts(major, source));
      expect(await countDatabaseTables(parseConnection(connUrl(major, target), 'to', {}))).toBe(
        SCHEMAS.length * TABLES.length + 1,
      );
    },
  );

  it.each(FORMATS.map((f) => f.format))(
    'a clean restore of the %s dump over an earlier copy leaves the look-alike schemas untouched',
    async (format) => {
      const dump = dumps.get(format);
      if (!dump) throw new Error(`no ${format} dump`);
      const target = uniqueName('hostile_clean');
      made.push(target);
      const to = parseConnection(connUrl(major, target), 'to', {});
      const custom = dumps.get('custom');
      if (!custom) throw new Error('no custom dump');
      // The earlier copy, then what the dump does not carry: look-alike schemas with tables.
      await restoreFromPath({
        from: custom.file,
        to,
        jobs: 1,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      });
      for (const name of LOOK_ALIKES) {
        await sql(
          major,
          target,
          `CREATE SCHEMA ${q(name)}; CREATE TABLE ${q(name)}.keep AS SELECT ${lit(name)} AS v`,
        );
      }
      // And a change to the earlier copy that the clean restore must undo.
      await sql(major, target, `DELETE FROM ${q('my schema')}.t; CREATE TABLE ${q('a b c')}.extra (x int)`);
      const lookAlikesBefore = await Promise.all(
        LOOK_ALIKES.map((n) => sql(major, target, `SELECT v FROM ${q(n)}.keep`)),
      );

      const result = await restoreFromPath({
        from: dump.file,
        to,
        jobs: 1,
        clean: true,
        confirm: target,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      });

      // A swap would have dropped the look-alikes: this one is restored in place.
      expect(result.swapped).not.toBe(true);
      expect(await scratchesOf(major, target)).toEqual([]);
      const lookAlikesAfter = await Promise.all(
        LOOK_ALIKES.map((n) => sql(major, target, `SELECT v FROM ${q(n)}.keep`)),
      );
      expect(lookAlikesAfter).toEqual(lookAlikesBefore);
      expect(lookAlikesAfter.flat()).toHaveLength(LOOK_ALIKES.length);
      const hashes = await rowHashes(major, target);
      const expected = await rowHashes(major, source);
      // The source has no table named keep: those are the look-alikes' own, compared above.
      const kept = Object.keys(hashes).filter((k) => k.endsWith('.keep'));
      expect(kept).toHaveLength(LOOK_ALIKES.length);
      for (const key of kept) delete hashes[key];
      expect(hashes).toEqual(expected);
      expect(await userSchemas(major, target)).toEqual([...SCHEMAS, ...LOOK_ALIKES].sort());
    },
  );

  /** A target holding an earlier copy of the source (the custom dump), its rows changed since. */
  async function earlierCopyOf(prefix: string): Promise<{ target: string; to: ConnectionSpec }> {
    const custom = dumps.get('custom');
    if (!custom) throw new Error('no custom dump');
    const target = uniqueName(prefix);
    made.push(target);
    const to = parseConnection(connUrl(major, target), 'to', {});
    await restoreFromPath({
      from: custom.file,
      to,
      jobs: 1,
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    await changeRows(major, target);
    expect(await rowHashes(major, target)).not.toEqual(await rowHashes(major, source));
    return { target, to };
  }

  /** The target is the source again: schema, rows, counts, schemas, and no scratch database left. */
  async function expectSourceIn(target: string, tools: ClientTools): Promise<void> {
    expect(await schemaOf(tools, major, target)).toEqual(await schemaOf(tools, major, source));
    expect(await rowHashes(major, target)).toEqual(await rowHashes(major, source));
    expect(await counts(major, target)).toEqual(await counts(major, source));
    expect(await userSchemas(major, target)).toEqual([...SCHEMAS].sort());
    expect(await scratchesOf(major, target)).toEqual([]);
  }

  it.each(['custom', 'directory'] as const)(
    'a clean restore of the %s archive with 2 jobs over an earlier copy is swapped in, identical to the source',
    async (format) => {
      const dump = dumps.get(format);
      if (!dump) throw new Error(`no ${format} dump`);
      const { target, to } = await earlierCopyOf('hostile_swap');
      const hooks = { postgresVersion: { kind: 'auto' as const }, catalog: catalog(log), log };
      const result = await restoreFromPath({
        from: dump.file,
        to,
        jobs: 2,
        clean: true,
        confirm: target,
        ...hooks,
      });
      expect(result.swapped).toBe(true);
      expect(result.jobs).toBe(2);
      await expectSourceIn(target, dump.result.client);
    },
  );

  it('a clean copy with 2 jobs over an earlier copy is swapped in, identical to the source', async () => {
    const custom = dumps.get('custom');
    if (!custom) throw new Error('no custom dump');
    const { target, to } = await earlierCopyOf('hostile_copy');
    const result = await copyDatabase({
      from: parseConnection(connUrl(major, source), 'from', {}),
      to,
      jobs: 2,
      clean: true,
      confirm: target,
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    expect(result.swapped).toBe(true);
    await expectSourceIn(target, custom.result.client);
  });

  it('a target database with a hostile name of 63 bytes is replaced by swap, keeping its own properties', async () => {
    const directory = dumps.get('directory');
    const custom = dumps.get('custom');
    if (!directory || !custom) throw new Error('no directory or custom dump');
    // Quotes, spaces, a dot, unicode and a keyword, padded to the longest legal name.
    let target = `a "b" ü 'c'.d 🚀 select ${uniqueName('db')} `;
    while (Buffer.byteLength(`${target}x`) <= 63) target += 'x';
    expect(Buffer.byteLength(target)).toBe(63);
    made.push(target);
    const [first = 'postgres', second = 'postgres'] = owners;
    await sql(major, 'postgres', `CREATE DATABASE ${q(target)}`);
    const to = parseConnection(connUrl(major, inUrl(target)), 'to', {});
    await restoreFromPath({
      from: custom.file,
      to,
      jobs: 1,
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    await sql(
      major,
      'postgres',
      `ALTER DATABASE ${q(target)} OWNER TO ${q(second)};
       COMMENT ON DATABASE ${q(target)} IS 'staging "ü", do not touch';
       ALTER DATABASE ${q(target)} SET work_mem = '7MB';
       ALTER ROLE ${q(first)} IN DATABASE ${q(target)} SET search_path = ${lit('"my schema", public')};
       REVOKE ALL ON DATABASE ${q(target)} FROM PUBLIC;
       GRANT CONNECT, TEMPORARY ON DATABASE ${q(target)} TO ${q(first)}`,
    );
    await changeRows(major, target);
    const before = await propertiesOf(major, target);
    expect(before).toHaveLength(1);
    const cleanRestore = (extra: { noOwner?: boolean; swap?: boolean }) =>
      restoreFromPath({
        from: directory.file,
        to,
        jobs: 2,
        clean: true,
        confirm: target,
        ...extra,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      });

    // Without the archive's owner, the target's owner, comment, settings and grants all stay.
    const kept = await cleanRestore({ noOwner: true });
    expect(kept.swapped).toBe(true);
    expect(kept.target.database).toBe(target);
    expect(await propertiesOf(major, target)).toEqual(before);
    expect(await rowHashes(major, inUrl(target))).toEqual(await rowHashes(major, source));
    expect(await scratchesOf(major, target)).toEqual([]);

    // With it, the swap ends as the in-place restore does: the archive's owner on top of the rest.
    await changeRows(major, target);
    const swapped = await cleanRestore({});
    expect(swapped.swapped).toBe(true);
    const tools = directory.result.client;
    expect(await schemaOf(tools, major, inUrl(target))).toEqual(await schemaOf(tools, major, source));
    expect(await rowHashes(major, inUrl(target))).toEqual(await rowHashes(major, source));
    expect(await scratchesOf(major, target)).toEqual([]);
    const afterSwap = await propertiesOf(major, target);
    expect(afterSwap).toMatchObject([{ comment: 'staging "ü", do not touch' }]);
    await sql(major, 'postgres', `ALTER DATABASE ${q(target)} OWNER TO ${q(second)}`);
    expect(await propertiesOf(major, target)).toEqual(before);
    await changeRows(major, target);
    const inPlace = await cleanRestore({ swap: false });
    expect(inPlace.swapped).not.toBe(true);
    expect(await propertiesOf(major, target)).toEqual(afterSwap);
    expect(await rowHashes(major, inUrl(target))).toEqual(await rowHashes(major, source));
    const named = await sql(major, 'postgres', `SELECT 1 FROM pg_database WHERE datname = ${lit(target)}`);
    expect(named).toHaveLength(1);
  });

  it('a truncated archive is refused before clean drops anything from the target', async () => {
    const custom = dumps.get('custom');
    if (!custom) throw new Error('no custom dump');
    const whole = readFileSync(custom.file);
    const cut = path.join(scratch.dir, `${major}-cut.dump`);
    // Inside the table of contents: past the header, before the data.
    writeFileSync(cut, whole.subarray(0, 2000));
    await expect(archiveContents(cut, 'custom')).rejects.toThrow(
      /ends inside its table of contents; the dump is truncated/,
    );
    const target = uniqueName('hostile_cut');
    made.push(target);
    const to = parseConnection(connUrl(major, target), 'to', {});
    await restoreFromPath({
      from: custom.file,
      to,
      jobs: 1,
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    const before = await rowHashes(major, target);
    await expect(
      restoreFromPath({
        from: cut,
        to,
        jobs: 1,
        clean: true,
        confirm: target,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      }),
    ).rejects.toThrow(/truncated/);
    expect(await rowHashes(major, target)).toEqual(before);
  });
});
