import { copyFileSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { archiveContents, cleanPrelude } from '../../core/jobs/clean.js';
import { copyDatabase } from '../../core/jobs/copy.js';
import { dumpToPath } from '../../core/jobs/dump.js';
import { countArchiveTables } from '../../core/jobs/report.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { readTocEntries } from '../../core/pg/archive-toc.js';
import { parseConnection, type ConnectionSpec } from '../../core/pg/connection.js';
import { backupDatabase } from '../../core/jobs/backup.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { catalog, scratchDir } from '../harness/engine.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { backupOptionsFor, s3Bucket, s3Env } from '../harness/s3-engine.js';
import { connUrl, server, sql, uniqueName } from '../harness/testbed.js';
import type { ServerMajor } from '../harness/paths.js';

/**
 * Issue 12: the source database's own properties — owner, `ALTER DATABASE … SET`,
 * `ALTER ROLE … IN DATABASE … SET`, comment, grants — travel with pgferry's archives and land on the
 * target under whatever name it has: here a 63-byte name with spaces, both kinds of quote and
 * unicode, different from the (equally hostile) source name. A grant to a role the target server
 * lacks is left out with a warning; no-owner and no-privileges are honoured; clean never touches
 * the database itself.
 */

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const lit = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** A unique name padded to PostgreSQL's limit of 63 bytes, with spaces, quotes and unicode. */
function hostileName(tag: string): string {
  let name = `${uniqueName(tag)} "q" it's ü `;
  while (Buffer.byteLength(name) < 63) name += 'x';
  return name;
}

const COMMENT = `it's a "quoted" ünïcode comment 🚀; DROP DATABASE postgres; --`;

interface Properties {
  owner: string;
  comment: string | null;
  settings: string[] | null;
  roleSettings: string[] | null;
  grants: string[];
}

async function propertiesOf(major: ServerMajor, db: string): Promise<Properties> {
  const [row] = await sql<Properties>(
    major,
    'postgres',
    `SELECT pg_get_userbyid(d.datdba) AS owner,
            shobj_description(d.oid, 'pg_database') AS comment,
            (SELECT s.setconfig FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0) AS settings,
            (SELECT array_agg(r.rolname || ' ' || array_to_string(s.setconfig, ',') ORDER BY r.rolname)
               FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
              WHERE s.setdatabase = d.oid) AS "roleSettings",
            ARRAY(SELECT coalesce(pg_get_userbyid(NULLIF(a.grantee, 0)), 'PUBLIC') || ' ' || a.privilege_type
                    FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a ORDER BY 1) AS grants
       FROM pg_database d WHERE d.datname = ${lit(db)}`,
  );
  if (!row) throw new Error(`no database ${db}`);
  return row;
}

/** The source's grants as the target should have them: the missing role's left out. */
function withoutRole(p: Properties, role: string): Properties {
  return { ...p, grants: p.grants.filter((g) => !g.startsWith(`${role} `)) };
}

function spec(major: ServerMajor, db: string, input: string): ConnectionSpec {
  return parseConnection(connUrl(major, encodeURIComponent(db)), input, {});
}

// 14 → 15 and 16 → 17: older pg_dump; 17 → 16: the downgrade script path; 18 → 18: the newest.
describe.each([
  { from: 16, to: 17 },
  { from: 17, to: 17 },
  { from: 14, to: 15 },
  { from: 17, to: 16 },
  { from: 18, to: 18 },
] as const)('database properties, server $from → server $to', ({ from, to }) => {
  const keeper = `keep "er" ${uniqueName('r')}`;
  const gone = `gone 'r' ${uniqueName('r')}`;
  const source = hostileName('src');
  const made: string[] = [];
  const dumps = new Map<'custom' | 'directory' | 'plain', string>();
  let expected: Properties;
  let sourceProps: Properties;

  beforeAll(async () => {
    for (const major of new Set([from, to])) await sql(major, 'postgres', `CREATE ROLE ${q(keeper)}`);
    await sql(from, 'postgres', `CREATE ROLE ${q(gone)}`);
    await sql(from, 'postgres', `CREATE DATABASE ${q(source)} OWNER ${q(keeper)}`);
    await sql(
      from,
      'postgres',
      [
        `ALTER DATABASE ${q(source)} SET search_path TO "my schema", public`,
        `ALTER DATABASE ${q(source)} SET work_mem = '12MB'`,
        `ALTER ROLE ${q(keeper)} IN DATABASE ${q(source)} SET work_mem = '3MB'`,
        `COMMENT ON DATABASE ${q(source)} IS ${lit(COMMENT)}`,
        `GRANT CONNECT, TEMPORARY ON DATABASE ${q(source)} TO ${q(keeper)}`,
        `GRANT CREATE ON DATABASE ${q(source)} TO ${q(gone)}`,
        `REVOKE TEMPORARY ON DATABASE ${q(source)} FROM PUBLIC`,
      ].join(';\n'),
    );
    await sql(
      from,
      source,
      'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10)',
    );
    sourceProps = await propertiesOf(from, source);
    expected = withoutRole(sourceProps, gone);
    const log = new RecordingLogger();
    for (const [format, file] of [
      ['custom', 'p.dump'],
      ['directory', 'p.dir'],
      ['plain', 'p.sql'],
    ] as const) {
      const out = path.join(scratch.dir, `${from}-${to}-${file}`);
      await dumpToPath({
        from: spec(from, source, 'from'),
        to: out,
        format,
        compress: 'auto',
        jobs: 1,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      });
      dumps.set(format, out);
    }
    // Same server: the role is dropped after the dump, so the restore meets a grant to nobody.
    if (from === to) {
      await sql(
        from,
        'postgres',
        `REVOKE CREATE ON DATABASE ${q(source)} FROM ${q(gone)}; DROP ROLE ${q(gone)}`,
      );
    }
  });
  afterAll(async () => {
    for (const db of [...made, source])
      await sql(from, 'postgres', `DROP DATABASE IF EXISTS ${q(db)}`).catch(() => {});
    for (const db of made) await sql(to, 'postgres', `DROP DATABASE IF EXISTS ${q(db)}`).catch(() => {});
    for (const major of new Set([from, to]))
      for (const role of [keeper, gone])
        await sql(major, 'postgres', `DROP ROLE IF EXISTS ${q(role)}`).catch(() => {});
  });

  function file(format: 'custom' | 'directory' | 'plain'): string {
    const f = dumps.get(format);
    if (!f) throw new Error(`no ${format} dump`);
    return f;
  }

  async function restore(
    format: 'custom' | 'directory' | 'plain',
    extra: {
      jobs?: number;
      noOwner?: boolean;
      noPrivileges?: boolean;
      target?: string;
      clean?: boolean;
    } = {},
  ): Promise<{ target: string; log: RecordingLogger }> {
    const target = extra.target ?? hostileName('dst');
    if (!made.includes(target)) made.push(target);
    const log = new RecordingLogger();
    await restoreFromPath({
      from: file(format),
      to: spec(to, target, 'to'),
      jobs: extra.jobs ?? 1,
      noOwner: extra.noOwner,
      noPrivileges: extra.noPrivileges,
      clean: extra.clean,
      confirm: extra.clean ? target : undefined,
      allowDowngrade: true,
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    return { target, log };
  }

  const warnedAboutGone = (log: RecordingLogger): boolean =>
    log.warnings.some((w) => w.includes(q(gone)) && w.includes('does not exist on the target server'));

  it('the fixture is right: the source has every property, the target server lacks one role', async () => {
    expect(sourceProps.owner).toBe(keeper);
    expect(sourceProps.comment).toBe(COMMENT);
    expect(sourceProps.settings).toEqual(['search_path="my schema", public', 'work_mem=12MB']);
    expect(sourceProps.roleSettings).toEqual([`${keeper} work_mem=3MB`]);
    expect(sourceProps.grants).toEqual(expect.arrayContaining([`${keeper} CONNECT`, `${gone} CREATE`]));
    expect(await sql(to, 'postgres', `SELECT 1 FROM pg_roles WHERE rolname = ${lit(gone)}`)).toEqual([]);
    expect(Buffer.byteLength(source)).toBe(63);
  });

  it.each([
    ['custom', 1],
    ['custom', 2],
    ['directory', 2],
  ] as const)(
    'a %s archive restored with %i job(s) under another hostile name carries everything but the missing role',
    async (format, jobs) => {
      const { target, log } = await restore(format, { jobs });
      expect(Buffer.byteLength(target)).toBe(63);
      expect(await propertiesOf(to, target)).toEqual(expected);
      expect(warnedAboutGone(log)).toBe(true);
      expect(await sql(to, 'postgres', `SELECT 1 FROM pg_database WHERE datname = ${lit(source)}`)).toEqual(
        from === to ? [{ '?column?': 1 }] : [],
      );
    },
  );

  it('a clean restore over an earlier copy (one transaction with the restore) carries them again', async () => {
    const { target } = await restore('custom');
    await sql(
      to,
      'postgres',
      `ALTER DATABASE ${q(target)} RESET ALL; COMMENT ON DATABASE ${q(target)} IS NULL`,
    );
    const { log } = await restore('custom', { target, clean: true });
    expect(await propertiesOf(to, target)).toEqual(expected);
    expect(warnedAboutGone(log)).toBe(true);
  });

  it('a clean restore of a truncated archive fails and leaves the properties as they were', async () => {
    const { target } = await restore('custom');
    await sql(
      to,
      'postgres',
      `ALTER DATABASE ${q(target)} RESET ALL; COMMENT ON DATABASE ${q(target)} IS 'before'`,
    );
    const before = await propertiesOf(to, target);
    const cut = path.join(scratch.dir, `${from}-${to}-cut.dump`);
    copyFileSync(file('custom'), cut);
    truncateSync(cut, statSync(cut).size - 40);
    const log = new RecordingLogger();
    await expect(
      restoreFromPath({
        from: cut,
        to: spec(to, target, 'to'),
        jobs: 1,
        clean: true,
        confirm: target,
        allowDowngrade: true,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      }),
    ).rejects.toThrow();
    expect(await propertiesOf(to, target)).toEqual(before);
  });

  it('a user restoring into a database someone else owns: restored as before, properties left out and said', async () => {
    const user = uniqueName('restorer');
    const password = uniqueName('pw');
    const target = hostileName('foreign');
    made.push(target);
    await sql(to, 'postgres', `CREATE ROLE ${q(user)} LOGIN PASSWORD ${lit(password)}`);
    await sql(to, 'postgres', `CREATE DATABASE ${q(target)}`);
    await sql(to, encodeURIComponent(target), `GRANT CREATE ON SCHEMA public TO ${q(user)}`);
    try {
      const log = new RecordingLogger();
      const url = `postgres://${user}:${password}@127.0.0.1:${server(to).port}/${encodeURIComponent(target)}`;
      await restoreFromPath({
        from: file('custom'),
        to: parseConnection(url, 'to', {}),
        jobs: 1,
        noOwner: true,
        allowDowngrade: true,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      });
      expect(await sql(to, encodeURIComponent(target), 'SELECT count(*)::int AS n FROM t')).toEqual([
        { n: 10 },
      ]);
      expect(log.warnings.some((w) => w.includes('the restoring user does not own it'))).toBe(true);
      const props = await propertiesOf(to, target);
      expect(props.comment).toBeNull();
      expect(props.settings).toBeNull();
    } finally {
      await sql(to, 'postgres', `DROP DATABASE IF EXISTS ${q(target)}`).catch(() => {});
      await sql(to, 'postgres', `DROP ROLE IF EXISTS ${q(user)}`).catch(() => {});
    }
  });

  it('no-owner and no-privileges: the target keeps its owner and gets no grants', async () => {
    const { target, log } = await restore('custom', { noOwner: true, noPrivileges: true });
    const props = await propertiesOf(to, target);
    expect(props.owner).toBe('postgres');
    expect(props.grants.filter((g) => g.startsWith(`${keeper} `))).toEqual([]);
    expect(props.comment).toBe(COMMENT);
    expect(props.settings).toEqual(expected.settings);
    expect(warnedAboutGone(log)).toBe(false);
  });

  it('a plain dump restores as before: a bare database (plain scripts carry them only with --create)', async () => {
    const { target } = await restore('plain');
    const props = await propertiesOf(to, target);
    expect(props.comment).toBeNull();
    expect(props.settings).toBeNull();
    expect(await sql(to, encodeURIComponent(target), 'SELECT count(*)::int AS n FROM t')).toEqual([
      { n: 10 },
    ]);
  });

  it('clean and table counts never see the database entries as objects to drop or count', async () => {
    const entries = await readTocEntries(file('custom'), 'custom');
    expect(entries.map((e) => e.desc)).toEqual(expect.arrayContaining(['DATABASE', 'DATABASE PROPERTIES']));
    const prelude = cleanPrelude(await archiveContents(file('custom'), 'custom'), to);
    expect(prelude).not.toMatch(/\bDATABASE\b/i);
    expect(await countArchiveTables(file('custom'), 'custom')).toBe(1);
  });

  it.each([1, 2])('a copy with %i job(s) carries them to a hostile target name', async (jobs) => {
    const target = hostileName('cp');
    made.push(target);
    const log = new RecordingLogger();
    await copyDatabase({
      from: spec(from, source, 'from'),
      to: spec(to, target, 'to'),
      jobs,
      allowDowngrade: true,
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    // On one server the missing role was dropped from the source too; across servers it is only missing.
    expect(await propertiesOf(to, target)).toEqual(expected);
    expect(warnedAboutGone(log)).toBe(from !== to);
  });
});

describe('database properties through an S3 backup (server 17)', () => {
  const BUCKET = 'pgferry-dbprops';
  const keeper = `keep "er" ${uniqueName('r')}`;
  const gone = `gone 'r' ${uniqueName('r')}`;
  const source = uniqueName('dbp_s3');
  const made: string[] = [];
  let s3: S3TestServer;
  let key: string;
  let expected: Properties;

  beforeAll(async () => {
    s3 = await startS3();
    await s3.createBucket(BUCKET);
    Object.assign(process.env, s3Env(s3));
    await sql(17, 'postgres', `CREATE ROLE ${q(keeper)}; CREATE ROLE ${q(gone)}`);
    await sql(17, 'postgres', `CREATE DATABASE ${q(source)}`);
    await sql(
      17,
      'postgres',
      [
        `ALTER DATABASE ${q(source)} SET search_path TO "my schema", public`,
        `ALTER DATABASE ${q(source)} SET work_mem = '12MB'`,
        `COMMENT ON DATABASE ${q(source)} IS ${lit(COMMENT)}`,
        `GRANT CONNECT ON DATABASE ${q(source)} TO ${q(keeper)}`,
        `GRANT CREATE ON DATABASE ${q(source)} TO ${q(gone)}`,
      ].join(';\n'),
    );
    await sql(17, source, 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10)');
    expected = withoutRole(await propertiesOf(17, source), gone);
    key = (await backupDatabase(backupOptionsFor(s3, BUCKET, 'p', source))).manifest.key;
    await sql(17, 'postgres', `REVOKE CREATE ON DATABASE ${q(source)} FROM ${q(gone)}; DROP ROLE ${q(gone)}`);
  });
  afterAll(async () => {
    for (const db of [...made, source])
      await sql(17, 'postgres', `DROP DATABASE IF EXISTS ${q(db)}`).catch(() => {});
    for (const role of [keeper, gone])
      await sql(17, 'postgres', `DROP ROLE IF EXISTS ${q(role)}`).catch(() => {});
    await s3?.close();
  });

  it.each([1, 2])(
    'restored with %i job(s) (streamed, or downloaded first) under a hostile name: carried, the missing role warned about',
    async (jobs) => {
      const target = hostileName('s3');
      made.push(target);
      const log = new RecordingLogger();
      await restoreFromS3({
        bucket: s3Bucket(s3, BUCKET),
        key,
        to: spec(17, target, 'to'),
        jobs,
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      });
      expect(await propertiesOf(17, target)).toEqual(expected);
      expect(expected.comment).toBe(COMMENT);
      expect(log.warnings.some((w) => w.includes(q(gone)) && w.includes('does not exist'))).toBe(true);
    },
  );
});
