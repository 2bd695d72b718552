import { readArchiveFactsFromBuffer, type ArchiveFacts } from '../pg/archive.js';
import type { ClientTools } from '../pg/clients/tools.js';
import { resolveCompression, type CompressionSpec } from '../pg/compression.js';
import { describeConnection, type ConnectionSpec } from '../pg/connection.js';
import { chooseDumpClient, type ClientChoice } from '../pg/policy.js';
import { pipelineAbort, settlePipeline } from '../pg/run.js';
import { serverFacts, type ServerFacts } from '../pg/server.js';
import { formatVersion, type VersionRequest } from '../pg/version.js';
import { HashMeter } from '../storage/hash-meter.js';
import { MANIFEST_SCHEMA, type ObjectManifest } from '../storage/manifest.js';
import type { S3Bucket } from '../storage/s3-bucket.js';
import {
  proveStored,
  StoreProof,
  type Attestation,
  type StoreProofResult,
  type StreamedDigests,
} from '../storage/store-proof.js';
import { dumpProgressTotal, streamCustomDump, type DumpSelection } from './dump-selection.js';
import type { JobHooks } from './job-hooks.js';

export interface DumpToS3Options extends DumpSelection, JobHooks {
  from: ConnectionSpec;
  bucket: S3Bucket;
  key: string;
  /** The input the destination came from, for messages (`to`). */
  input: string;
  compress: CompressionSpec | 'auto';
  postgresVersion: VersionRequest;
  tags?: Record<string, string>;
  /** Never replace an object at the key (`If-None-Match: *`); backups always ask for it. */
  createOnly?: boolean;
  /** Already known (backup checks the server first). */
  server?: ServerFacts;
  /** What the object may grow to, for its part size; default the database's size. */
  expectedBytes?: number;
  /** Of the upload's parts, how many may be in flight at once (UploadOptions.partsInFlight). */
  partsInFlight?: number;
}

export interface DumpToS3Result {
  bytes: number;
  sha256: string;
  server: ServerFacts;
  client: ClientTools;
  choice: ClientChoice;
  compression: CompressionSpec;
  archive: ArchiveFacts;
  partSize: number;
  /** What was computed of the stream for the store proof, and what the store answered on upload. */
  digests: StreamedDigests;
  stored: Attestation;
  /** The upload's answer compared with the stream (a backup checks the stored object again). */
  proof: StoreProofResult;
  startedAt: Date;
  finishedAt: Date;
  durationSeconds: number;
}

/** `zstd:1`, `gzip:1`, `none`: as the manifest records it. */
export function compressionLabel(c: CompressionSpec): string {
  return c.level === undefined ? c.algorithm : `${c.algorithm}:${c.level}`;
}

/** The manifest fields every streamed dump has; a backup adds its tier and verification. */
export function manifestOf(
  d: DumpToS3Result,
  bucket: S3Bucket,
  key: string,
  startedAt: Date = d.startedAt,
): ObjectManifest {
  return {
    schemaVersion: MANIFEST_SCHEMA,
    database: d.server.database,
    bucket: bucket.name,
    key,
    bytes: d.bytes,
    sha256: d.sha256,
    format: 'custom',
    compression: compressionLabel(d.compression),
    archiveVersion: d.archive.archiveVersion,
    serverVersion: d.server.versionText,
    clientVersion: formatVersion(d.client.version),
    startedAt: startedAt.toISOString(),
    finishedAt: d.finishedAt.toISOString(),
    durationSeconds: Math.max(0, (d.finishedAt.getTime() - startedAt.getTime()) / 1000),
    tocEntries: d.archive.tocEntries,
    proof: d.proof.kind,
  };
}

/**
 * A dump streaming into its gated upload: `ready` settles when pg_dump exited 0 and its output
 * ended (nothing is stored yet), `commit()` then completes the upload and proves it, `abort()` stops
 * pg_dump and cancels the upload. A failure before commit aborts the upload by itself.
 */
export interface StartedDumpToS3 {
  readonly ready: Promise<void>;
  commit(): Promise<DumpToS3Result>;
  abort(reason: unknown): Promise<void>;
}

/**
 * pg_dump (custom format) streamed into a multipart upload. The upload completes only after pg_dump
 * exited 0 and its output ended; any failure — pg_dump's, the store's, a cancellation — aborts it,
 * so no object ever appears at the key for a failed dump.
 */
export async function dumpToS3(o: DumpToS3Options): Promise<DumpToS3Result> {
  const started = await startDumpToS3(o);
  await started.ready;
  return started.commit();
}

/** The dump and its upload started, held at the gate until commit() (a sharded backup commits all parts together). */
export async function startDumpToS3(o: DumpToS3Options): Promise<StartedDumpToS3> {
  const startedAt = new Date();
  const server = o.server ?? (await serverFacts(o.from, 'from'));
  const choice = await chooseDumpClient(server.version, o.postgresVersion, o.catalog);
  const client = await o.catalog.provideChosen(choice, o.log);
  const compression = resolveCompression(o.compress, client.version.major, 'custom');
  const uri = o.bucket.uri(o.key);
  o.log.info(
    `pg_dump ${formatVersion(client.version)} of ${describeConnection(o.from)} → ${uri} (${choice.reason})`,
  );

  const upload = o.bucket.upload(o.key, o.input, {
    expectedBytes: o.expectedBytes ?? server.sizeBytes,
    tags: o.tags,
    createOnly: o.createOnly,
    ...(o.partsInFlight !== undefined ? { partsInFlight: o.partsInFlight } : {}),
  });
  const storeProof = new StoreProof(upload.partSize, o.bucket.proofMode());
  const meter = new HashMeter(64 * 1024, storeProof);
  meter.pipe(upload.body);
  const { controller, signal } = pipelineAbort(o.signal);
  const dump = streamCustomDump({
    client,
    from: o.from,
    selection: o,
    compression,
    stdout: meter,
    signal,
    onProgress: o.onProgress,
    progressIntervalMs: o.progressIntervalMs,
    total: await dumpProgressTotal(o.from, o, compression, o.onProgress),
  });
  const settled = dump.then(
    () => undefined,
    () => undefined,
  );
  const ready = settlePipeline(controller, [dump, Promise.race([upload.failure(), settled])] as const).then(
    () => undefined,
    async (error: unknown) => {
      await upload.abort(error);
      throw error;
    },
  );
  ready.catch(() => {}); // reported through ready and commit()
  return {
    ready,
    abort: async (reason: unknown) => {
      controller.abort(reason);
      await ready.catch(() => {});
      await upload.abort(reason);
    },
    commit: async () => {
      await ready;
      let stored: Attestation;
      try {
        stored = await upload.commit();
      } catch (error) {
        await upload.abort(error);
        throw error;
      }
      const digests = await storeProof.digests();
      return {
        digests,
        stored,
        proof: proveStored(digests, o.bucket.attested(stored)),
        bytes: meter.bytes,
        sha256: meter.digest(),
        server,
        client,
        choice,
        compression,
        archive: readArchiveFactsFromBuffer(meter.head, { name: uri }),
        partSize: upload.partSize,
        startedAt,
        finishedAt: new Date(),
        durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
      };
    },
  };
}
