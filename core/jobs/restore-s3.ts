import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { InputError, PgferryError } from '../errors.js';
import { readArchiveFactsFromStream } from '../pg/archive.js';
import { describeConnection } from '../pg/connection.js';
import { formatVersion } from '../pg/version.js';
import { checkDigest } from '../storage/download.js';
import { checkParts } from '../storage/backup-parts.js';
import { manifestKey } from '../storage/backup-layout.js';
import {
  checkManifestKey,
  checkObjectSize,
  checkPointer,
  parseLatestPointer,
  parseManifest,
} from '../storage/backup-vouch.js';
import { HashMeter } from '../storage/hash-meter.js';
import type { Manifest } from '../storage/manifest.js';
import { NotJsonError, type S3Bucket } from '../storage/s3-bucket.js';
import { applyArchive, applyOptionsOf } from './apply-archive.js';
import { databasePropertiesSql, propertyOptionsOf, TocPrefix } from './database-properties.js';
import { defaultJobs } from './parallelism.js';
import { prepareRestore, restoreFromPath, type RestoreOptions, type RestoreResult } from './restore.js';
import { undoCreatedOnFailure } from '../pg/target-database.js';
import { restoreSharded } from './restore-sharded.js';

export interface BackupObject {
  key: string;
  manifest: Manifest;
}

/** A restore's messages name its source as the user did. */
const INPUT = 'from';

/** The backup a pointer or a key names must be one its manifest vouches for (backup-vouch.ts). */
function integrity(message: string): PgferryError {
  return new PgferryError(`${INPUT}: ${message}`, { code: 'integrity' });
}

/**
 * `s3://bucket/key` is that object, vouched for by its manifest `<key>.json`; `s3://bucket/prefix/db/`
 * is the latest verified backup there, found through `latest.json` only. Either way the manifest
 * must carry the object's key, database, size and SHA-256, and everything must agree (backup-vouch.ts)
 * before the target is touched.
 */
export async function resolveBackupObject(bucket: S3Bucket, key: string): Promise<BackupObject> {
  if (key === '' || key.endsWith('/')) return resolveLatest(bucket, key);
  const manifestRaw = await bucket.getJson<unknown>(manifestKey(key), INPUT);
  const sharded = manifestRaw !== undefined && (manifestRaw as { parts?: unknown }).parts !== undefined;
  const stored = sharded ? undefined : await bucket.size(key, INPUT);
  if (stored === undefined && !sharded) throw new InputError(INPUT, `${bucket.uri(key)} does not exist`);
  if (manifestRaw === undefined)
    throw integrity(
      `${bucket.uri(key)} has no manifest (${manifestKey(key)}), so nothing vouches for its bytes; pgferry restores only objects its manifest describes (download it and restore the file if you trust it)`,
    );
  const manifest = parseManifest(manifestRaw, bucket.uri(manifestKey(key)));
  checkManifestKey(manifest, { bucket: bucket.name, key });
  if (manifest.parts) await checkParts(bucket, manifest, INPUT);
  else checkObjectSize(manifest, stored, bucket.uri(key));
  return checked(bucket, { key, manifest });
}

/** The backup `<dir>latest.json` names, with the manifest it names, vouching for each other. */
async function resolveLatest(bucket: S3Bucket, dir: string): Promise<BackupObject> {
  const pointerKey = `${dir}latest.json`;
  const pointerUri = bucket.uri(pointerKey);
  const raw = await bucket.getJson<unknown>(pointerKey, INPUT).catch((error: unknown) => {
    if (error instanceof NotJsonError)
      throw integrity(`${pointerUri} is not a pgferry latest pointer: it is not JSON`);
    throw error;
  });
  if (raw === undefined)
    throw new InputError(INPUT, `no verified backup under ${bucket.uri(dir)} (there is no ${pointerKey})`);
  const latest = parseLatestPointer(raw, pointerUri);
  const manifestRaw = await bucket.getJson<unknown>(latest.manifest, INPUT);
  if (manifestRaw === undefined)
    throw integrity(`${pointerUri} points at a missing manifest ${bucket.uri(latest.manifest)}`);
  const manifest = parseManifest(manifestRaw, bucket.uri(latest.manifest));
  checkPointer(latest, manifest, { bucket: bucket.name, dir });
  if (manifest.parts) {
    await checkParts(bucket, manifest, INPUT);
    return checked(bucket, { key: latest.key, manifest });
  }
  const stored = await bucket.size(latest.key, INPUT);
  if (stored === undefined)
    throw integrity(`${pointerUri} points at ${bucket.uri(latest.key)}, which does not exist`);
  checkObjectSize(manifest, stored, bucket.uri(latest.key));
  return checked(bucket, { key: latest.key, manifest });
}

function checked(bucket: S3Bucket, found: BackupObject): BackupObject {
  const v = found.manifest.verification as Manifest['verification'] | undefined;
  if (v && v.result !== 'passed') {
    throw new PgferryError(
      `${INPUT}: ${bucket.uri(found.key)} failed its verification (${v.method}: ${v.detail ?? 'no detail'}); refusing to restore it`,
    );
  }
  return found;
}

export interface RestoreFromS3Options extends Omit<RestoreOptions, 'from'> {
  bucket: S3Bucket;
  key: string;
}

/**
 * Restores a stored backup. With one job (and no clean) it streams straight from S3 into pg_restore
 * and psql inside one transaction that pgferry commits only after the SHA-256 of the *whole* object —
 * read to its end, however little pg_restore needed — matched the manifest. Otherwise the object is
 * downloaded and checked first, then restored from the file (in parallel where it allows).
 */
