import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backupDatabase } from '../../core/jobs/backup.js';
import { copyDatabase } from '../../core/jobs/copy.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import { seedDatabase } from '../../core/jobs/seed.js';
import { RecordingLogger } from '../../core/log.js';
import type { ClientTools } from '../../core/pg/clients/tools.js';
import { parseConnection } from '../../core/pg/connection.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { catalog, dumpFile, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import type { ServerMajor } from '../harness/paths.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { backupOptionsFor, s3Bucket, s3Env } from '../harness/s3-engine.js';
import {
  earlierCopy,
  scratchesOf,
  SLOW_TABLE_SQL,
  stateOf,
  terminateMidRestore,
  VIOLATING_SQL,
  SOURCE_SQL,
  type TargetState,
} from '../harness/target-state.js';
import { connUrl, createDatabase, sql } from '../harness/testbed.js';

/**
 * The failure matrix of replace by swap (issue 12): every destructive path — a clean restore from a
 * custom or directory file, a clean restore from S3, a clean copy, a seed — with 1 and 2 jobs, broken
 * at each stage where it can break. Afterwards the target must be byte for byte what it was (schema
 * dump, row hashes, its comment, settings, grants and connection limit) and no scratch database of
 * its may be left. The same paths succeeding must give the source's schema and rows, swapped in.
 * SIGKILL of pgferry itself is the e2e half (test/e2e/killed-swap.test.ts).
 */

const PATHS = ['file-custom', 'file-directory', 's3', 'copy', 'seed'] as const;
type RestorePathKind = (typeof PATHS)[number];
const FAULTS = ['truncated', 'tampered', 'violation', 'sql-after', 'terminated'] as const;
type Fault = (typeof FAULTS)[number];

/** Where a fault applies: a copy reads no archive; only a stored object can be tampered with. */
function applies(p: RestorePathKind, fault: Fault): boolean {
  if (fault === 'truncated') return p !== 'copy';
  if (fault === 'tampered') return p === 's3' || p === 'seed';
  return true;
}

const FULL_MAJORS = [18, 14] as const;
/** One path per fault on the other majors, rotated so every path and fault meets two majors or more. */
const ROTATION: [ServerMajor, RestorePathKind, Fault, 1 | 2][] = [
  [15, 'file-custom', 'truncated', 2],
  [15, 's3', 'violation', 1],
  [15, 'copy', 'sql-after', 2],
  [15, 'seed', 'terminated', 2],
  [16, 's3', 'tampered', 2],
  [16, 'copy', 'violation', 2],
  [16, 'seed', 'sql-after', 1],
  [16, 'file-directory', 'terminated', 2],
  [17, 'seed', 'truncated', 1],
  [17, 'file-directory', 'violation', 2],
  [17, 'file-custom', 'sql-after', 2],
  [17, 'copy', 'terminated', 1],
];

/** Sources: the good one; one whose rows break a CHECK on restore; one with a slow-loading table. */
type SourceKind = 'good' | 'violating' | 'slow';
const SOURCE_OF: Record<SourceKind, string> = {
  good: SOURCE_SQL,
  violating: SOURCE_SQL + VIOLATING_SQL,
  slow: SOURCE_SQL + SLOW_TABLE_SQL,
};

const BUCKET = 'pgferry-swap-matrix';
const scratch = scratchDir();
let s3: S3TestServer;
let tools: ClientTools;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
  tools = await catalog().provide({ major: 18 });
});
afterAll(async () => {
  await s3?.close();
  scratch.cleanup();
});

const to = (major: ServerMajor, db: string) => parseConnection(connUrl(major, db), 'to', {});
function hooks() {
  const log = new RecordingLogger();
  return { postgresVersion: { kind: 'auto' as const }, catalog: catalog(log), log };
}
const logText = (log: RecordingLogger) => log.lines.map((l) => l.message).join('\n');

