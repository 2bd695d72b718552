import { createHash } from 'node:crypto';
import type { ProofKind } from './store-proof.js';

export const MANIFEST_SCHEMA = 1;

export interface Verification {
  method: 'list' | 'full' | 'restore';
  result: 'passed' | 'failed';
  /** list and full: TOC entries read back; restore: tables and rows compared. */
  tocEntries?: number;
  tables?: number;
  rows?: number;
  /** Bytes of the stored object read back to verify it (all of them for `full` and `restore`). */
  bytesReadBack?: number;
  detail?: string;
}

/**
 * What pgferry records beside every object it writes (`<key>.json`), so a restore can check it. A
 * `dump --to s3://…` records what it streamed; it reads nothing back, so it has no verification.
 */
export interface ObjectManifest {
  schemaVersion: number;
  database: string;
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
  format: string;
  compression: string;
  archiveVersion?: string;
  serverVersion: string;
  clientVersion: string;
  tier?: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  tocEntries?: number;
  /**
   * How the stored bytes were proven to be the streamed ones (store-proof.ts); absent in manifests
   * written before pgferry recorded it.
   */
  proof?: ProofKind;
  verification?: Verification;
  /** `pg_database_size` when the backup started: with `durationSeconds`, what the next estimate learns from. */
  databaseBytes?: number;
  /** The duration predicted before the run started (core/jobs/predict-duration.ts), when one was. */
  estimateSeconds?: number;
  /**
   * A sharded backup (`jobs` > 1): no object at `key`; these objects hold it, read from one snapshot.
   * Part 0 is the main part (schema, post-data, sequences, large objects, the tables no other part
   * has), the others data only. `bytes` is then their sum and `sha256` the parts digest (partsDigest).
   */
  parts?: PartManifest[];
}

/** One object of a sharded backup. */
export interface PartManifest {
  key: string;
  bytes: number;
  sha256: string;
  proof: ProofKind;
  tocEntries?: number;
  /** main: everything but the other parts' table data; data: `pg_dump --data-only` of `tables`. */
  role: 'main' | 'data';
  /** The leaf tables whose rows this part holds (main: the ones not in a data part). */
  tables: { schema: string; name: string }[];
  verification?: Verification;
}

/** What a backup run records beside each dump: always a tier and a verification. */
export interface Manifest extends ObjectManifest {
  tier: string;
  verification: Verification;
}

/** `latest.json`: the newest verified backup of a database. Readers never list and sort. */
export interface LatestPointer {
  schemaVersion: number;
  database: string;
  key: string;
  manifest: string;
  sha256: string;
  bytes: number;
  /** When the backup started: the pointer moves only to a backup that started later (older pointers lack it). */
  startedAt?: string;
  finishedAt: string;
}

/**
 * What a sharded backup's manifest and latest.json carry as `sha256`: the SHA-256 of one line per part
 * (`<sha256> <bytes> <key>`), so the pointer vouches for the whole list and each part's digest.
 */
export function partsDigest(parts: readonly Pick<PartManifest, 'key' | 'bytes' | 'sha256'>[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(`${p.sha256} ${p.bytes} ${p.key}\n`);
  return hash.digest('hex');
}
