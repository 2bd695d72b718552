import { PutObjectCommand } from '@aws-sdk/client-s3';
import http from 'node:http';
import { readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { backupDatabase } from '../../core/jobs/backup.js';
import { dumpToS3, type DumpToS3Result } from '../../core/jobs/dump-to-s3.js';
import { runJob } from '../../core/jobs/run-job.js';
import { verifyByList } from '../../core/jobs/verify-list.js';
import { parseJobOptions } from '../../core/options.js';
import { parseConnection } from '../../core/pg/connection.js';
import { PgferryError } from '../../core/errors.js';
import { catalog, SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { serveLoopback } from '../harness/loopback-http.js';
import { connUrl, createDatabase, mirrorUrl, sql } from '../harness/testbed.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { backupOptionsFor, s3Bucket, s3Env } from '../harness/s3-engine.js';

/**
 * Store-attested integrity: the stored object is proven to be the streamed one by what the store
 * attests (here s3rver's MD5 ETag), and `verify: list` reads back only the archive's front.
 */
const BUCKET = 'pgferry-integrity';
let s3: S3TestServer;
let db: string;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3Env(s3));
  db = await createDatabase(17, 'integrity');
  // About 12 MB of random bytes that no compression shrinks: the dump stays sizeable.
  await sql(
    17,
    db,
    `CREATE TABLE "hostile ""name"" ü" (id int PRIMARY KEY, b bytea);
     INSERT INTO "hostile ""name"" ü" SELECT i, decode(md5(random()::text) || md5(random()::text), 'hex')
       FROM generate_series(1, 300000) i;
     CREATE TABLE small (id int); INSERT INTO small VALUES (1)`,
  );
});
afterAll(async () => s3?.close());

/** The file s3rver keeps an object's bytes in, and the sidecar it reads the object's ETag from. */
function storedFile(key: string): { object: string; etag: string } {
  const object = path.join(s3.dir, BUCKET, `${key}._S3rver_object`);
  return { object, etag: `${object}.md5` };
}

function flip(bytes: Buffer, at: number): void {
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
}

async function streamOnce(key: string): Promise<DumpToS3Result> {
  const log = new RecordingLogger();
  return dumpToS3({
    from: parseConnection(connUrl(17, db), 'from', {}),
    bucket: s3Bucket(s3, BUCKET),
    key,
    input: 'to',
    compress: 'auto',
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
  });
}

async function verify(key: string, dumped: DumpToS3Result, method: 'list' | 'full' = 'list') {
  return verifyByList(
    { bucket: s3Bucket(s3, BUCKET), input: 'to', client: dumped.client, method },
    { key, database: db, tocEntries: dumped.archive.tocEntries, ...dumped },
  );
}

