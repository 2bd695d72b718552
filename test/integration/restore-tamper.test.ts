import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { RecordingLogger } from '../../core/log.js';
import { backupDatabase } from '../../core/jobs/backup.js';
import { restoreFromS3 } from '../../core/jobs/restore-s3.js';
import type { ClientTools } from '../../core/pg/clients/tools.js';
import { parseConnection } from '../../core/pg/connection.js';
import { latestKey, manifestKey } from '../../core/storage/backup-layout.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { catalog } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { errorCode } from '../../core/errors.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { backupOptionsFor, s3Bucket, s3Env } from '../harness/s3-engine.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';

/**
 * A tampered bucket, as an attacker or an unlucky operator leaves it: every restore is refused before
 * the target changes — a new target does not exist afterwards, an existing one is exactly as before —
 * whether it streams (one job: the whole object is hashed after pg_restore stopped reading, and
 * pgferry's transaction is never committed) or downloads first (two jobs).
 */

const BUCKET = 'pgferry-tamper';
let s3: S3TestServer;
let tools: ClientTools;
/** Per database: the backup's key and the original bytes of everything stored for it. */
const stored: Record<'a' | 'b', { db: string; key: string; dump: Buffer; manifest: string; latest: string }> =
  {} as never;

async function getBytes(key: string): Promise<Buffer> {
  const res = await s3.client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await (res.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())));
}

async function put(key: string, body: Buffer | string): Promise<void> {
  await s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function backUp(db: string): Promise<string> {
  return (await backupDatabase(backupOptionsFor(s3, BUCKET, 'p', db))).manifest.key;
}

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
  tools = await catalog().provide({ major: 17 });
  for (const [name, rows] of [
    ['a', 20000],
    ['b', 100],
  ] as const) {
    const db = await createDatabase(17, `tamper_${name}`);
    await sql(
      17,
      db,
      `CREATE TABLE tamper_${name}_rows (id int PRIMARY KEY, v text);
       INSERT INTO tamper_${name}_rows SELECT i, md5(i::text) FROM generate_series(1, ${rows}) i`,
    );
    const key = await backUp(db);
    stored[name] = {
      db,
      key,
      dump: await getBytes(key),
      manifest: (await s3.getText(BUCKET, manifestKey(key))) ?? '',
      latest: (await s3.getText(BUCKET, latestKey('p', db))) ?? '',
    };
  }
  expect(stored.b.dump.length).toBeLessThan(stored.a.dump.length);
});

afterAll(async () => s3?.close());

/** Puts everything of database a back as the backup wrote it. */
async function untamper(): Promise<void> {
  await put(stored.a.key, stored.a.dump);
  await put(manifestKey(stored.a.key), stored.a.manifest);
  await put(latestKey('p', stored.a.db), stored.a.latest);
}

type Target = 'new' | 'existing';

async function prepareTarget(kind: Target): Promise<string> {
  if (kind === 'new') return uniqueName('tamper_new');
  const db = await createDatabase(17, 'tamper_old');
  await sql(
    17,
    db,
    `CREATE TABLE keep (id int, v text); INSERT INTO keep SELECT i, 'row ' || i FROM generate_series(1, 10) i`,
  );
  return db;
}

