import { createHash, randomBytes } from 'node:crypto';
import { multipartEtag, proveStored, StoreProof } from '../../core/storage/store-proof.js';

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

/** Feeds `data` in uneven chunks, so part boundaries fall inside chunks and between them. */
async function streamed(data: Buffer, partSize: number, mode: 'crc64nvme' | 'md5') {
  const proof = new StoreProof(partSize, mode);
  const sizes = [1, 7, 64, 3, 100, 33];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    proof.update(data.subarray(at, at + n));
    at += n;
  }
  return proof.digests();
}

describe('store proof: digests computed while streaming', () => {
  it('computes the CRC-64/NVME of the standard check input as S3 encodes it', async () => {
    const d = await streamed(Buffer.from('123456789'), 8, 'crc64nvme');
    // The catalogued check value of CRC-64/NVME is 0xae8b14860a799888.
    expect(Buffer.from(d.crc64nvme ?? '', 'base64').toString('hex')).toBe('ae8b14860a799888');
    expect(d.md5).toBeUndefined();
  });

  it('cuts parts exactly where the multipart upload does (the last part holds the rest)', async () => {
    const data = randomBytes(1000);
    const d = await streamed(data, 300, 'md5');
    expect(d.partMd5s).toEqual([0, 300, 600, 900].map((s) => md5(data.subarray(s, s + 300))));
    expect(d.md5).toBe(md5(data));
    // A length that is a multiple of the part size ends in a full part, never an empty one.
    const even = await streamed(data.subarray(0, 600), 300, 'md5');
    expect(even.partMd5s).toHaveLength(2);
    expect((await streamed(Buffer.alloc(0), 300, 'md5')).partMd5s).toEqual([md5(Buffer.alloc(0))]);
  });

  it('builds the multipart ETag from the binary part MD5s', () => {
    const parts = [Buffer.from('a'), Buffer.from('b')].map(md5);
    const joined = Buffer.concat(parts.map((p) => Buffer.from(p, 'hex')));
    expect(multipartEtag(parts)).toBe(`${md5(joined)}-2`);
  });
});

describe('store proof: comparing with what the store attests', () => {
  const data = randomBytes(1000);

  it('passes each kind of attestation that matches', async () => {
    const m = await streamed(data, 300, 'md5');
    const c = await streamed(data, 300, 'crc64nvme');
    expect(proveStored(c, { crc64nvme: c.crc64nvme, bytes: 1000 })).toEqual({ kind: 'crc64nvme' });
    expect(proveStored(m, { etag: `"${multipartEtag(m.partMd5s ?? [])}"` })).toEqual({
      kind: 'multipart-etag',
    });
    expect(proveStored(m, { etag: `"${m.md5 ?? ''}"`, bytes: 1000 })).toEqual({ kind: 'md5-etag' });
  });

  it('falls back to a read-back only when the store attests nothing pgferry can compute', async () => {
    const m = await streamed(data, 300, 'md5');
    expect(proveStored(m, {})).toEqual({ kind: 'read-back' });
    expect(proveStored(m, { etag: '"opaque-value"' })).toEqual({ kind: 'read-back' });
    // A CRC the store gives but pgferry did not compute is no proof either.
    expect(proveStored(m, { crc64nvme: 'AAAAAAAAAAA=' }).kind).toBe('read-back');
  });

  it('fails a forged or stale checksum or ETag instead of falling back', async () => {
    const m = await streamed(data, 300, 'md5');
    const c = await streamed(data, 300, 'crc64nvme');
    const forgedMd5 = md5(Buffer.from('other bytes'));
    expect(proveStored(m, { etag: `"${forgedMd5}"` }).problem).toMatch(/ETag is [0-9a-f]{32}, the stream's/);
    expect(proveStored(m, { etag: `"${forgedMd5}-4"` }).problem).toContain(`${forgedMd5}-4`);
    expect(proveStored(c, { crc64nvme: 'AAAAAAAAAAA=' }).problem).toMatch(/CRC64NVME is AAAAAAAAAAA=/);
    // The right ETag on an object of another size (truncated) fails on the size.
    expect(proveStored(m, { etag: `"${m.md5 ?? ''}"`, bytes: 999 }).problem).toBe(
      'the store holds 999 bytes, 1000 were streamed',
    );
  });
});
