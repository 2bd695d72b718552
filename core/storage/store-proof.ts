import { Crc64Nvme } from '@aws-sdk/checksums/crc';
import { createHash, type Hash } from 'node:crypto';

/**
 * How a backup proves that the stored object holds the bytes pgferry streamed, strongest first:
 * - `crc64nvme`: AWS S3's full-object CRC-64/NVME checksum, asked for on upload;
 * - `multipart-etag`: an ETag `md5(concat(part MD5s))-N`, as S3 and most compatible stores make;
 * - `md5-etag`: an ETag that is the object's MD5 (a single-part upload; some stores always);
 * - `read-back`: the store attests nothing pgferry can compute, so the object is read back whole.
 */
export type ProofKind = 'crc64nvme' | 'multipart-etag' | 'md5-etag' | 'read-back';

/** What pgferry computed of the bytes as they streamed to the store. */
export interface StreamedDigests {
  bytes: number;
  /** Base64 of the big-endian CRC, as S3 writes `ChecksumCRC64NVME`; only when it was asked for. */
  crc64nvme?: string;
  /** Hex MD5 of the whole object (stores with an MD5 ETag only). */
  md5?: string;
  /** Hex MD5 of each multipart part, in order (stores with an MD5 ETag only). */
  partMd5s?: string[];
}

/** What the store says of the object it holds (from the upload's answer or a HEAD). */
export interface Attestation {
  etag?: string;
  crc64nvme?: string;
  bytes?: number;
  /** The ETag is no MD5 of the bytes (SSE-KMS on AWS): it names the version but proves nothing. */
  etagNotMd5?: boolean;
}

export interface StoreProofResult {
  kind: ProofKind;
  /** Why the stored object is not the streamed one; undefined when the proof holds. */
  problem?: string;
}

/**
 * Digests computed while the dump streams, split at the same part boundaries as the multipart
 * upload (lib-storage cuts exactly every `partSize` bytes; the last part holds the rest). On AWS
 * only the CRC is computed (S3 returns it for every object asked for it); elsewhere the MD5s.
 */
export class StoreProof {
  private readonly crc: Crc64Nvme | undefined;
  private readonly whole: Hash | undefined;
  private part: Hash | undefined;
  private inPart = 0;
  private readonly parts: string[] = [];
  bytes = 0;

  constructor(
    private readonly partSize: number,
    mode: 'crc64nvme' | 'md5',
  ) {
    this.crc = mode === 'crc64nvme' ? new Crc64Nvme() : undefined;
    this.whole = mode === 'md5' ? createHash('md5') : undefined;
    this.part = mode === 'md5' ? createHash('md5') : undefined;
  }

  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.crc?.update(chunk);
    if (!this.whole) return;
    this.whole.update(chunk);
    let rest = chunk;
    while (this.inPart + rest.length > this.partSize) {
      const take = this.partSize - this.inPart;
      this.part?.update(rest.subarray(0, take));
      this.parts.push(this.part?.digest('hex') ?? '');
      this.part = createHash('md5');
      this.inPart = 0;
      rest = rest.subarray(take);
    }
    this.part?.update(rest);
    this.inPart += rest.length;
  }

  /** Only once every byte went through update(). */
  async digests(): Promise<StreamedDigests> {
    const crc = this.crc ? Buffer.from(await this.crc.digest()).toString('base64') : undefined;
    if (!this.whole) return { bytes: this.bytes, crc64nvme: crc };
    const partMd5s = [...this.parts, this.part?.digest('hex') ?? ''];
    return { bytes: this.bytes, md5: this.whole.digest('hex'), partMd5s };
  }
}

/** The ETag S3 gives a multipart upload of these parts: MD5 of the parts' binary MD5s, `-N`. */
export function multipartEtag(partMd5s: readonly string[]): string {
  const md5 = createHash('md5');
  for (const part of partMd5s) md5.update(Buffer.from(part, 'hex'));
  return `${md5.digest('hex')}-${partMd5s.length}`;
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
}

/**
 * Compares what the store attests with what was streamed. A checksum or ETag that is there but
 * differs is a failed proof, never a fallback: a forged or stale value does not pass.
 */
export function proveStored(streamed: StreamedDigests, store: Attestation): StoreProofResult {
  const result = (kind: ProofKind, problem?: string): StoreProofResult =>
    problem ? { kind, problem } : { kind };
  if (store.bytes !== undefined && store.bytes !== streamed.bytes) {
    const kind = store.crc64nvme
      ? 'crc64nvme'
      : store.etag && !store.etagNotMd5
        ? etagKind(store.etag)
        : 'read-back';
    return result(kind, `the store holds ${store.bytes} bytes, ${streamed.bytes} were streamed`);
  }
  if (store.crc64nvme && streamed.crc64nvme) {
    const same = store.crc64nvme === streamed.crc64nvme;
    return result(
      'crc64nvme',
      same ? undefined : `the store's CRC64NVME is ${store.crc64nvme}, the stream's ${streamed.crc64nvme}`,
    );
  }
  const etag = store.etag === undefined || store.etagNotMd5 ? undefined : unquote(store.etag);
  if (etag === undefined || !streamed.partMd5s || !streamed.md5) return result('read-back');
  const kind = etagKind(etag);
  if (kind === 'read-back') return result(kind);
  const expected = kind === 'md5-etag' ? streamed.md5 : multipartEtag(streamed.partMd5s);
  return result(
    kind,
    etag === expected ? undefined : `the store's ETag is ${etag}, the stream's ${expected}`,
  );
}

/** Which proof an ETag can give: an MD5, an MD5 of part MD5s, or none (e.g. SSE-KMS on AWS). */
function etagKind(etag: string): ProofKind {
  const e = unquote(etag);
  if (/^[0-9a-f]{32}$/.test(e)) return 'md5-etag';
  if (/^[0-9a-f]{32}-\d+$/.test(e)) return 'multipart-etag';
  return 'read-back';
}
