import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { startS3, type S3TestServer } from '../harness/s3.js';

const MIB = 1024 * 1024;
const BUCKET = 'pgferry-harness';

let s3: S3TestServer;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
});

afterAll(async () => {
  await s3?.close();
});

/**
 * A stream of random chunks of uneven sizes and no declared length. It fails with `failWith` once
 * `bytes` have been produced, if given; otherwise it ends there.
 */
function randomBody(bytes: number, failWith?: Error): { body: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  async function* chunks(): AsyncGenerator<Buffer> {
    let sent = 0;
    while (sent < bytes) {
      const chunk = randomBytes(Math.min(bytes - sent, randomInt(16 * 1024, 700 * 1024)));
      hash.update(chunk);
      sent += chunk.length;
      yield chunk;
      await new Promise((r) => setImmediate(r));
    }
    if (failWith) throw failWith;
  }
  return { body: Readable.from(chunks()), sha256: () => hash.digest('hex') };
}

/** Size and SHA-256 of an object, read as a stream. */
async function objectDigest(key: string): Promise<{ size: number; sha256: string; contentLength?: number }> {
  const object = await s3.client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of object.Body as Readable) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex'), contentLength: object.ContentLength };
}

async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a failure, got success');
}

test('a streamed 12 MiB multipart upload with a tag reads back byte for byte, tag included', async () => {
  const { body, sha256 } = randomBody(12 * MIB);
  const upload = new Upload({
    client: s3.client(),
    params: { Bucket: BUCKET, Key: 'dumps/big.dump', Body: body, ContentType: 'application/octet-stream' },
    tags: [{ Key: 'pgferry-tier', Value: 'daily' }],
    partSize: 5 * MIB,
    queueSize: 2,
  });
  const parts = new Set<number | undefined>();
  upload.on('httpUploadProgress', (progress) => parts.add(progress.part));
  await upload.done();

  expect([...parts].sort()).toEqual([1, 2, 3]); // 5 + 5 + 2 MiB: a real multipart upload
  const read = await objectDigest('dumps/big.dump');
  expect(read).toEqual({ size: 12 * MIB, sha256: sha256(), contentLength: 12 * MIB });
  const tagging = await s3
    .client()
    .send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'dumps/big.dump' }));
  expect(tagging.TagSet).toEqual([{ Key: 'pgferry-tier', Value: 'daily' }]);
  expect(await s3.keys(BUCKET, 'dumps/')).toEqual(['dumps/big.dump']);
});

test('PutObject of a string, a buffer and a stream stores exactly those bytes', async () => {
  const client = s3.client();
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'put/text', Body: '{"a":1}' }));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'put/buffer', Body: Buffer.from('buffer') }));
  // A stream body is where the SDK's default aws-chunked checksums would corrupt the object.
  await client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'put/stream',
      Body: Readable.from([Buffer.from('str'), Buffer.from('eam')]),
      ContentLength: 6,
    }),
  );
  expect(await s3.getText(BUCKET, 'put/text')).toBe('{"a":1}');
  expect(await s3.getText(BUCKET, 'put/buffer')).toBe('buffer');
  expect(await s3.getText(BUCKET, 'put/stream')).toBe('stream');
});

test('listings are paginated and keys() follows every page', async () => {
  const client = s3.client();
  const names = ['list/a', 'list/b', 'list/c/d', 'list/e', 'list/f'];
  for (const key of names) await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));

  const pages: string[][] = [];
  for await (const page of paginateListObjectsV2(
    { client, pageSize: 2 },
    { Bucket: BUCKET, Prefix: 'list/' },
  )) {
    pages.push((page.Contents ?? []).map((o) => o.Key ?? ''));
  }
  expect(pages.length).toBe(3);
  expect(pages.flat().sort()).toEqual(names);
  expect(await s3.keys(BUCKET, 'list/')).toEqual(names);
});

test('an upload whose body fails midway leaves no object at the key', async () => {
  const key = 'dumps/broken.dump';
  const { body } = randomBody(7 * MIB, new Error('pg_dump died'));
  const upload = new Upload({
    client: s3.client(),
    params: { Bucket: BUCKET, Key: key, Body: body },
    partSize: 5 * MIB,
  });
  const parts = new Set<number | undefined>();
  upload.on('httpUploadProgress', (progress) => parts.add(progress.part));

  await expect(upload.done()).rejects.toBeInstanceOf(Error);
  expect(parts).toContain(1); // a part was stored before the body failed
  expect(await s3.getText(BUCKET, key)).toBeUndefined();
  expect(await s3.keys(BUCKET, 'dumps/broken')).toEqual([]);
});

test('upload.abort() rejects done() with AbortError and no object appears', async () => {
  const key = 'dumps/aborted.dump';
  let produced = 0;
  // Endless: only abort() ends this upload.
  const body = new Readable({
    read() {
      produced += MIB;
      this.push(randomBytes(MIB));
    },
  });
  const upload = new Upload({
    client: s3.client(),
    params: { Bucket: BUCKET, Key: key, Body: body },
    partSize: 5 * MIB,
  });
  upload.on('httpUploadProgress', (progress) => {
    if (progress.part === 1) void upload.abort();
  });

  const error = await failure(upload.done());
  expect(error.name).toBe('AbortError');
  expect(produced).toBeGreaterThanOrEqual(5 * MIB);
  body.destroy();
  // The uploaders still in flight finish in the background; none of them completes the upload.
  await new Promise((r) => setTimeout(r, 500));
  expect(await s3.getText(BUCKET, key)).toBeUndefined();
});