export async function restoreFromS3(o: RestoreFromS3Options): Promise<RestoreResult & { location: string }> {
  const found = await resolveBackupObject(o.bucket, o.key);
  if (found.manifest.parts)
    return restoreSharded(o, { key: found.key, manifest: found.manifest, parts: found.manifest.parts });
  const jobs = o.jobs === 'auto' ? defaultJobs() : o.jobs;
  // Masking checks its rules against the archive's TOC before touching the target: from a file.
  if (jobs > 1 || o.clean || o.maskingRules) return restoreDownloaded(o, found);
  return restoreStreamed(o, found);
}

type FoundBackup = Awaited<ReturnType<typeof resolveBackupObject>>;

/** Downloaded and its SHA-256 checked first, then restored from the file like any archive. */
async function restoreDownloaded(
  o: RestoreFromS3Options,
  found: FoundBackup,
): Promise<RestoreResult & { location: string }> {
  const location = o.bucket.uri(found.key);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-restore-'));
  try {
    const file = path.join(dir, path.basename(found.key) || 'backup.dump');
    o.log.info(`downloading ${location} (SHA-256 checked before the restore starts)`);
    await o.bucket.download(found.key, INPUT, file, found.manifest, o.signal);
    return { ...(await restoreFromPath({ ...o, from: file })), location };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The object read once, as it streams: hashed, its archive facts read from its head, its TOC kept
 * for the database's own properties, and a commit gate that reads it to the end and compares.
 */
export async function openStreamed(
  o: Pick<RestoreFromS3Options, 'bucket' | 'signal'>,
  found: { key: string; manifest: { bytes: number; sha256: string } },
  location: string,
) {
  const { body } = await o.bucket.open(found.key, INPUT, o.signal);
  const meter = new HashMeter();
  body.on('error', (e) => meter.destroy(e));
  body.pipe(meter);
  const { facts: archive, head } = await readArchiveFactsFromStream(meter, location);
  // The TOC leads the archive: kept as it streams by, for the database's own properties.
  const toc =
    archive.format === 'tar' || archive.format === 'custom'
      ? new TocPrefix(location, archive.format)
      : undefined;
  const stream = Readable.from(
    (async function* () {
      toc?.record(head);
      yield head;
      for await (const chunk of meter) {
        toc?.record(chunk as Buffer);
        yield chunk as Buffer;
      }
    })(),
  );
  // Read to the end whatever pg_restore needed, then compare: only a match lets pgferry commit.
  const wholeObjectMatches = async (): Promise<void> => {
    await finished(stream);
    const object = { input: INPUT, uri: location };
    checkDigest(object, { bytes: meter.bytes, sha256: meter.digest() }, found.manifest);
  };
  return { body, archive, toc, stream, wholeObjectMatches, bytesRead: () => meter.bytes };
}

/** One job, streamed from S3 into the script path, committed only once the whole object matched. */
async function restoreStreamed(
  o: RestoreFromS3Options,
  found: FoundBackup,
): Promise<RestoreResult & { location: string }> {
  const started = Date.now();
  const location = o.bucket.uri(found.key);
  const { body, archive, toc, stream, wholeObjectMatches, bytesRead } = await openStreamed(
    o,
    found,
    location,
  );
  const { target, choice, client, createdDatabase } = await prepareRestore(archive, o).catch(
    (error: unknown) => {
      body.destroy();
      stream.destroy();
      throw error;
    },
  );
  // pg_restore cannot hold its own commit back, so the stream always takes the script path.
  const restorePath = choice.path === 'pg_restore' ? 'script' : choice.path;
  if (o.transactionSize !== undefined) {
    const why = `transaction-size does nothing here: a restore from S3 commits once, after the whole object's SHA-256 matched`;
    o.log.warn(why);
    choice.warnings.push(why);
  }
  const epilogue =
    toc &&
    databasePropertiesSql({
      entries: async () => toc.entries(o.log),
      target: o.to,
      options: propertyOptionsOf(o),
      log: o.log,
    });
  // However the restore ends, the connection to S3 does not outlive it.
  return undoCreatedOnFailure(createdDatabase, o.to, async () => {
    o.log.info(
      `restoring ${location} into ${describeConnection(o.to)} with ${formatVersion(client.version)}, streamed (one job, committed once the whole object's SHA-256 matched)`,
    );
    const filtered = await applyArchive({
      client,
      path: restorePath,
      archive,
      input: { stream },
      inputRead: bytesRead,
      inputBytes: found.manifest.bytes,
      target: o.to,
      targetVersion: target.version,
      jobs: 1,
      options: { ...applyOptionsOf(o), clean: false },
      signal: o.signal,
      onProgress: o.onProgress,
      progressIntervalMs: o.progressIntervalMs,
      commitGate: wholeObjectMatches,
      after: o.sqlInTransaction,
      epilogue,
      label: `the restore script of ${location}`,
    });
    // Said as a file restore says it: the report's warnings are read, its filtered list may not be.
    if (filtered.length)
      o.log.warn(`filtered from the script for PostgreSQL ${target.version.major}: ${filtered.join(', ')}`);
    const durationSeconds = (Date.now() - started) / 1000;
    const result = { target, client, choice, archive, path: restorePath, jobs: 1, createdDatabase };
    return { ...result, filtered, durationSeconds, location };
  }).finally(() => body.destroy());
}
