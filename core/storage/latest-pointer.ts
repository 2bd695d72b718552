import { setTimeout as sleep } from 'node:timers/promises';
import { PgferryError } from '../errors.js';
import type { Logger } from '../log.js';
import { CREATE_ONLY, WriteConflictError, type WriteCondition } from './conditional-write.js';
import type { LatestPointer, ObjectManifest } from './manifest.js';
import type { S3Bucket } from './s3-bucket.js';

/** Re-reads after a lost race: each one means another backup moved the pointer meanwhile. */
const MAX_ATTEMPTS = 8;

export interface PointerMoveRequest {
  bucket: S3Bucket;
  /** `<prefix>/<database>/latest.json`. */
  key: string;
  pointer: LatestPointer & { startedAt: string };
  input: string;
  log: Logger;
  signal?: AbortSignal;
}

export interface PointerMove {
  /** Whether this backup's pointer was written. */
  moved: boolean;
  /** The backup the pointer names afterwards. */
  names: string;
}

interface Started {
  startedAt: string;
  key: string;
}

/** Backups are ordered by their start, then by key (milliseconds and random part): a total order. */
export function startedAfter(a: Started, b: Started): boolean {
  const ta = Date.parse(a.startedAt);
  const tb = Date.parse(b.startedAt);
  return ta !== tb ? ta > tb : a.key > b.key;
}

/** The pointer's JSON, or undefined when the text is not JSON at all. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isPointer(value: unknown): value is LatestPointer {
  const v = value as Partial<LatestPointer> | null;
  return typeof v === 'object' && v !== null && typeof v.key === 'string' && typeof v.manifest === 'string';
}

/** When the backup a pointer names started: its own field, or (older pointers) its manifest's. */
async function startOf(r: PointerMoveRequest, current: LatestPointer): Promise<Started | undefined> {
  if (typeof current.startedAt === 'string') return { startedAt: current.startedAt, key: current.key };
  const manifest = await r.bucket.getJson<ObjectManifest>(current.manifest, r.input).catch(() => undefined);
  return typeof manifest?.startedAt === 'string'
    ? { startedAt: manifest.startedAt, key: current.key }
    : undefined;
}

/**
 * Moves `latest.json` to this backup unless it already names one that started later. Each write is
 * conditional on the version just read (`If-Match: <etag>`, or `If-None-Match: *` when there is no
 * pointer); a store that refuses the condition means another backup moved it meanwhile: read again
 * and decide again. Afterwards the pointer is read back, so a store that ignores conditional writes
 * and let an older backup overwrite a newer pointer gets it put right by the newer backup.
 */
export async function movePointer(r: PointerMoveRequest): Promise<PointerMove> {
  const ours: Started = { startedAt: r.pointer.startedAt, key: r.pointer.key };
  const where = r.bucket.uri(r.key);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    r.signal?.throwIfAborted();
    // A role without s3:ListBucket (the scheduled job's) gets 403 for a pointer not written yet.
    const read = await r.bucket.getTextVersion(r.key, r.input, true);
    const current = read && parsed(read.text);
    if (isPointer(current)) {
      const theirs = await startOf(r, current);
      if (theirs && !startedAfter(ours, theirs)) {
        if (theirs.key !== ours.key) {
          r.log.info(
            `${where} names ${current.key}, which started later (${theirs.startedAt}); left as it is`,
          );
        }
        return { moved: theirs.key === ours.key, names: current.key };
      }
    } else if (read) {
      r.log.warn(`${where} is not a pgferry latest pointer; replacing it`);
    }
    const condition: WriteCondition = read?.etag ? { ifMatch: read.etag } : CREATE_ONLY;
    try {
      await r.bucket.putJson(r.key, r.pointer, r.input, { condition });
    } catch (error) {
      if (!(error instanceof WriteConflictError)) throw error;
      // S3 answers 403 to reading it, yet create-only said it exists: there, but unreadable.
      if (!read && (await r.bucket.refusesRead(r.key))) {
        throw new PgferryError(
          `${r.input}: ${where} exists but S3 refuses to let this backup read it (403); the backup ${r.pointer.key} is stored and verified, but latest.json does not name it. Allow s3:GetObject on it`,
        );
      }
      r.log.info(`${error.message}; reading it again (attempt ${attempt} of ${MAX_ATTEMPTS})`);
      await sleep(25 * attempt + Math.floor(Math.random() * 50), undefined, { signal: r.signal });
      continue;
    }
    const backText = await r.bucket.getTextVersion(r.key, r.input, true);
    const back = backText && parsed(backText.text);
    if (isPointer(back)) {
      if (back.key === ours.key) return { moved: true, names: ours.key };
      const theirs = await startOf(r, back);
      if (theirs && startedAfter(theirs, ours)) return { moved: true, names: back.key };
    }
    // Only a store that ignores If-Match lets an older backup's pointer land after ours.
    r.log.warn(
      `${where} was overwritten right after this backup moved it (the store ignores conditional writes?); moving it again`,
    );
  }
  throw new PgferryError(
    `${r.input}: ${where} kept changing under this backup (${MAX_ATTEMPTS} attempts); the backup ${r.pointer.key} is stored and verified, but latest.json does not name it`,
  );
}
