import type { Logger } from '../log.js';
import type { ConnectionSpec } from '../pg/connection.js';
import { serverFacts } from '../pg/server.js';
import { awsSdk } from '../storage/aws-sdk.js';
import { databaseDir, isManifestKey } from '../storage/backup-layout.js';
import type { ObjectManifest } from '../storage/manifest.js';
import type { S3Bucket } from '../storage/s3-bucket.js';
import type { Verification } from '../values.js';

const MiB = 1024 * 1024;

/**
 * What every backup costs whatever its size: choosing (and on a cold Lambda, staging) the client,
 * the secret and the first connection, pg_dump's catalog pass, the verification's read-back of the
 * table of contents, and the create-only writes of manifest and latest.json. Backups of near-empty
 * databases against s3rver take 2–5 s here; against RDS and S3 from a cold Lambda each of those
 * steps is a round trip or a process start, so 30 s keeps a small database from being promised a
 * Lambda it cannot finish in when the network is slow. The infra side uses the same number.
 */
export const FIXED_OVERHEAD_SECONDS = 30;

/**
 * Throughput (database bytes per second) assumed when no past run says better. DESIGN.md measured
 * pg_dump zstd:1 at ~300 MiB/s on one local 1.6 GB database, but that is disk to disk on one
 * machine; a Lambda reaching RDS and S3 over the network with 1–2 vCPUs, compressing and uploading
 * while it dumps, does far less, and a database with many indexes is mostly bytes pg_dump never
 * reads (index pages count in pg_database_size). 8 MiB/s is deliberately pessimistic: a wrong
 * "fargate" costs a task start, a wrong "lambda" costs a run killed at its deadline. A restore
 * drill downloads the archive again and restores it (with index builds) before the manifest, so it
 * does the work about twice: half the rate. `full` reads the stored archive back whole, about a
 * quarter of the database's bytes at the default compression: between the two.
 */
export const DEFAULT_BYTES_PER_SECOND: Readonly<Record<Verification, number>> = {
  list: 8 * MiB,
  full: 6 * MiB,
  restore: 4 * MiB,
};

/** How many of the newest manifests the estimate learns from: recent enough, and a median of a few. */
export const HISTORY_RUNS = 5;

/** One past run as its manifest recorded it. */
export interface PastRun {
  databaseBytes: number;
  durationSeconds: number;
  verification: Verification;
}

export interface DurationEstimate {
  estimateSeconds: number;
  databaseBytes: number;
  bytesPerSecond: number;
  /** `history`: the median of past runs of the same verification; `default`: none were usable. */
  basis: 'history' | 'default';
  /** How many past runs the throughput came from. */
  runs: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * The estimate: the fixed overhead plus the database's size over the median throughput of past
 * runs that verified the same way (a drill's rate says nothing of a list's), else the default.
 */
export function estimateDuration(
  databaseBytes: number,
  verify: Verification,
  past: readonly PastRun[],
): DurationEstimate {
  const rates = past
    .filter((r) => r.verification === verify && r.durationSeconds > 0 && r.databaseBytes > 0)
    .map((r) => r.databaseBytes / r.durationSeconds);
  const bytesPerSecond = rates.length ? median(rates) : DEFAULT_BYTES_PER_SECOND[verify];
  return {
    estimateSeconds: Math.ceil(FIXED_OVERHEAD_SECONDS + Math.max(0, databaseBytes) / bytesPerSecond),
    databaseBytes,
    bytesPerSecond,
    basis: rates.length ? 'history' : 'default',
    runs: rates.length,
  };
}

/** A manifest's run, if it passed verification and says how long it took. */
function pastRunOf(m: ObjectManifest | undefined): PastRun | undefined {
  const v = m?.verification;
  if (!m || !v || v.result !== 'passed' || !(m.durationSeconds > 0)) return undefined;
  // Manifests written before databaseBytes existed have only the archive's (compressed) size:
  // a smaller numerator, so a slower rate and a longer estimate — the safe side.
  const databaseBytes = m.databaseBytes ?? m.bytes;
  return { databaseBytes, durationSeconds: m.durationSeconds, verification: v.method };
}

/** Every manifest key under the database's dir, oldest first (keys sort by their timestamp). */
async function manifestKeys(bucket: S3Bucket, dir: string, signal?: AbortSignal): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await bucket.client.send(
      new (awsSdk().ListObjectsV2Command)({ Bucket: bucket.name, Prefix: dir, ContinuationToken: token }),
      { abortSignal: signal },
    );
    for (const o of page.Contents ?? []) if (o.Key && isManifestKey(o.Key)) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/**
 * The newest HISTORY_RUNS manifests of `database` under `prefix`, as past runs. Listing is the one
 * read here that needs s3:ListBucket; without it (or with any read failing) the estimate goes on
 * without history, and says why, rather than failing a backup over its forecast.
 */
export async function recentRuns(
  bucket: S3Bucket,
  prefix: string,
  database: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<PastRun[]> {
  try {
    const newest = (await manifestKeys(bucket, databaseDir(prefix, database), signal))
      .reverse()
      .slice(0, HISTORY_RUNS);
    const manifests = await Promise.all(
      newest.map((key) => bucket.getJson<ObjectManifest>(key, 'PGFERRY_BUCKET').catch(() => undefined)),
    );
    return manifests.map(pastRunOf).filter((r): r is PastRun => r !== undefined);
  } catch (error) {
    log.warn(
      `could not read past manifests of ${database} (${(error as Error).name}); estimating without history`,
    );
    return [];
  }
}

export interface PredictOptions {
  from: ConnectionSpec;
  bucket: S3Bucket;
  prefix: string;
  verify: Verification;
  log: Logger;
  signal?: AbortSignal;
}

/** The database's size as its server tells it, and the estimate from it and the recent manifests. */
export async function predictDuration(o: PredictOptions): Promise<DurationEstimate> {
  const facts = await serverFacts(o.from, 'from');
  const past = await recentRuns(o.bucket, o.prefix, facts.database, o.log, o.signal);
  return estimateDuration(facts.sizeBytes, o.verify, past);
}