/** Made once per major and kind, on first use. */
function memo<K, V>(make: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const made = new Map<string, Promise<V>>();
  return (key) => {
    const id = JSON.stringify(key);
    if (!made.has(id)) made.set(id, make(key));
    return made.get(id) as Promise<V>;
  };
}

const sourceDb = memo(async ([major, kind]: [ServerMajor, SourceKind]) => {
  const db = await createDatabase(major, `matrix_${kind}`);
  await sql(major, db, SOURCE_OF[kind]);
  return db;
});

const archiveOf = memo(
  async ([major, kind, format]: [ServerMajor, SourceKind | 'truncated', 'custom' | 'directory']) => {
    const db = await sourceDb([major, kind === 'truncated' ? 'good' : kind]);
    const file = path.join(scratch.dir, `${major}-${kind}.${format === 'custom' ? 'dump' : 'dir'}`);
    await dumpFile(major, db, file, format);
    if (kind === 'truncated') {
      // A custom file cut at 70 %; in a directory, the largest table's data file cut in half.
      const victim =
        format === 'custom'
          ? file
          : readdirSync(file)
              .filter((f) => f !== 'toc.dat')
              .map((f) => path.join(file, f))
              .sort((a, b) => statSync(b).size - statSync(a).size)[0];
      if (victim === undefined) throw new Error(`no data file in ${file}`);
      truncateSync(victim, Math.floor(statSync(victim).size * (format === 'custom' ? 0.7 : 0.5)));
    }
    return file;
  },
);

/** A backup made as the scheduled job makes it, under a prefix per major. */
const backupOf = memo(async ([major, kind]: [ServerMajor, SourceKind]) => {
  const db = await sourceDb([major, kind]);
  const prefix = `m${major}`;
  const from = parseConnection(connUrl(major, db), 'from', {});
  const { manifest } = await backupDatabase(backupOptionsFor(s3, BUCKET, prefix, db, { from }));
  return { db, prefix, key: manifest.key };
});