describe('store-attested integrity', () => {
  it('proves a backup by the ETag and reads back under 1% of it; full reads back every byte', async () => {
    const list = await backupDatabase(backupOptionsFor(s3, BUCKET, 'p', db));
    const m = list.manifest;
    expect(m.bytes).toBeGreaterThan(8_000_000);
    expect(m.proof).toBe('md5-etag');
    expect(m.verification).toMatchObject({ method: 'list', result: 'passed', tables: 2 });
    expect(m.verification.bytesReadBack).toBeGreaterThan(0);
    expect(m.verification.bytesReadBack ?? Infinity).toBeLessThan(m.bytes / 100);

    const full = await backupDatabase(backupOptionsFor(s3, BUCKET, 'p', db, { verify: 'full' }));
    expect(full.manifest.proof).toBe('read-back');
    expect(full.manifest.verification).toMatchObject({ method: 'full', result: 'passed', tables: 2 });
    expect(full.manifest.verification.bytesReadBack).toBe(full.manifest.bytes);
  });

  it('reads more of the front, doubling, when the TOC outgrows the first 64 KiB', async () => {
    const many = await createDatabase(17, 'manytables');
    // 500 tables named with 63 bytes each (the longest name), quotes and a keyword in them.
    const name = (i: number): string => `"select ""${String(i).padStart(4, '0')}"" ${'x'.repeat(49)}"`;
    await sql(
      17,
      many,
      Array.from(
        { length: 500 },
        (_, i) => `CREATE TABLE ${name(i)} (id int); INSERT INTO ${name(i)} VALUES (${i});`,
      ).join('\n'),
    );
    // Data after the TOC, so that a read of the whole object would show.
    await sql(17, many, `INSERT INTO ${name(0)} SELECT i FROM generate_series(1, 300000) i`);
    const { manifest } = await backupDatabase(backupOptionsFor(s3, BUCKET, 'many', many));
    expect(manifest.verification).toMatchObject({ method: 'list', result: 'passed', tables: 500 });
    const read = manifest.verification.bytesReadBack ?? 0;
    // 64 KiB, then 128, 256 …, never the whole object.
    expect(read).toBeGreaterThan(64 * 1024);
    expect(read).toBeLessThan(manifest.bytes / 2);
    expect(Number.isInteger(Math.log2(read / 1024))).toBe(true);
  });

  it('fails an object replaced after upload by one of the same size', async () => {
    const key = 'replaced.dump';
    const dumped = await streamOnce(key);
    expect(dumped.proof).toEqual({ kind: 'md5-etag' });
    const bytes = readFileSync(storedFile(key).object);
    flip(bytes, bytes.length - 100); // in the data, far from the TOC a listing reads
    await s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }));
    const { verification } = await verify(key, dumped);
    expect(verification).toMatchObject({ result: 'failed', bytesReadBack: 0 });
    expect(verification.detail).toMatch(/the store's ETag is [0-9a-f]{32}, the stream's [0-9a-f]{32}/);
  });

  it('fails bytes changed in the store, once the store attests what it holds', async () => {
    const key = 'flipped.dump';
    const dumped = await streamOnce(key);
    const file = storedFile(key);
    const bytes = readFileSync(file.object);
    flip(bytes, bytes.length - 100);
    writeFileSync(file.object, bytes);
    unlinkSync(file.etag); // s3rver then computes its ETag from the bytes it holds
    const { verification } = await verify(key, dumped);
    expect(verification.result).toBe('failed');
    expect(verification.detail).toMatch(/ETag is/);
  });

  it('fails a truncated object, even while the store still names the old ETag', async () => {
    const key = 'truncated.dump';
    const dumped = await streamOnce(key);
    truncateSync(storedFile(key).object, dumped.bytes - 4096);
    const { verification } = await verify(key, dumped);
    expect(verification.result).toBe('failed');
    expect(verification.detail).toBe(
      `the store holds ${dumped.bytes - 4096} bytes, ${dumped.bytes} were streamed`,
    );
  });

  it('fails a forged ETag on unchanged bytes, and a full verification too', async () => {
    const key = 'forged.dump';
    const dumped = await streamOnce(key);
    writeFileSync(storedFile(key).etag, 'ffffffffffffffffffffffffffffffff');
    for (const method of ['list', 'full'] as const) {
      const { verification } = await verify(key, dumped, method);
      expect(verification).toMatchObject({ method, result: 'failed' });
      expect(verification.detail).toContain('ffffffffffffffffffffffffffffffff');
    }
  });

  it('refuses ranged bytes of another version than the one attested', async () => {
    const key = 'versioned.dump';
    await streamOnce(key);
    const read = s3Bucket(s3, BUCKET).readRange(key, 'to', { start: 0, length: 10, etag: '"0123"' });
    await expect(read).rejects.toThrow(PgferryError);
    await expect(read).rejects.toThrow(/changed while it was read back|PreconditionFailed|412/);
  });

  it('a dump to S3 whose store answers with a forged ETag fails and writes no manifest', async () => {
    const forged = '"0123456789abcdef0123456789abcdef"';
    const target = new URL(s3.endpoint);
    // Forwards to the store, but answers a PutObject (the final write of a small dump) with a forged ETag.
    const proxy = await serveLoopback((req, res) => {
      const up = http.request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          const headers = { ...answer.headers };
          const finalPut = req.method === 'PUT' && !req.url?.includes('partNumber=');
          if (finalPut && headers.etag) headers.etag = forged;
          res.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(res);
        },
      );
      req.pipe(up);
    });
    try {
      const key = 'adhoc/forged-answer.dump';
      const inputs: Record<string, string> = {
        command: 'dump',
        from: connUrl(17, db),
        to: `s3://${BUCKET}/${key}`,
        'postgres-version': '17',
        mirror: mirrorUrl(),
        's3-endpoint': proxy.url,
        's3-region': s3.region,
        's3-force-path-style': 'true',
        // One small table: a single PutObject.
        tables: 'public.small',
      };
      const job = runJob(
        parseJobOptions((name) => inputs[name], {}),
        {
          log: new RecordingLogger(),
          cacheDir: SHARED_CLIENT_CACHE,
        },
      );
      await expect(job).rejects.toThrow(
        /does not prove it holds the streamed bytes \(the store's ETag is 0123456789abcdef0123456789abcdef, the stream's [0-9a-f]{32}\); no manifest was written/,
      );
      expect(await s3.getText(BUCKET, `${key}.json`)).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });
});
