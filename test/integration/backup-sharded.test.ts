import { GetObjectCommand, GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { RecordingLogger } from '../../core/log.js';
import { backupDatabase, type BackupOptions } from '../../core/jobs/backup.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { seedDatabase } from '../../core/jobs/seed.js';
import { parseMaskingRules } from '../../core/masking/rules.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConnection } from '../../core/pg/connection.js';
import { scratchStem } from '../../core/pg/scratch-database.js';
import { latestKey } from '../../core/storage/backup-layout.js';
import { catalog } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Bucket, s3Env } from '../harness/s3-engine.js';
import type { ServerMajor } from '../harness/paths.js';

/**
 * Issue 16: a sharded backup (`jobs` > 1) is one snapshot dumped by several pg_dump workers, each
 * into its own object, listed by one manifest; its restore streams every part and gives back the
 * same database as an unsharded one would.
 */
const BUCKET = 'pgferry-sharded';
const PREFIX = 'sharded';
let s3: S3TestServer;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
});
afterAll(async () => s3?.close());

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const HOSTILE_SCHEMA = 'we"ird. schema*';
const HOSTILE_TABLES = [
  't',
  'Mixed Case',
  'dot.ted',
  'star*',
  'q"uote',
  'é'.repeat(31) + 'x', // 63 bytes
  'a$b?',
  'line\nbreak',
  'Ünïcödé 🚀',
];

/** Hostile names, a partitioned table, large objects, sequences and an FK that crosses parts. */
function fixtureSql(): string {
  const s = q(HOSTILE_SCHEMA);
  const statements = [
    `CREATE SCHEMA ${s}`,
    `CREATE TABLE public.big (id int PRIMARY KEY, payload text)`,
    `INSERT INTO public.big SELECT i, repeat(md5(i::text), 20) FROM generate_series(1, 20000) i`,
    `CREATE TABLE public.child (id serial PRIMARY KEY, big_id int REFERENCES public.big(id), note text)`,
    `INSERT INTO public.child (big_id, note) SELECT i, 'n' || i FROM generate_series(1, 3000) i`,
    `CREATE TABLE public.events (id int, at date NOT NULL, what text) PARTITION BY RANGE (at)`,
    `CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
    `CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`,
    `INSERT INTO public.events SELECT i, date '2025-01-01' + (i % 700), 'e' || i FROM generate_series(1, 5000) i`,
    `CREATE TABLE public.docs (id int PRIMARY KEY, blob oid)`,
    `INSERT INTO public.docs SELECT i, lo_from_bytea(0, convert_to(repeat('blob ' || i, 50), 'UTF8')) FROM generate_series(1, 20) i`,
    `CREATE SEQUENCE public.counter START 41`,
    `SELECT nextval('public.counter')`,
  ];
  HOSTILE_TABLES.forEach((t, i) => {
    statements.push(`CREATE TABLE ${s}.${q(t)} (id int PRIMARY KEY, ${q('va lue')} text)`);
    statements.push(
      `INSERT INTO ${s}.${q(t)} SELECT g, ${"'"}${t.replace(/'/g, "''")}${"'"} || g FROM generate_series(1, ${(i + 1) * 300}) g`,
    );
  });
  // A look-alike the exact patterns must not pick up along with "star*" or "dot.ted".
  statements.push(
    `CREATE TABLE ${s}.${q('starry')} (id int)`,
    `INSERT INTO ${s}.${q('starry')} VALUES (1), (2)`,
  );
  statements.push(
    `CREATE TABLE public.${q('dotxted')} (id int)`,
    `INSERT INTO public.${q('dotxted')} VALUES (7)`,
  );
  return statements.join(';\n');
}

function options(major: ServerMajor, db: string, extra: Partial<BackupOptions> = {}): BackupOptions {
  const log = new RecordingLogger();
  return {
    from: parseConnection(connUrl(major, db), 'from', {}),
    bucket: s3Bucket(s3, BUCKET),
    prefix: PREFIX,
    verify: 'list',
    compress: 'auto',
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
    jobs: 2,
    ...extra,
  };
}