async function objectBytes(key: string): Promise<Buffer> {
  const got = await s3.client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from((await got.Body?.transformToByteArray()) ?? []);
}
async function putObject(key: string, body: Buffer): Promise<void> {
  await s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

/** The stored object cut short, or one byte in its middle flipped; `restore()` puts it back. */
async function spoilObject(
  key: string,
  how: 'truncated' | 'tampered',
): Promise<{ restore: () => Promise<void> }> {
  const good = await objectBytes(key);
  const bad = Buffer.from(good);
  if (how === 'tampered') bad[bad.length >> 1] = (bad[bad.length >> 1] ?? 0) ^ 0xff;
  await putObject(key, how === 'truncated' ? good.subarray(0, Math.floor(good.length * 0.7)) : bad);
  return { restore: () => putObject(key, good) };
}

function failingSql(major: ServerMajor): string {
  const file = path.join(scratch.dir, `fails-${major}.sql`);
  writeFileSync(
    file,
    "UPDATE public.items SET note = 'redacted';\nSELECT no_such_column FROM public.items;\n",
  );
  return file;
}

interface Run {
  result: Promise<{ swapped?: boolean; jobs: number; jobsReason?: string }>;
  log: RecordingLogger;
}

/** One run of a destructive path into `db`, from the source of `kind`, with `sqlFile` run after. */
async function run(
  major: ServerMajor,
  p: RestorePathKind,
  jobs: 1 | 2,
  db: string,
  kind: SourceKind,
  archive: 'intact' | 'truncated' = 'intact',
  sqlFile?: string,
): Promise<Run> {
  const h = hooks();
  const after = sqlFile ? { sqlInTransaction: { files: [sqlFile], input: 'sql-after' } } : {};
  const base = { to: to(major, db), jobs, clean: true, confirm: db, ...h };
  if (p === 'file-custom' || p === 'file-directory') {
    const format = p === 'file-custom' ? 'custom' : 'directory';
    const from = await archiveOf([major, archive === 'truncated' ? 'truncated' : kind, format]);
    return { log: h.log, result: restoreFromPath({ ...base, from, ...after }) };
  }
  if (p === 'copy') {
    const from = parseConnection(connUrl(major, await sourceDb([major, kind])), 'from', {});
    return {
      log: h.log,
      result: copyDatabase({ ...base, from, ...(sqlFile ? { sqlAfter: [sqlFile] } : {}) }),
    };
  }
  const backup = await backupOf([major, kind]);
  const store = { bucket: s3Bucket(s3, BUCKET) };
  if (p === 's3')
    return { log: h.log, result: restoreFromS3({ ...base, ...store, key: backup.key, ...after }) };
  const seeded = seedDatabase({
    ...h,
    ...store,
    source: parseConnection(connUrl(major, backup.db), 'source', {}),
    to: to(major, db),
    prefix: backup.prefix,
    database: backup.db,
    confirm: db,
    sanitizeSql: sqlFile ? [sqlFile] : [],
    jobs,
  });
  return { log: h.log, result: seeded.then((s) => s.restore) };
}

/** Breaks one run of `p` at `fault` and returns the error, the run's log and how many sessions were ended. */
async function breakRun(
  major: ServerMajor,
  p: RestorePathKind,
  jobs: 1 | 2,
  db: string,
  fault: Fault,
): Promise<{ error: Error; log: RecordingLogger; ended?: number }> {
  if (fault === 'truncated' && (p === 'file-custom' || p === 'file-directory')) {
    const r = await run(major, p, jobs, db, 'good', 'truncated');
    return { error: await failureOf(r.result), log: r.log };
  }
  if (fault === 'truncated' || fault === 'tampered') {
    const { key } = await backupOf([major, 'good']);
    const spoiled = await spoilObject(key, fault);
    try {
      const r = await run(major, p, jobs, db, 'good');
      return { error: await failureOf(r.result), log: r.log };
    } finally {
      await spoiled.restore();
    }
  }
  if (fault === 'violation') {
    const r = await run(major, p, jobs, db, 'violating');
    return { error: await failureOf(r.result), log: r.log };
  }
  if (fault === 'sql-after') {
    const r = await run(major, p, jobs, db, 'good', 'intact', failingSql(major));
    return { error: await failureOf(r.result), log: r.log };
  }
  const watcher = await terminateMidRestore(major, db);
  try {
    const r = await run(major, p, jobs, db, 'slow');
    const error = await failureOf(r.result);
    return { error, log: r.log, ended: await watcher.stop() };
  } catch (error) {
    await watcher.stop();
    throw error;
  }
}

/** Refused before anything is built: the stored object's bytes do not match its manifest. */
const refusedUpFront = (p: RestorePathKind, fault: Fault) =>
  (fault === 'truncated' || fault === 'tampered') && (p === 's3' || p === 'seed');

/** What each fault's error must say, whatever the path and major. */
const SAYS: Record<Fault, RegExp> = {
  truncated: /.+/,
  tampered: /SHA-256|sha256/i,
  violation: /check constraint|checked/i,
  'sql-after': /no_such_column/,
  terminated: /terminat|connection|server closed/i,
};

function sortedGrants(props: unknown): unknown {
  const p = props as { acl?: string | null };
  return {
    ...p,
    acl: p.acl
      ?.replace(/^\{|\}$/g, '')
      .split(',')
      .sort(),
  };
}

async function expectFailureLeavesTarget(
  major: ServerMajor,
  p: RestorePathKind,
  jobs: 1 | 2,
  fault: Fault,
  db: string,
  before: TargetState,
): Promise<void> {
  const { error, log, ended } = await breakRun(major, p, jobs, db, fault);
  expect(error.message).toMatch(SAYS[fault]);
  expect(error.message).not.toMatch(/password/i);
  if (fault === 'terminated') expect(ended).toBeGreaterThan(0);
  // A cut directory archive is refused before anything is built (directory-data.ts) where its
  // compression lets pgferry tell; a cut gzip stream only pg_restore notices, in the build.
  if (refusedUpFront(p, fault) || /is incomplete: the data file/.test(error.message)) {
    expect(logText(log)).not.toMatch(/building the new/);
  } else {
    // Broken inside the swap, not on some in-place fallback: built beside the target, then dropped.
    expect(logText(log)).toMatch(/building the new .* beside the target/);
    expect(logText(log)).toMatch(/is as it was: the new contents were built in .*, which was dropped/);
  }
  expect(await stateOf(tools, major, db)).toEqual(before);
  expect(await scratchesOf(major, db)).toEqual([]);
}

describe.each(FULL_MAJORS)('replace by swap on PostgreSQL %i: every path × jobs × fault', (major) => {
  describe.each(PATHS)('%s', (p) => {
    // One target takes every fault of this path in turn: each must leave it as the first found it.
    let db: string;
    let before: TargetState;
    beforeAll(async () => {
      db = await earlierCopy(major, SOURCE_SQL, 'matrix_tgt');
      before = await stateOf(tools, major, db);
    });

    const cases = FAULTS.filter((f) => applies(p, f)).flatMap((f) =>
      ([1, 2] as const).map((j) => [f, j] as const),
    );
    test.each(cases)(
      'fails at %s with %i job(s): the target is as it was, no scratch left',
      async (fault, jobs) => {
        await expectFailureLeavesTarget(major, p, jobs, fault, db, before);
      },
    );

    test.each([1, 2] as const)(
      'succeeds with %i job(s): the source, swapped in, keeping the target’s properties',
      async (jobs) => {
        const target = await earlierCopy(major, SOURCE_SQL, 'matrix_ok');
        const own = (await stateOf(tools, major, target)).props;
        const sanitize = path.join(scratch.dir, 'sanitize.sql');
        writeFileSync(sanitize, "UPDATE public.items SET note = 'redacted';\n");
        const r = await run(major, p, jobs, target, 'good', 'intact', p === 'seed' ? sanitize : undefined);
        const result = await r.result;
        expect(result.swapped).toBe(true);
        const source = await sourceDb([major, 'good']);
        if (p === 's3' || p === 'seed') {
          // A backup is streamed to S3: its archive records no data offsets, so one job by design.
          expect(result.jobs).toBe(1);
          if (jobs === 2) expect(result.jobsReason).toMatch(/no data offsets/);
        } else expect(result.jobs).toBe(jobs);
        expect(await schemaOf(tools, major, target)).toEqual(await schemaOf(tools, major, source));
        const rows = await rowHashes(major, target);
        const want = await rowHashes(major, source);
        if (p === 'seed') {
          // Sanitized before it carried the target's name: items differ from the source by the note only.
          expect(
            await sql(major, target, "SELECT count(*)::int AS n FROM public.items WHERE note <> 'redacted'"),
          ).toEqual([{ n: 0 }]);
          expect(await sql(major, target, 'SELECT count(*)::int AS n FROM public.items')).toEqual([
            { n: 3000 },
          ]);
          delete rows['public.items'];
          delete want['public.items'];
        }
        expect(rows).toEqual(want);
        // Carried over grant by grant: the same grants, perhaps listed in another order.
        expect(sortedGrants((await stateOf(tools, major, target)).props)).toEqual(sortedGrants(own));
        expect(await scratchesOf(major, target)).toEqual([]);
      },
    );
  });
});

describe.each(ROTATION)(
  'replace by swap on PostgreSQL %i: %s fails at %s (%i job(s))',
  (major, p, fault, jobs) => {
    test('the target is as it was, no scratch left', async () => {
      const db = await earlierCopy(major, SOURCE_SQL, 'matrix_rot');
      await expectFailureLeavesTarget(major, p, jobs, fault, db, await stateOf(tools, major, db));
    });
  },
);
