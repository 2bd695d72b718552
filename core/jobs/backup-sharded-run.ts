import { exportSnapshot } from '../pg/exported-snapshot.js';
import type { ServerFacts } from '../pg/server.js';
import { MANIFEST_SCHEMA, partsDigest, type ObjectManifest, type Verification } from '../storage/manifest.js';
import type { BackupOptions, BackupResult } from './backup.js';
import {
  backupDumpSettings,
  moveLatestIfPassed,
  UNTOUCHED,
  withContext,
  writeManifest,
  type BackupAt,
} from './backup-record.js';
import { dumpShards, partManifests, planShards, type DumpedPart } from './backup-sharded.js';
import { compressionLabel } from './dump-to-s3.js';
import { verifyByList } from './verify-list.js';
import { countDifferences, tableCounts, type TableCounts } from './table-counts.js';
import { restoreSharded } from './restore-sharded.js';
import { withDatabase } from '../pg/connection.js';
import { connect } from '../pg/server.js';
import { dropDatabase } from '../pg/target-database.js';
import type { Manifest, PartManifest } from '../storage/manifest.js';
import { formatVersion } from '../pg/version.js';

const INPUT = 'to';

/**
 * A sharded backup (`jobs` > 1): plan and dump from one exported snapshot (backup-sharded.ts), each
 * part verified, one manifest listing them all, latest.json moved only after every part passed.
 * Undefined when the plan comes to one part (a database of no or one table): then the caller makes
 * the ordinary one-object backup.
 */
export async function backupSharded(
  o: BackupOptions,
  server: ServerFacts,
  at: BackupAt,
  jobs: number,
): Promise<BackupResult | undefined> {
  const snapshot = await exportSnapshot(o.from, 'from');
  let parts: DumpedPart[];
  let expected: TableCounts | undefined;
  try {
    const plan = await planShards(snapshot.client, jobs, o.log);
    if (plan.parts.length < 2) {
      o.log.info('jobs: one part holds the whole database, so this backup is one object');
      return undefined;
    }
    parts = await dumpShards({
      from: o.from,
      key: at.key,
      plan,
      snapshot,
      tier: at.tier,
      server,
      shared: { from: o.from, ...backupDumpSettings(o, at) },
    }).catch((error: unknown) => {
      throw withContext(error, `backup of ${server.database} failed; no part is kept and ${UNTOUCHED}`);
    });
    // A drill compares with the counts of the very snapshot every part read.
    if (o.verify === 'restore') expected = await tableCounts(snapshot.client);
  } finally {
    await snapshot.close();
  }
  const main = parts[0] as DumpedPart;
  o.log.info(
    `uploaded ${parts.length} parts, ${parts.reduce((s, p) => s + p.dumped.bytes, 0)} bytes, under ${o.bucket.uri(at.key)}; verifying (${o.verify})`,
  );
  const listed = partManifests(parts);
  const base: ObjectManifest = {
    schemaVersion: MANIFEST_SCHEMA,
    database: server.database,
    bucket: o.bucket.name,
    key: at.key,
    bytes: listed.reduce((s, p) => s + p.bytes, 0),
    sha256: partsDigest(listed),
    format: 'custom',
    compression: compressionLabel(main.dumped.compression),
    archiveVersion: main.dumped.archive.archiveVersion,
    serverVersion: server.versionText,
    clientVersion: formatVersion(main.dumped.client.version),
    startedAt: at.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationSeconds: 0,
    tocEntries: listed.reduce((s, p) => s + (p.tocEntries ?? 0), 0),
    proof: main.dumped.proof.kind,
    parts: listed,
  };
  // Every part proven and listed, whatever the method: a drill reads them all after that.
  const method = o.verify === 'full' ? 'full' : 'list';
  const checks = await Promise.all(
    parts.map((p) =>
      verifyByList(
        { bucket: o.bucket, input: INPUT, client: p.dumped.client, method, signal: o.signal },
        { key: p.key, database: server.database, tocEntries: p.dumped.archive.tocEntries, ...p.dumped },
      ),
    ),
  );
  checks.forEach((c, i) => {
    const part = listed[i];
    if (part) Object.assign(part, { verification: c.verification, proof: c.proof });
  });
  let verification = combined(
    method,
    checks.map((c) => c.verification),
    listed.map((p) => p.key),
  );
  if (expected && verification.result === 'passed')
    verification = await drillSharded(o, { key: at.key, manifest: base, parts: listed }, expected);
  // Each part records its own proof in its entry; the manifest's own is the main part's.
  const proof = checks[0]?.proof ?? main.dumped.proof.kind;
  const { manifest, manifestUri } = await writeManifest(o, base, at, verification, proof);
  const latest = await moveLatestIfPassed(o, manifest, manifestUri);
  return { manifest, manifestUri, latest, client: main.dumped.client, reason: main.dumped.choice.reason };
}

/** The parts' verifications as one: passed only if every part passed; the first failure's detail. */
function combined(
  method: 'list' | 'full',
  vs: readonly Verification[],
  keys: readonly string[],
): Verification {
  const failedAt = vs.findIndex((v) => v.result !== 'passed');
  const failed = vs[failedAt];
  return {
    method,
    result: failed ? 'failed' : 'passed',
    tocEntries: vs.reduce((s, v) => s + (v.tocEntries ?? 0), 0),
    bytesReadBack: vs.reduce((s, v) => s + (v.bytesReadBack ?? 0), 0),
    ...(failed ? { detail: `part ${keys[failedAt] ?? failedAt}: ${failed.detail ?? 'no detail'}` } : {}),
  };
}

/**
 * `verify: restore` of a sharded backup: its parts restored from S3 as any restore of it would
 * (streamed, checked against the listed digests) into a scratch database, then counted against the
 * snapshot; the scratch database is dropped whatever happens.
 */
async function drillSharded(
  o: BackupOptions,
  found: { key: string; manifest: ObjectManifest; parts: PartManifest[] },
  expected: TableCounts,
): Promise<Verification> {
  const scratch = withDatabase(o.from, `pgferry_drill_${Date.now().toString(36)}`);
  try {
    await restoreSharded(
      {
        bucket: o.bucket,
        key: found.key,
        to: scratch,
        jobs: o.jobs ?? 'auto',
        postgresVersion: { kind: 'auto' },
        catalog: o.catalog,
        log: o.log,
        signal: o.signal,
      },
      { ...found, manifest: found.manifest as Manifest },
    );
    const client = await connect(scratch, 'verify');
    const actual = await tableCounts(client).finally(() => client.end());
    const differences = countDifferences(expected, actual);
    return {
      method: 'restore',
      result: differences.length ? 'failed' : 'passed',
      tables: actual.tables,
      rows: actual.rows,
      bytesReadBack: found.parts.reduce((s, p) => s + p.bytes, 0),
      ...(differences.length ? { detail: differences.slice(0, 5).join('; ') } : {}),
    };
  } finally {
    await dropDatabase(scratch, 'verify').catch(() => {});
  }
}