async function restoreLatest(
  major: ServerMajor,
  db: string,
  target: string,
  jobs: number | 'auto' = 'auto',
  key = `${PREFIX}/${db}/`,
) {
  const log = new RecordingLogger();
  const result = await restoreFromS3({
    bucket: s3Bucket(s3, BUCKET),
    key,
    to: parseConnection(connUrl(major, target), 'to', {}),
    jobs,
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
  });
  return { result, log };
}

async function tagsOf(key: string) {
  return (await s3.client().send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet;
}

describe.each([14, 15, 16, 17, 18] as const)('server %i: sharded backup', (major) => {
  let db: string;
  beforeAll(async () => {
    db = await createDatabase(major, 'shard');
    await sql(major, db, fixtureSql());
  });

  it('jobs 2: two parts from one snapshot, one manifest, latest.json; restores identically', async () => {
    const log = new RecordingLogger();
    const result = await backupDatabase(options(major, db, { log, catalog: catalog(log) }));
    const { manifest } = result;
    const key = manifest.key;
    expect(manifest.parts).toHaveLength(2);
    const parts = manifest.parts ?? [];
    expect(parts.map((p) => p.key)).toEqual([`${key}.part-00.dump`, `${key}.part-01.dump`]);
    expect(parts.map((p) => p.role)).toEqual(['main', 'data']);
    expect(manifest.verification).toMatchObject({ method: 'list', result: 'passed' });
    for (const p of parts) {
      expect(p.verification).toMatchObject({ result: 'passed' });
      expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(p.tocEntries).toBeGreaterThan(0);
    }
    expect(manifest.bytes).toBe(parts.reduce((s, p) => s + p.bytes, 0));
    // Every leaf table's rows are in exactly one part; the partitioned parent holds none.
    const tables = parts.flatMap((p) => p.tables.map((t) => `${t.schema}.${t.name}`)).sort();
    const leaves = [
      'public.big',
      'public.child',
      'public.docs',
      'public.dotxted',
      'public.events_2025',
      'public.events_2026',
      ...[...HOSTILE_TABLES, 'starry'].map((t) => `${HOSTILE_SCHEMA}.${t}`),
    ].sort();
    expect(tables).toEqual(leaves);
    expect(await s3.keys(BUCKET, `${PREFIX}/${db}/`)).toEqual(
      [...parts.map((p) => p.key), `${key}.json`, latestKey(PREFIX, db)].sort(),
    );
    for (const k of [...parts.map((p) => p.key), `${key}.json`])
      expect(await tagsOf(k)).toEqual([{ Key: 'pgferry-tier', Value: manifest.tier }]);
    const latest = JSON.parse((await s3.getText(BUCKET, latestKey(PREFIX, db))) ?? '{}') as Record<
      string,
      unknown
    >;
    expect(latest).toMatchObject({
      key,
      manifest: `${key}.json`,
      sha256: manifest.sha256,
      bytes: manifest.bytes,
    });
    expect(log.lines.some((l) => /sharded backup: 2 parts from snapshot/.test(l.message))).toBe(true);

    // One job through latest.json, auto jobs through the backup's own key (its manifest vouches).
    for (const [jobs, from] of [
      [1, undefined],
      ['auto', key],
    ] as const) {
      const target = uniqueName('shard_into');
      const { result: restored } = await restoreLatest(major, db, target, jobs, from);
      expect(restored.location).toBe(`s3://${BUCKET}/${key}`);
      expect(await rowHashes(major, target)).toEqual(await rowHashes(major, db));
      const tools = restored.client;
      expect(await schemaOf(tools, major, target)).toEqual(await schemaOf(tools, major, db));
      const [seq] = await sql<{ v: string }>(
        major,
        target,
        `SELECT last_value::text AS v FROM public.counter`,
      );
      expect(seq?.v).toBe('41');
    }
  });

  it('jobs larger than the tables: clamped, and said', async () => {
    const small = await createDatabase(major, 'shard_small');
    await sql(
      major,
      small,
      'CREATE TABLE a (id int); INSERT INTO a VALUES (1); CREATE TABLE b (id int); INSERT INTO b VALUES (2)',
    );
    const log = new RecordingLogger();
    const { manifest } = await backupDatabase(
      options(major, small, { jobs: 16, log, catalog: catalog(log) }),
    );
    // Two tables and the main part: at most three workers.
    expect(manifest.parts?.length).toBeLessThanOrEqual(3);
    expect(manifest.parts?.length).toBeGreaterThanOrEqual(2);
    expect(
      log.lines.some((l) => l.level === 'warn' && /jobs: 16 workers clamped to [23]/.test(l.message)),
    ).toBe(true);
    const target = uniqueName('shard_small_into');
    await restoreLatest(major, small, target);
    expect(await rowHashes(major, target)).toEqual(await rowHashes(major, small));
  });
});

/** Rewrites one byte of a stored object, keeping its length: only its SHA-256 tells. */
async function tamper(key: string, at: (body: Buffer) => number): Promise<void> {
  const res = await s3.client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const body = Buffer.from((await res.Body?.transformToByteArray()) ?? []);
  const i = at(body);
  body[i] = (body[i] ?? 0) ^ 0x01;
  await s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function exists(major: ServerMajor, name: string): Promise<boolean> {
  const rows = await sql(major, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${name}'`);
  return rows.length > 0;
}

describe('server 17: a tampered part of a sharded backup', () => {
  const major = 17;
  let db: string;
  /** The part holding public.big's rows (md5 text: a byte in it changes a row, not the archive). */
  let bigPart: string;
  beforeAll(async () => {
    db = await createDatabase(major, 'shard_tamper');
    await sql(major, db, fixtureSql());
    // jobs 3: public.big, the largest table, has a data part of its own.
    const { manifest } = await backupDatabase(
      options(major, db, { jobs: 3, compress: { algorithm: 'none' } }),
    );
    const part = manifest.parts?.find((p) => p.tables.some((t) => t.schema === 'public' && t.name === 'big'));
    expect(part?.role).toBe('data');
    bigPart = part?.key ?? '';
  });

  it('a data part changed in its rows: pg_restore takes them, the SHA-256 refuses them, the new database is dropped', async () => {
    // A byte in the middle of a row's text: the archive stays valid, only the digest differs.
    await tamper(bigPart, (body) => {
      const text = body.toString('latin1');
      const run = /[0-9a-f]{64}/g;
      run.lastIndex = text.length >> 1;
      return (run.exec(text)?.index ?? 0) + 10;
    });
    const target = uniqueName('shard_tampered');
    const error = await failureOf(restoreLatest(major, db, target));
    expect(error.message).toContain(`${bigPart} does not match its manifest`);
    expect(await exists(major, target)).toBe(false);
  });

  it('the same into an existing database with clean: built beside it, never swapped in', async () => {
    const target = await createDatabase(major, 'shard_kept');
    await sql(
      major,
      target,
      'CREATE TABLE public.big (id int PRIMARY KEY, payload text); INSERT INTO public.big VALUES (1, $$kept$$)',
    );
    const before = await rowHashes(major, target);
    const log = new RecordingLogger();
    const error = await failureOf(
      restoreFromS3({
        bucket: s3Bucket(s3, BUCKET),
        key: `${PREFIX}/${db}/`,
        to: parseConnection(connUrl(major, target), 'to', {}),
        clean: true,
        swap: 'always',
        confirm: target,
        jobs: 'auto',
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      }),
    );
    expect(error.message).toMatch(/does not match its manifest/);
    expect(await rowHashes(major, target)).toEqual(before);
  });

  it('an existing target without clean is refused before anything is read', async () => {
    const target = await createDatabase(major, 'shard_exists');
    const error = await failureOf(restoreLatest(major, db, target));
    expect(error.message).toMatch(/^to: .* exists; a sharded backup restores in parallel sessions/);
  });
});

describe('server 17: drill and seed of a sharded backup', () => {
  const major = 17;
  let db: string;
  beforeAll(async () => {
    db = await createDatabase(major, 'shard_drill');
    await sql(major, db, fixtureSql());
  });

  it('verify restore: the parts restored into a scratch database, counted against the snapshot', async () => {
    const log = new RecordingLogger();
    const { manifest } = await backupDatabase(
      options(major, db, { verify: 'restore', log, catalog: catalog(log) }),
    );
    expect(manifest.parts).toHaveLength(2);
    const counts = await sql<{ n: string }>(
      major,
      db,
      `SELECT count(*)::text AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
    );
    expect(manifest.verification).toMatchObject({
      method: 'restore',
      result: 'passed',
      tables: Number(counts[0]?.n),
      bytesReadBack: manifest.bytes,
    });
    expect(manifest.verification.rows).toBeGreaterThan(30000);
    expect(
      await sql(major, 'postgres', `SELECT 1 FROM pg_database WHERE datname LIKE 'pgferry\\_drill\\_%'`),
    ).toEqual([]);
  });

  it('seed: staging replaced by the sharded backup, sanitized before the rows carry its name', async () => {
    const staging = await createDatabase(major, 'shard_staging');
    await sql(major, staging, 'CREATE TABLE old_stuff (id int)');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgferry-shard-seed-'));
    const sanitize = path.join(dir, 'sanitize.sql');
    writeFileSync(sanitize, `UPDATE public.child SET note = 'redacted';\n`);
    const log = new RecordingLogger();
    const result = await seedDatabase({
      source: parseConnection(connUrl(major, db), 'from', {}),
      to: parseConnection(connUrl(major, staging), 'to', {}),
      bucket: s3Bucket(s3, BUCKET),
      prefix: PREFIX,
      database: db,
      confirm: staging,
      sanitizeSql: [sanitize],
      jobs: 2,
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    expect(result.restore.swapped).toBe(true);
    const source = await rowHashes(major, db);
    const seeded = await rowHashes(major, staging);
    expect(seeded['public.old_stuff']).toBeUndefined();
    expect(seeded['public.big']).toBe(source['public.big']);
    const notes = await sql<{ n: string }>(
      major,
      staging,
      `SELECT count(DISTINCT note)::text AS n FROM public.child`,
    );
    expect(notes[0]?.n).toBe('1');
  });
});

describe('server 17: masking a sharded backup on its way in', () => {
  const major = 17;
  const prefix = 'sharded-masked';
  let db: string;
  // The FK pair masked alike (joins hold), a text column by name; big and child in different parts.
  const RULES = [
    'columns:',
    '  public.big.id: { hash: { keep-format: true } }',
    '  public.child.big_id: { hash: { keep-format: true } }',
    '  public.child.note: name',
    '',
  ].join('\n');
  const rules = (text = RULES) => parseMaskingRules(text, 'rules.yml', 'sharded-key');
  beforeAll(async () => {
    db = await createDatabase(major, 'shard_masked');
    await sql(major, db, fixtureSql());
    const { manifest } = await backupDatabase(options(major, db, { prefix }));
    const holding = (table: string) =>
      manifest.parts?.findIndex((p) => p.tables.some((t) => t.schema === 'public' && t.name === table));
    // The rules span parts: the check reads every part's TOC, the masking runs in each part's stream.
    expect(holding('big')).not.toBe(holding('child'));
  });

  async function expectMasked(target: string): Promise<void> {
    const [row] = await sql<{ raw: number; joined: number; rows: number }>(
      major,
      target,
      `SELECT (SELECT count(*)::int FROM public.child WHERE note ~ '^n[0-9]+$') AS raw,
              (SELECT count(*)::int FROM public.child c JOIN public.big b ON b.id = c.big_id) AS joined,
              (SELECT count(*)::int FROM public.big) AS rows`,
    );
    expect(row).toEqual({ raw: 0, joined: 3000, rows: 20000 });
  }

  it('restore into a new database with jobs 2: masked in every part, joins hold, no leak', async () => {
    const target = uniqueName('shard_masked_new');
    const log = new RecordingLogger();
    const result = await restoreFromS3({
      bucket: s3Bucket(s3, BUCKET),
      key: `${prefix}/${db}/`,
      to: parseConnection(connUrl(major, target), 'to', {}),
      jobs: 2,
      maskingRules: rules(),
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    expect(result.leakCheck?.map((c) => [c.column, c.leaks])).toEqual(
      expect.arrayContaining([
        ['public.big.id', 0],
        ['public.child.big_id', 0],
        ['public.child.note', 0],
      ]),
    );
    expect(result.leakCheck).toHaveLength(3);
    expect(result.masked?.get('public.big')?.masked).toBe(20000);
    expect(result.masked?.get('public.child')?.masked).toBe(3000);
    await expectMasked(target);
    // Everything else came through as it was.
    const source = await rowHashes(major, db);
    const restored = await rowHashes(major, target);
    expect(restored['public.events']).toBe(source['public.events']);
    expect(restored['public.docs']).toBe(source['public.docs']);
    expect(restored['public.big']).not.toBe(source['public.big']);
  });

  it('seed over staging: masked, checked on the built database, then swapped in', async () => {
    const staging = await createDatabase(major, 'shard_masked_staging');
    await sql(major, staging, 'CREATE TABLE old_stuff (id int)');
    const log = new RecordingLogger();
    const result = await seedDatabase({
      source: parseConnection(connUrl(major, db), 'from', {}),
      to: parseConnection(connUrl(major, staging), 'to', {}),
      bucket: s3Bucket(s3, BUCKET),
      prefix,
      database: db,
      confirm: staging,
      sanitizeSql: [],
      maskingRules: rules(),
      jobs: 2,
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    expect(result.restore.swapped).toBe(true);
    expect(result.restore.leakCheck?.map((c) => c.leaks)).toEqual([0, 0, 0]);
    await expectMasked(staging);
    expect((await rowHashes(major, staging))['public.old_stuff']).toBeUndefined();
  });

  it('a rule for a column no part holds is refused before anything is created', async () => {
    const staging = await createDatabase(major, 'shard_masked_refused');
    await sql(major, staging, 'CREATE TABLE keep (id int); INSERT INTO keep VALUES (1)');
    const before = await rowHashes(major, staging);
    const log = new RecordingLogger();
    const error = await failureOf(
      restoreFromS3({
        bucket: s3Bucket(s3, BUCKET),
        key: `${prefix}/${db}/`,
        to: parseConnection(connUrl(major, staging), 'to', {}),
        clean: true,
        confirm: staging,
        swap: 'always',
        jobs: 2,
        maskingRules: rules(`${RULES}  public.child.nope: email\n`),
        postgresVersion: { kind: 'auto' },
        catalog: catalog(log),
        log,
      }),
    );
    expect(error.message).toMatch(
      /^masking-rules: rules\.yml, line 5 \(public\.child\.nope\): the table public\.child has no column nope \(it has id, big_id, note\)$/,
    );
    expect(await rowHashes(major, staging)).toEqual(before);
    const stem = scratchStem(staging);
    const scratch = await sql(
      major,
      'postgres',
      `SELECT datname FROM pg_database WHERE left(datname, ${stem.length}) = '${stem.replace(/'/g, "''")}'`,
    );
    expect(scratch).toEqual([]);
  });
});
