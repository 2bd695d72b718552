import { PgferryError } from '../errors.js';
import { latestKey, manifestKey, TIER_TAG } from '../storage/backup-layout.js';
import { ConditionalWriteRefused, CREATE_ONLY, WriteConflictError } from '../storage/conditional-write.js';
import { movePointer, type PointerMove } from '../storage/latest-pointer.js';
import {
  MANIFEST_SCHEMA,
  type Manifest,
  type ObjectManifest,
  type Verification,
} from '../storage/manifest.js';
import type { ProofKind } from '../storage/store-proof.js';
import type { BackupOptions } from './backup.js';

/** A backup's messages name its destination as the user did. */
const INPUT = 'to';

/** A passed backup moves latest.json (if it started later than the one named there); a failed one throws. */
export async function moveLatestIfPassed(
  o: BackupOptions,
  manifest: Manifest,
  manifestUri: string,
): Promise<PointerMove> {
  const { verification } = manifest;
  if (verification.result !== 'passed') {
    throw new PgferryError(
      `backup of ${manifest.database} failed verification (${verification.method}): ${verification.detail ?? 'no detail'}; ${UNTOUCHED} (manifest: ${manifestUri})`,
    );
  }
  return movePointer({
    bucket: o.bucket,
    key: latestKey(o.prefix, manifest.database),
    pointer: {
      schemaVersion: MANIFEST_SCHEMA,
      database: manifest.database,
      key: manifest.key,
      manifest: manifestKey(manifest.key),
      sha256: manifest.sha256,
      bytes: manifest.bytes,
      startedAt: manifest.startedAt,
      finishedAt: manifest.finishedAt,
    },
    input: INPUT,
    log: o.log,
    signal: o.signal,
  });
}

export const UNTOUCHED = 'latest.json was not moved';

/** What every pg_dump of a backup is given, one object or each part of a sharded one. */
export function backupDumpSettings(o: BackupOptions, at: { tier: string }) {
  return {
    bucket: o.bucket,
    input: 'to',
    compress: o.compress,
    postgresVersion: o.postgresVersion,
    statistics: o.statistics ?? ('when-supported' as const),
    noPolicies: o.noPolicies,
    sequenceData: o.sequenceData,
    tags: { [TIER_TAG]: at.tier },
    createOnly: true,
    catalog: o.catalog,
    log: o.log,
    signal: o.signal,
    onProgress: o.onProgress,
    progressIntervalMs: o.progressIntervalMs,
  };
}

/** Where this backup goes: its own key, its tier, and when it started. */
export interface BackupAt {
  key: string;
  tier: string;
  startedAt: Date;
  /** The database's size as the server told it when the backup started. */
  databaseBytes: number;
}

/** The manifest, create-only beside the dump, whatever the verification said. */
export async function writeManifest(
  o: BackupOptions,
  base: ObjectManifest,
  at: BackupAt,
  verification: Verification,
  proof: ProofKind,
): Promise<{ manifest: Manifest; manifestUri: string }> {
  const finishedAt = (o.now ?? (() => new Date()))();
  const manifest: Manifest = {
    ...base,
    tier: at.tier,
    proof,
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.max(0, (finishedAt.getTime() - at.startedAt.getTime()) / 1000),
    verification,
    // What the next run's prediction learns from: size, duration, and what was predicted.
    databaseBytes: at.databaseBytes,
    ...(o.estimateSeconds === undefined ? {} : { estimateSeconds: o.estimateSeconds }),
  };
  const key = manifestKey(at.key);
  await o.bucket
    .putJson(key, manifest, INPUT, { tags: { [TIER_TAG]: at.tier }, condition: CREATE_ONLY })
    .catch((error: unknown) => {
      throw withContext(error, `the manifest of ${o.bucket.uri(at.key)} was not written; ${UNTOUCHED}`);
    });
  return { manifest, manifestUri: o.bucket.uri(key) };
}

/**
 * A refused conditional write, its message prefixed with what it means for this backup; any other
 * error unchanged (front ends and the deadline handling look at those as they are).
 */
export function withContext(error: unknown, context: string): unknown {
  if (error instanceof WriteConflictError)
    return new WriteConflictError(`${context}: ${error.message}`, { cause: error });
  if (error instanceof ConditionalWriteRefused)
    return new ConditionalWriteRefused(`${context}: ${error.message}`, { cause: error });
  return error;
}
