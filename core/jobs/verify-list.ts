import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { PgferryError } from '../errors.js';
import { toolPath, type ClientTools } from '../pg/clients/tools.js';
import { runTool } from '../pg/run.js';
import { HashMeter } from '../storage/hash-meter.js';
import { readArchiveFront } from './archive-front.js';
import type { Verification } from '../storage/manifest.js';
import type { S3Bucket } from '../storage/s3-bucket.js';
import {
  proveStored,
  type Attestation,
  type ProofKind,
  type StreamedDigests,
} from '../storage/store-proof.js';

/** What the upload knew of the object it streamed, to check the stored one against. */
export interface StreamedObject {
  key: string;
  sha256: string;
  bytes: number;
  database: string;
  /** The TOC entry count in the streamed header. */
  tocEntries?: number;
  digests: StreamedDigests;
  /** What the store answered when the upload completed. */
  stored: Attestation;
}

export interface ListVerifyOptions {
  bucket: S3Bucket;
  /** The input the destination came from, for messages. */
  input: string;
  client: ClientTools;
  /** `list`: the store's proof and the TOC; `full`: every byte read back and hashed too. */
  method: 'list' | 'full';
  signal?: AbortSignal;
}

export interface ListVerifyResult {
  verification: Verification;
  /** How the stored bytes were proven to be the streamed ones. */
  proof: ProofKind;
}

/**
 * `verify: list` and `verify: full`. First the store's own attestation of the object as it is now
 * (size, ETag, CRC64NVME on AWS), compared with what was computed while streaming: a tampered,
 * replaced or truncated object fails here, without reading it. Then `pg_restore --list` of it.
 */
export async function verifyByList(o: ListVerifyOptions, object: StreamedObject): Promise<ListVerifyResult> {
  const now = await o.bucket.attestation(object.key, o.input);
  const proof = proveStored(object.digests, now);
  const changed =
    object.stored.etag !== undefined && now.etag !== undefined && now.etag !== object.stored.etag
      ? `the object's ETag is ${now.etag}, the upload's was ${object.stored.etag}`
      : undefined;
  const problem = proof.problem ?? changed;
  if (problem) {
    return {
      proof: proof.kind,
      verification: { method: o.method, result: 'failed', bytesReadBack: 0, detail: problem },
    };
  }
  if (o.method === 'full' || proof.kind === 'read-back' || now.etag === undefined)
    return { proof: 'read-back', verification: await listWhole(o, object) };
  return { proof: proof.kind, verification: await listFront(o, object, now.etag) };
}

/** `pg_restore --list` of the object's front only; the store's proof vouches for the rest. */
async function listFront(o: ListVerifyOptions, object: StreamedObject, etag: string): Promise<Verification> {
  const front = (await readArchiveFront(o.bucket, { ...object, input: o.input }, etag))?.front;
  if (!front) {
    return {
      method: 'list',
      result: 'failed',
      bytesReadBack: object.bytes,
      detail: `${o.bucket.uri(object.key)} ends inside its table of contents`,
    };
  }
  const { stdout } = await runTool({
    file: toolPath(o.client, 'pg_restore'),
    args: ['--list'],
    stdin: Readable.from([front]),
    stdout: 'capture',
    signal: o.signal,
  }).catch((error: unknown) => {
    throw new PgferryError(
      `${o.input}: pg_restore --list could not read the table of contents of ${o.bucket.uri(object.key)} (${front.length} bytes read back): ${(error as Error).message}`,
      { cause: error },
    );
  });
  const { problems, listed, tables } = listingProblems(stdout, object);
  return {
    method: 'list',
    result: problems.length ? 'failed' : 'passed',
    tocEntries: listed,
    tables,
    bytesReadBack: front.length,
    ...(problems.length ? { detail: problems.join('; ') } : {}),
  };
}

/** The header lines of `pg_restore --list` that say which archive it read. */
function listingHeader(listing: string): { tocEntries?: number; dbname?: string; format?: string } {
  const field = (name: string): string | undefined =>
    new RegExp(`^;\\s+${name}:\\s*(.*?)\\s*$`, 'm').exec(listing)?.[1];
  const toc = field('TOC Entries');
  return {
    tocEntries: toc === undefined ? undefined : Number(toc),
    dbname: field('dbname'),
    format: field('Format'),
  };
}

/**
 * What a listing must show to describe the archive that was streamed: its own header names the same
 * TOC entry count and database, and it lists no more entries than that. (An empty database's archive
 * holds only the few header entries — encoding, search_path … — that a listing never prints, so a
 * count of listed entries is no proof of anything.)
 */
export function listingProblems(
  listing: string,
  object: StreamedObject,
): { problems: string[]; listed: number; tables: number } {
  const lines = listing.split('\n');
  const listed = lines.filter((l) => /^\d+;/.test(l)).length;
  // A table's entry is pg_class's (catalog oid 1259); its data, a TABLE DATA entry, has catalog 0.
  const tables = lines.filter((l) => /^\d+; 1259 \d+ TABLE /.test(l)).length;
  const header = listingHeader(listing);
  const { tocEntries, database } = object;
  const problems = [
    header.format !== 'CUSTOM' &&
      `pg_restore --list shows format ${header.format ?? 'nothing'}, expected CUSTOM`,
    header.dbname !== database &&
      `pg_restore --list names database ${header.dbname ?? 'nothing'}, expected ${database}`,
    (tocEntries === undefined || header.tocEntries !== tocEntries) &&
      `pg_restore --list counts ${header.tocEntries ?? 'no'} TOC entries, the streamed header ${tocEntries ?? 'none'}`,
    tocEntries !== undefined &&
      listed > tocEntries &&
      `pg_restore listed ${listed} entries, more than the ${tocEntries} the header holds`,
  ].filter((p): p is string => typeof p === 'string');
  return { problems, listed, tables };
}

/** The whole object read back: its SHA-256 and a `pg_restore --list` of it. */
async function listWhole(o: ListVerifyOptions, object: StreamedObject): Promise<Verification> {
  const { body } = await o.bucket.open(object.key, o.input, o.signal);
  const meter = new HashMeter();
  const { stdout } = await runTool({
    file: toolPath(o.client, 'pg_restore'),
    args: ['--list'],
    stdin: body.pipe(meter),
    stdout: 'capture',
    signal: o.signal,
  });
  // pg_restore stops after the table of contents; the rest of the object still runs through the hash.
  await finished(meter);
  const readBack = meter.digest();
  const { problems, listed, tables } = listingProblems(stdout, object);
  if (readBack !== object.sha256)
    problems.unshift(`the stored object's SHA-256 is ${readBack}, the upload's was ${object.sha256}`);
  return {
    method: o.method,
    result: problems.length ? 'failed' : 'passed',
    tocEntries: listed,
    tables,
    bytesReadBack: meter.bytes,
    ...(problems.length ? { detail: problems.join('; ') } : {}),
  };
}
