import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { randomBytes } from 'node:crypto';
import { startS3, type S3TestServer } from '../harness/s3.js';

/**
 * The harness's conditional-write proxy (s3rver alone ignores the headers): these tests prove it
 * answers as AWS S3 documents, so that tests of what pgferry sends and how it takes 412 mean
 * something. Each attack first shows the write that must fail, then that the object is unchanged.
 */
const BUCKET = 'pgferry-conditional';
const MIB = 1024 * 1024;
let s3: S3TestServer;
let client: S3Client;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  client = s3.client();
});
afterAll(async () => s3?.close());
afterEach(() => {
  s3.setConditionalWrites('enforce');
  s3.setMissingKeys('not-found');
});

function put(key: string, body: string, condition: { IfNoneMatch?: string; IfMatch?: string } = {}) {
  return client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ...condition }));
}

/** The error's S3 code and HTTP status, or 'ok'. */
async function answer(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    return `${e.$metadata?.httpStatusCode} ${e.name}`;
  }
}

test('If-None-Match: * creates once, then answers 412 and keeps the first object', async () => {
  expect(await answer(put('inm/a', 'first', { IfNoneMatch: '*' }))).toBe('ok');
  expect(await answer(put('inm/a', 'second', { IfNoneMatch: '*' }))).toBe('412 PreconditionFailed');
  expect(await s3.getText(BUCKET, 'inm/a')).toBe('first');
  // Without a condition the write replaces it, as on S3: the proxy enforces only what is asked.
  expect(await answer(put('inm/a', 'third'))).toBe('ok');
  expect(await s3.getText(BUCKET, 'inm/a')).toBe('third');
});

test('If-Match replaces only the version read: a stale ETag gets 412, a missing key 404', async () => {
  const first = await put('im/a', 'v1');
  const second = await put('im/a', 'v2', { IfMatch: first.ETag });
  expect(second.ETag).not.toBe(first.ETag);
  expect(await answer(put('im/a', 'v3', { IfMatch: first.ETag }))).toBe('412 PreconditionFailed');
  expect(await s3.getText(BUCKET, 'im/a')).toBe('v2');
  expect(await answer(put('im/missing', 'x', { IfMatch: first.ETag }))).toBe('404 NoSuchKey');
  expect(await s3.getText(BUCKET, 'im/missing')).toBeUndefined();
  // The ETag a GetObject returns is the one If-Match takes.
  const read = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'im/a' }));
  await read.Body?.transformToString();
  expect(await answer(put('im/a', 'v3', { IfMatch: read.ETag }))).toBe('ok');
});

test('lib-storage passes IfNoneMatch to CompleteMultipartUpload and to a single PutObject', async () => {
  await put('mpu/a', 'already here');
  await put('small/a', 'already here');
  const upload = (key: string, bytes: number) =>
    new Upload({
      client,
      params: { Bucket: BUCKET, Key: key, Body: randomBytes(bytes), IfNoneMatch: '*' },
      partSize: 5 * MIB,
    }).done();
  expect(await answer(upload('mpu/a', 11 * MIB))).toBe('412 PreconditionFailed');
  expect(await answer(upload('small/a', 1024))).toBe('412 PreconditionFailed');
  expect(await s3.getText(BUCKET, 'mpu/a')).toBe('already here');
  expect(await s3.getText(BUCKET, 'small/a')).toBe('already here');
  const sent = s3.writes().filter((w) => w.key === 'mpu/a' || w.key === 'small/a');
  expect(sent.filter((w) => w.ifNoneMatch === '*').map((w) => `${w.operation} ${w.key} ${w.status}`)).toEqual(
    ['CompleteMultipartUpload mpu/a 412', 'PutObject small/a 412'],
  );
  expect(await answer(upload('mpu/new', 11 * MIB))).toBe('ok');
  const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mpu/new' }));
  expect(head.ContentLength).toBe(11 * MIB);
});

test('ten racing create-only writes to one key: exactly one wins, the object is the winner’s', async () => {
  const bodies = Array.from({ length: 10 }, (_, i) => `writer ${i}`);
  const results = await Promise.all(bodies.map((b) => answer(put('race/a', b, { IfNoneMatch: '*' }))));
  expect(results.filter((r) => r === 'ok')).toHaveLength(1);
  expect(results.filter((r) => r === '412 PreconditionFailed')).toHaveLength(9);
  expect(await s3.getText(BUCKET, 'race/a')).toBe(bodies[results.indexOf('ok')]);
});

test('a held write is checked when released, against what the store holds by then', async () => {
  const first = await put('hold/a', 'v1');
  const held = s3.holdNextWrite(BUCKET, 'hold/a');
  const late = answer(put('hold/a', 'late', { IfMatch: first.ETag }));
  await held.arrived;
  await put('hold/a', 'meanwhile');
  held.release();
  expect(await late).toBe('412 PreconditionFailed');
  expect(await s3.getText(BUCKET, 'hold/a')).toBe('meanwhile');
});

test('a store can be played that ignores the conditions (s3rver itself) or refuses them (501)', async () => {
  await put('mode/a', 'v1');
  s3.setConditionalWrites('ignore');
  expect(await answer(put('mode/a', 'v2', { IfNoneMatch: '*' }))).toBe('ok');
  expect(await s3.getText(BUCKET, 'mode/a')).toBe('v2');
  s3.setConditionalWrites('refuse');
  expect(await answer(put('mode/b', 'v1', { IfNoneMatch: '*' }))).toBe('501 NotImplemented');
  expect(await s3.getText(BUCKET, 'mode/b')).toBeUndefined();
  expect(await answer(put('mode/b', 'v1'))).toBe('ok');
});

test('a store can answer 403 for a missing key, as S3 does for a role without s3:ListBucket', async () => {
  await put('denied/there', 'x');
  s3.setMissingKeys('access-denied');
  const get = (key: string) => client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const head = (key: string) => client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  expect(await answer(get('denied/missing'))).toBe('403 AccessDenied');
  expect(await answer(head('denied/missing'))).toMatch(/^403 /);
  expect(await answer(get('denied/there').then((r) => r.Body?.transformToString()))).toBe('ok');
  s3.setMissingKeys('not-found');
  expect(await answer(get('denied/missing'))).toBe('404 NoSuchKey');
});