async function stateOf(db: string): Promise<string | undefined> {
  const exists = await sql(17, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${db}'`);
  if (exists.length === 0) return undefined;
  return JSON.stringify([await schemaOf(tools, 17, db), await rowHashes(17, db)]);
}

function restore(from: string, target: string, jobs: number) {
  const log = new RecordingLogger();
  return restoreFromS3({
    bucket: s3Bucket(s3, BUCKET),
    key: from,
    to: parseConnection(connUrl(17, target), 'to', {}),
    confirm: target,
    jobs,
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
  });
}

const prefixOfA = (): string => `p/${stored.a.db}/`;

interface Attack {
  name: string;
  tamper: () => Promise<void>;
  /** What the refusal must say. */
  refusal: RegExp;
  /** The error's code: integrity, unless pg_restore may meet the damage before the digest does. */
  codes?: readonly string[];
  /** Where the restore is pointed: the prefix (latest.json), the key, or both. */
  from: ('prefix' | 'key')[];
}

const DIGEST =
  /does not match its manifest: \d+ bytes with SHA-256 [0-9a-f]{64}, the manifest says \d+ bytes/;

const ATTACKS: Attack[] = [
  {
    name: 'the object replaced by another database’s valid dump, padded with junk to the same size',
    tamper: async () => {
      const junk = Buffer.alloc(stored.a.dump.length - stored.b.dump.length, 0x5a);
      await put(stored.a.key, Buffer.concat([stored.b.dump, junk]));
    },
    refusal: DIGEST,
    from: ['prefix', 'key'],
  },
  {
    name: 'the object replaced by another valid dump plus 2 MiB of junk',
    tamper: () => put(stored.a.key, Buffer.concat([stored.b.dump, Buffer.alloc(2 * 1024 * 1024, 0x41)])),
    refusal: /has \d+ bytes, its manifest says \d+; refusing to restore it/,
    from: ['prefix', 'key'],
  },
  {
    name: 'the table of contents edited (a table renamed, same length)',
    tamper: async () => {
      const edited = Buffer.from(stored.a.dump);
      const name = Buffer.from('tamper_a_rows');
      let at = edited.indexOf(name);
      expect(at).toBeGreaterThan(0);
      for (; at !== -1; at = edited.indexOf(name, at + 1)) edited[at] = 0x75; // t → u
      await put(stored.a.key, edited);
    },
    refusal: DIGEST,
    from: ['prefix', 'key'],
  },
  {
    name: 'one byte flipped in the middle',
    tamper: async () => {
      const flipped = Buffer.from(stored.a.dump);
      const mid = Math.floor(flipped.length / 2);
      flipped[mid] = (flipped[mid] ?? 0) ^ 0x01;
      await put(stored.a.key, flipped);
    },
    refusal: new RegExp(`${DIGEST.source}|pg_restore`),
    codes: ['integrity', 'tool'],
    from: ['prefix', 'key'],
  },
  {
    name: 'truncated',
    tamper: () => put(stored.a.key, stored.a.dump.subarray(0, Math.floor(stored.a.dump.length / 2))),
    refusal: /has \d+ bytes, its manifest says \d+; refusing to restore it/,
    from: ['prefix', 'key'],
  },
  {
    name: 'latest.json pointing at another database’s backup',
    tamper: () => put(latestKey('p', stored.a.db), stored.b.latest),
    refusal: /points at a backup outside s3:\/\/pgferry-tamper\/p\/tamper_a_[0-9a-f]+\//,
    from: ['prefix'],
  },
  {
    name: 'latest.json pointing outside the prefix (a .. segment)',
    tamper: async () => {
      const pointer = JSON.parse(stored.a.latest) as Record<string, string>;
      const escape = `p/${stored.a.db}/../${stored.b.db}/${stored.b.key.split('/').slice(2).join('/')}`;
      await put(
        latestKey('p', stored.a.db),
        JSON.stringify({ ...pointer, key: escape, manifest: `${escape}.json` }),
      );
    },
    refusal: /points at a backup outside s3:\/\/pgferry-tamper\/p\/tamper_a_[0-9a-f]+\/ \(p\/.*\/\.\.\//,
    from: ['prefix'],
  },
  {
    name: 'a manifest without sha256',
    tamper: async () => {
      const { sha256: _dropped, ...rest } = JSON.parse(stored.a.manifest) as Record<string, unknown>;
      await put(manifestKey(stored.a.key), JSON.stringify(rest));
    },
    refusal:
      /is not a usable pgferry manifest: it lacks a valid sha256; refusing to restore what it describes/,
    from: ['prefix', 'key'],
  },
  {
    name: 'a manifest whose key differs from the pointer’s (and from the key asked for)',
    tamper: async () => {
      const manifest = JSON.parse(stored.a.manifest) as Record<string, unknown>;
      await put(manifestKey(stored.a.key), JSON.stringify({ ...manifest, key: stored.b.key }));
    },
    refusal: /do not vouch for each other \(key .* ≠ .*\)|describes .*, not /,
    from: ['prefix', 'key'],
  },
  {
    name: 'a latest.json that is not a pointer',
    tamper: () => put(latestKey('p', stored.a.db), JSON.stringify({ hello: 'world' })),
    refusal:
      /latest\.json is not a pgferry latest pointer: it lacks a valid database, key, manifest, sha256, bytes/,
    from: ['prefix'],
  },
  {
    name: 'a latest.json that is not JSON at all',
    tamper: () => put(latestKey('p', stored.a.db), 'latest: yesterday'),
    refusal: /latest\.json is not a pgferry latest pointer: it is not JSON/,
    from: ['prefix'],
  },
];

describe('restoring an untampered backup (the control: the refusals below are not vacuous)', () => {
  it.each([1, 2])('restores from the prefix and from the key with %i job(s)', async (jobs) => {
    for (const from of [prefixOfA(), stored.a.key]) {
      const target = uniqueName('tamper_ok');
      await restore(from, target, jobs);
      expect(await sql(17, target, 'SELECT count(*)::int AS n FROM tamper_a_rows')).toEqual([{ n: 20000 }]);
    }
  });
});

describe.each(ATTACKS)('a tampered bucket: $name', (attack) => {
  beforeAll(attack.tamper);
  afterAll(untamper);

  const cases = attack.from.flatMap((from) =>
    [1, 2].flatMap((jobs) => (['new', 'existing'] as const).map((target) => ({ from, jobs, target }))),
  );
  it.each(cases)(
    'is refused from the $from with $jobs job(s) into a $target target, which is left as it was',
    async ({ from, jobs, target }) => {
      const db = await prepareTarget(target);
      const before = await stateOf(db);
      const error = await failureOf(restore(from === 'prefix' ? prefixOfA() : stored.a.key, db, jobs));
      expect(error.message).toMatch(attack.refusal);
      // Callers tell a tampered backup from any other failure by its code, not its words.
      expect(attack.codes ?? ['integrity']).toContain(errorCode(error));
      expect(await stateOf(db)).toEqual(before);
      if (target === 'new') expect(before).toBeUndefined();
    },
  );
});