test('stop() refuses connections, start() serves the same objects on the same endpoint', async () => {
  await s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept/latest.json', Body: '{"v":1}' }));
  const endpoint = s3.endpoint;

  await s3.stop();
  const refused = await failure(s3.client().send(new ListObjectsV2Command({ Bucket: BUCKET })));
  // Plain Node gives an Error with code 'ECONNREFUSED'. Under Jest the socket error comes from
  // another realm than the SDK's `Error`, so the SDK wraps it and only the message survives.
  expect(refused.message).toMatch(/ECONNREFUSED/);

  await s3.start();
  expect(s3.endpoint).toBe(endpoint);
  expect(await s3.getText(BUCKET, 'kept/latest.json')).toBe('{"v":1}');
  expect(await s3.keys(BUCKET, 'dumps/')).toEqual(['dumps/big.dump']);
  expect((await objectDigest('dumps/big.dump')).size).toBe(12 * MIB);
});

test('a missing key: GetObject raises NoSuchKey, HeadObject NotFound, getText() gives undefined', async () => {
  const client = s3.client();
  const get = await failure(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'nothing/here' })));
  expect(get.name).toBe('NoSuchKey');
  expect(get.$metadata).toMatchObject({ httpStatusCode: 404 });
  // HEAD responses have no body: the SDK knows only the status.
  const head = await failure(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'nothing/here' })));
  expect(head.name).toBe('NotFound');
  expect(head.$metadata).toMatchObject({ httpStatusCode: 404 });
  expect(await s3.getText(BUCKET, 'nothing/here')).toBeUndefined();
});

test('a missing bucket raises NoSuchBucket for reads, writes and listings', async () => {
  const client = s3.client();
  const calls = [
    () => client.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })),
    () => client.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: 'x' })),
    () => client.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })),
    () =>
      new Upload({
        client,
        params: { Bucket: 'no-such-bucket', Key: 'k', Body: Readable.from(['x']) },
      }).done(),
  ];
  for (const call of calls) {
    const error = await failure(call());
    expect(error.name).toBe('NoSuchBucket');
    expect(error.Code).toBe('NoSuchBucket');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 404 });
  }
});

test('an unknown access key id is refused with InvalidAccessKeyId', async () => {
  const client = s3.client({ accessKeyId: 'AKIAUNKNOWN' });
  const error = await failure(client.send(new ListObjectsV2Command({ Bucket: BUCKET })));
  expect(error.name).toBe('InvalidAccessKeyId');
  expect(error.$metadata).toMatchObject({ httpStatusCode: 403 });
  // A wrong *secret* is not checked by s3rver (it never verifies SigV4 signatures): nothing to assert.
});

/**
 * Where s3rver differs from S3. Tests of pgferry must not depend on these; they are pinned here so
 * that a change of server (or of s3rver) shows which ones still hold.
 */
describe('s3rver, unlike S3', () => {
  test('answers AbortMultipartUpload with 405 MethodNotAllowed', async () => {
    const client = s3.client();
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'quirk/mpu' }),
    );
    const error = await failure(
      client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'quirk/mpu', UploadId })),
    );
    expect(error.name).toBe('MethodNotAllowed');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 405 });
  });

  test("so lib-storage reports the failed abort, not the body's error, unless parts are left", async () => {
    const attempt = async (leavePartsOnError: boolean): Promise<Error> => {
      const { body } = randomBody(7 * MIB, new Error('pg_dump died'));
      const upload = new Upload({
        client: s3.client(),
        params: { Bucket: BUCKET, Key: `quirk/failed-${leavePartsOnError}`, Body: body },
        partSize: 5 * MIB,
        leavePartsOnError,
      });
      return failure(upload.done());
    };
    expect((await attempt(false)).name).toBe('MethodNotAllowed');
    expect((await attempt(true)).message).toBe('pg_dump died');
  });

  test('ignores the Tagging parameter (x-amz-tagging); only the `tags` option (PutObjectTagging) tags', async () => {
    const upload = new Upload({
      client: s3.client(),
      params: { Bucket: BUCKET, Key: 'quirk/tagging', Body: 'x', Tagging: 'pgferry-tier=daily' },
    });
    await upload.done();
    const tagging = await s3
      .client()
      .send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'quirk/tagging' }));
    expect(tagging.TagSet).toEqual([]);
  });

  test("keeps a key's old tags when the object is overwritten or deleted", async () => {
    const client = s3.client();
    const key = 'quirk/retagged';
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'old' }));
    await client.send(
      new PutObjectTaggingCommand({
        Bucket: BUCKET,
        Key: key,
        Tagging: { TagSet: [{ Key: 'pgferry-tier', Value: 'daily' }] },
      }),
    );
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'new' }));
    const tagging = await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }));
    expect(tagging.TagSet).toEqual([{ Key: 'pgferry-tier', Value: 'daily' }]); // S3: []
  });

  test('shows a truncated object when a PutObject is cut off', async () => {
    const key = 'quirk/cut-put';
    let pushed = 0;
    // 3 MiB of the 10 MiB announced, then nothing more until the server goes away.
    const body = new Readable({
      read() {
        if (pushed < 3 * MIB) {
          pushed += MIB;
          this.push(randomBytes(MIB));
        }
      },
    });
    const put = failure(
      s3
        .client()
        .send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentLength: 10 * MIB })),
    );
    // The object is visible while its body is still arriving.
    const probe = s3.client();
    for (let i = 0; ; i++) {
      const head = await probe
        .send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))
        .catch(() => undefined);
      if (head) break;
      if (i > 200) throw new Error('the partial object never appeared');
      await new Promise((r) => setTimeout(r, 50));
    }
    await s3.stop();
    await put;
    body.destroy();
    await s3.start();

    const head = await s3.client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentLength).toBeLessThan(10 * MIB);
  });
});
