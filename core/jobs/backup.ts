import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { JobHooks } from './job-hooks.js';
import type { CompressionSpec } from '../pg/compression.js';
import type { ClientTools } from '../pg/clients/tools.js';
import { withDatabase, type ConnectionSpec } from '../pg/connection.js';
import type pg from 'pg';
import { connect, serverFacts, type ServerFacts } from '../pg/server.js';
import { dropDatabase } from '../pg/target-database.js';
import type { VersionRequest } from '../pg/version.js';
import { checkStorableDatabaseName } from '../storage/database-name.js';
import { backupKey, tierFor } from '../storage/backup-layout.js';
import type { PointerMove } from '../storage/latest-pointer.js';
import type { Manifest, Verification } from '../storage/manifest.js';
import type { S3Bucket } from '../storage/s3-bucket.js';
import type { DumpSelection } from './dump-selection.js';
import { dumpToS3, manifestOf, type DumpToS3Result } from './dump-to-s3.js';
import { restoreFromPath } from './restore.js';
import { verifyByList } from './verify-list.js';
import { backupSharded } from './backup-sharded-run.js';
import {
  backupDumpSettings,
  moveLatestIfPassed,
  UNTOUCHED,
  withContext,
  writeManifest,
  type BackupAt,
} from './backup-record.js';
import { countDifferences, tableCounts, type TableCounts } from './table-counts.js';

/** A backup's messages name its destination as the user did. */
const INPUT = 'to';

/** The pg_dump 17/18 features a backup passes on (options.ts NewerDumpOptions). */
type BackupDumpFeatures = Pick<DumpSelection, 'noPolicies' | 'sequenceData'> & {
  /**
   * Undefined: on with a PostgreSQL 18+ client. A backup is kept to be restored when time matters
   * most; with its statistics the restored database plans well at once instead of after an ANALYZE
   * of every table, and a restore into an older server leaves them out.
   */
  statistics?: boolean;
};

export interface BackupOptions extends JobHooks, BackupDumpFeatures {
  from: ConnectionSpec;
  bucket: S3Bucket;
  prefix: string;
  verify: 'list' | 'full' | 'restore';
  compress: CompressionSpec | 'auto';
  postgresVersion: VersionRequest;
  /** The run's clock (tests pin it to check tiers and keys). */
  now?: () => Date;
  /** The key's random part (tests pin it to make two backups collide on purpose). */
  random?: () => string;
  /** The duration predicted for this run, recorded in the manifest beside the actual one. */
  estimateSeconds?: number;
  /** More than 1: a sharded backup, that many pg_dump workers reading one snapshot (backup-sharded.ts). */
  jobs?: number | 'auto';
}

export interface BackupResult {
  manifest: Manifest;
  manifestUri: string;
  /** Whether latest.json now names this backup (a backup that started later may hold it). */
  latest: PointerMove;
  client: ClientTools;
  /** Why this client was chosen. */
  reason: string;
}

/** `verify: restore` — a restore drill into a scratch database, compared with the dump's snapshot. */
async function verifyByRestore(
  o: BackupOptions,
  key: string,
  dumped: DumpToS3Result,
  expected: TableCounts,
): Promise<Verification> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-drill-'));
  const scratch = withDatabase(o.from, `pgferry_drill_${Date.now().toString(36)}`);
  try {
    const file = path.join(dir, 'backup.dump');
    // download creates the file 0600 and new: the drill's copy holds the whole database.
    await o.bucket.download(key, INPUT, file, { sha256: dumped.sha256, bytes: dumped.bytes }, o.signal);
    await restoreFromPath({
      from: file,
      to: scratch,
      jobs: 'auto',
      postgresVersion: { kind: 'auto' },
      catalog: o.catalog,
      log: o.log,
      signal: o.signal,
    });
    const client = await connect(scratch, 'verify');
    const actual = await tableCounts(client).finally(() => client.end());
    const differences = countDifferences(expected, actual);
    return {
      method: 'restore',
      result: differences.length ? 'failed' : 'passed',
      tables: actual.tables,
      rows: actual.rows,
      bytesReadBack: dumped.bytes,
      ...(differences.length ? { detail: differences.slice(0, 5).join('; ') } : {}),
    };
  } finally {
    await dropDatabase(scratch, 'verify').catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * One database: dump → upload → verify → manifest → latest.json, in that order. The dump and its
 * manifest are written create-only (`If-None-Match: *`) under a key no other backup has; a failed
 * dump leaves no object; a failed verification records a failed manifest, leaves latest.json alone
 * and throws. latest.json moves only to a backup that started later than the one it names.
 */
export async function backupDatabase(o: BackupOptions): Promise<BackupResult> {
  const startedAt = (o.now ?? (() => new Date()))();
  const server = await serverFacts(o.from, 'from');
  checkStorableDatabaseName(server.database, 'from'); // the name the server reports becomes keys
  const key = backupKey(o.prefix, server.database, startedAt, o.random?.());
  const at: BackupAt = { key, tier: tierFor(startedAt), startedAt, databaseBytes: server.sizeBytes };
  if (typeof o.jobs === 'number' && o.jobs > 1) {
    const sharded = await backupSharded(o, server, at, o.jobs);
    if (sharded) return sharded;
  }
  // For a drill, the source's counts come from the very snapshot pg_dump reads.
  const snapshotSession = o.verify === 'restore' ? await connect(o.from, 'from') : undefined;
  try {
    const { dumped, expected } = await dumpOnce(o, server, at, snapshotSession);
    o.log.info(`uploaded ${dumped.bytes} bytes to ${o.bucket.uri(key)}; verifying (${o.verify})`);
    const { verification, proof } =
      o.verify === 'restore' && expected
        ? { verification: await verifyByRestore(o, key, dumped, expected), proof: 'read-back' as const }
        : await verifyByList(
            {
              bucket: o.bucket,
              input: INPUT,
              client: dumped.client,
              method: o.verify === 'full' ? 'full' : 'list',
              signal: o.signal,
            },
            { key, database: server.database, tocEntries: dumped.archive.tocEntries, ...dumped },
          );
    const base = manifestOf(dumped, o.bucket, at.key, at.startedAt);
    const { manifest, manifestUri } = await writeManifest(o, base, at, verification, proof);
    const latest = await moveLatestIfPassed(o, manifest, manifestUri);
    return { manifest, manifestUri, latest, client: dumped.client, reason: dumped.choice.reason };
  } finally {
    await snapshotSession?.end().catch(() => {});
  }
}

/**
 * The dump to its own key, create-only; with a snapshot session (a restore drill), pg_dump reads
 * that session's snapshot and the source's table counts are taken from it too.
 */
async function dumpOnce(
  o: BackupOptions,
  server: ServerFacts,
  at: BackupAt,
  snapshotSession: pg.Client | undefined,
): Promise<{ dumped: DumpToS3Result; expected?: TableCounts }> {
  let snapshot: string | undefined;
  if (snapshotSession) {
    await snapshotSession.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    snapshot = (await snapshotSession.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]?.id;
  }
  const dumped = await dumpToS3({
    from: o.from,
    ...backupDumpSettings(o, at),
    key: at.key,
    extraArgs: snapshot ? [`--snapshot=${snapshot}`] : [],
    server,
  }).catch((error: unknown) => {
    throw withContext(error, `backup of ${server.database} failed; ${UNTOUCHED}`);
  });
  const expected = snapshotSession ? await tableCounts(snapshotSession) : undefined;
  await snapshotSession?.query('COMMIT');
  return { dumped, expected };
}
