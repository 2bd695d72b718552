import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { InputError, PgferryError } from '../errors.js';
import type { S3Settings } from '../options.js';
import { readArchiveFactsFromStream } from '../pg/archive.js';
import { describeConnection } from '../pg/connection.js';
import { formatVersion } from '../pg/version.js';
import { downloadVerified, openObject, VerifiedTail, type ObjectRef } from '../storage/download.js';
import { getJson, type LatestPointer, type Manifest } from '../storage/manifest.js';
import { explainS3Error } from '../storage/s3-client.js';
import { applyArchive, applyOptionsOf } from './apply-archive.js';
import { defaultJobs } from './dump.js';
import { prepareRestore, restoreFromPath, type RestoreOptions, type RestoreResult } from './restore.js';
import { undoCreatedOnFailure } from '../pg/target-database.js';

export interface BackupObject {
  ref: ObjectRef;
  manifest?: Manifest;
}

async function exists(client: S3Client, ref: ObjectRef): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return true;
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return false;
    throw explainS3Error(error, ref);
  }
}

/**
 * `s3://bucket/key` is that object (checked against its manifest when it has one);
 * `s3://bucket/prefix/db/` is the latest verified backup there, found through `latest.json` only.
 */
export async function resolveBackupObject(
  client: S3Client,
  bucket: string,
  key: string,
  settings: S3Settings,
): Promise<BackupObject> {
  const input = 'from';
  const endpoint = settings.endpoint;
  if (key === '' || key.endsWith('/')) {
    const pointerKey = `${key}latest.json`;
    const latest = await getJson<LatestPointer>(client, bucket, pointerKey, input, endpoint);
    if (!latest)
      throw new InputError(
        input,
        `no verified backup under s3://${bucket}/${key} (there is no ${pointerKey})`,
      );
    const ref = { bucket, key: latest.key, input, endpoint };
    const manifest = await getJson<Manifest>(client, bucket, latest.manifest, input, endpoint);
    if (!(await exists(client, ref))) {
      throw new PgferryError(
        `${input}: s3://${bucket}/${pointerKey} points at s3://${bucket}/${latest.key}, which does not exist`,
      );
    }
    if (!manifest)
      throw new PgferryError(
        `${input}: s3://${bucket}/${pointerKey} points at a missing manifest s3://${bucket}/${latest.manifest}`,
      );
    return checked({ ref, manifest });
  }
  const ref = { bucket, key, input, endpoint };
  const manifest = await getJson<Manifest>(client, bucket, `${key}.json`, input, endpoint);
  if (!manifest && !(await exists(client, ref)))
    throw new InputError(input, `s3://${bucket}/${key} does not exist`);
  return checked({ ref, manifest });
}

function checked(found: BackupObject): BackupObject {
  const v = found.manifest?.verification;
  if (v && v.result !== 'passed') {
    throw new PgferryError(
      `from: s3://${found.ref.bucket}/${found.ref.key} failed its verification (${v.method}: ${v.detail ?? 'no detail'}); refusing to restore it`,
    );
  }
  return found;
}

export interface RestoreFromS3Options extends Omit<RestoreOptions, 'from'> {
  s3: S3Client;
  settings: S3Settings;
  bucket: string;
  key: string;
}

/**
 * Restores a stored backup: with one job (and no clean) streamed straight into pg_restore, its tail
 * held back until the SHA-256 matches the manifest; otherwise downloaded and checked first, then
 * restored in parallel from the file.
 */
export async function restoreFromS3(o: RestoreFromS3Options): Promise<RestoreResult & { location: string }> {
  const found = await resolveBackupObject(o.s3, o.bucket, o.key, o.settings);
  const location = `s3://${found.ref.bucket}/${found.ref.key}`;
  const jobs = o.jobs === 'auto' ? defaultJobs() : o.jobs;
  if (jobs > 1 || o.clean) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-restore-'));
    try {
      const file = path.join(dir, path.basename(found.ref.key) || 'backup.dump');
      o.log.info(`downloading ${location} (SHA-256 checked before the restore starts)`);
      await downloadVerified(o.s3, found.ref, file, found.manifest?.sha256, o.signal);
      return { ...(await restoreFromPath({ ...o, from: file })), location };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const started = Date.now();
  const { body } = await openObject(o.s3, found.ref, o.signal);
  const verified = found.manifest ? body.pipe(new VerifiedTail(found.manifest.sha256, found.ref)) : body;
  body.on('error', (e) => verified.destroy(e));
  const { facts: archive, head } = await readArchiveFactsFromStream(verified, location);
  const stream = Readable.from(
    (async function* () {
      yield head;
      yield* verified;
    })(),
  );
  const { target, choice, client, createdDatabase } = await prepareRestore(archive, o);
  return undoCreatedOnFailure(createdDatabase, o.to, async () => {
    o.log.info(
      `restoring ${location} into ${describeConnection(o.to)} with ${formatVersion(client.version)}, streamed (one job)`,
    );
    const filtered = await applyArchive({
      client,
      path: choice.path,
      archive,
      input: { stream },
      target: o.to,
      targetVersion: target.version,
      jobs: 1,
      options: { ...applyOptionsOf(o), clean: false },
      signal: o.signal,
      onProgress: o.onProgress,
    });
    const durationSeconds = (Date.now() - started) / 1000;
    return {
      target,
      client,
      choice,
      archive,
      path: choice.path,
      jobs: 1,
      createdDatabase,
      filtered,
      durationSeconds,
      location,
    };
  });
}
