import { PgferryError } from '../errors.js';

const INTEGRITY = { code: 'integrity' } as const;
import { manifestKey } from './backup-layout.js';
import type { LatestPointer, Manifest } from './manifest.js';

/**
 * Readers trust nothing they did not check (DESIGN.md, "Storage"): a pointer must be a pointer, a
 * manifest a manifest, and the two must vouch for each other and for the object before a byte of it
 * reaches a database.
 */

const SHA256 = /^[0-9a-f]{64}$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function missing(o: Json, fields: Record<string, (v: unknown) => boolean>): string[] {
  return Object.entries(fields)
    .filter(([name, ok]) => !ok(o[name]))
    .map(([name]) => name);
}

const text = (v: unknown): boolean => typeof v === 'string' && v !== '';
const size = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const digest = (v: unknown): boolean => typeof v === 'string' && SHA256.test(v);

/** A key that stays where it says: no empty, `.` or `..` segment. */
function plainKey(key: string): boolean {
  return key.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

export function parseLatestPointer(value: unknown, uri: string): LatestPointer {
  const problems = isObject(value)
    ? missing(value, { database: text, key: text, manifest: text, sha256: digest, bytes: size })
    : ['a JSON object'];
  if (problems.length)
    throw new PgferryError(
      `from: ${uri} is not a pgferry latest pointer: it lacks a valid ${problems.join(', ')}`,
      INTEGRITY,
    );
  return value as unknown as LatestPointer;
}

export function parseManifest(value: unknown, uri: string): Manifest {
  const problems = isObject(value)
    ? missing(value, { database: text, key: text, sha256: digest, bytes: size })
    : ['a JSON object'];
  if (problems.length)
    throw new PgferryError(
      `from: ${uri} is not a usable pgferry manifest: it lacks a valid ${problems.join(', ')}; refusing to restore what it describes`,
      INTEGRITY,
    );
  return value as unknown as Manifest;
}

function differences(pairs: [string, unknown, unknown][]): string[] {
  return pairs.filter(([, a, b]) => a !== b).map(([what, a, b]) => `${what} ${String(a)} ≠ ${String(b)}`);
}

/**
 * `latest.json` under `<dir>` (the `<prefix>/<database>/` the user named) and the manifest it names:
 * both keys lie under `<dir>`, and key, database, bytes and SHA-256 agree between the two.
 */
export function checkPointer(
  pointer: LatestPointer,
  manifest: Manifest,
  place: { bucket: string; dir: string },
): void {
  const where = `s3://${place.bucket}/${place.dir}latest.json`;
  for (const [what, key] of [
    ['backup', pointer.key],
    ['manifest', pointer.manifest],
  ] as const) {
    if (!key.startsWith(place.dir) || !plainKey(key))
      throw new PgferryError(
        `from: ${where} points at a ${what} outside s3://${place.bucket}/${place.dir} (${key}); refusing to restore it`,
        INTEGRITY,
      );
  }
  const database = place.dir.split('/').filter(Boolean).pop();
  const mismatched = differences([
    ['pointer manifest', pointer.manifest, manifestKey(pointer.key)],
    ['database', manifest.database, pointer.database],
    ['key', manifest.key, pointer.key],
    ['bytes', manifest.bytes, pointer.bytes],
    ['sha256', manifest.sha256, pointer.sha256],
    ...(database === undefined
      ? []
      : ([['folder', pointer.database, database]] as [string, unknown, unknown][])),
  ]);
  if (mismatched.length)
    throw new PgferryError(
      `from: ${where} and its manifest s3://${place.bucket}/${pointer.manifest} do not vouch for each other (${mismatched.join('; ')}); refusing to restore it`,
      INTEGRITY,
    );
}

/** A manifest read beside a key the user named must describe that key. */
export function checkManifestKey(manifest: Manifest, place: { bucket: string; key: string }): void {
  if (manifest.key !== place.key)
    throw new PgferryError(
      `from: the manifest s3://${place.bucket}/${manifestKey(place.key)} describes ${manifest.key}, not ${place.key}; refusing to restore it`,
      INTEGRITY,
    );
}

/** The stored object is as long as its manifest says (a cheap first check before anything is read). */
export function checkObjectSize(manifest: Manifest, stored: number | undefined, uri: string): void {
  if (stored !== undefined && stored !== manifest.bytes)
    throw new PgferryError(
      `from: ${uri} has ${stored} bytes, its manifest says ${manifest.bytes}; refusing to restore it`,
      INTEGRITY,
    );
}
