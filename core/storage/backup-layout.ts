import { randomBytes } from 'node:crypto';

/**
 * Where backups live in the bucket (DESIGN.md, "Storage"):
 * `<prefix>/<database>/<yyyy>/<mm>/<dd>/<database>-<yyyymmddThhmmss.mmmZ>-<random>.dump`, its
 * manifest at `<that>.json`, and `<prefix>/<database>/latest.json` pointing at the newest verified
 * one. The milliseconds and the random part keep two backups of one database from ever sharing a
 * key, however close together they start.
 */
export type Tier = 'daily' | 'weekly' | 'monthly';
export const TIER_TAG = 'pgferry-tier';
/**
 * Put on the parts of a sharded backup that completed when another part's completion failed: no
 * manifest names them, and a lifecycle rule (infra/bucket.ts) expires them (the writer cannot delete).
 */
export const INCOMPLETE_TAG = 'pgferry-incomplete';

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function join(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
}

/** `20261124T025538.412Z`: sortable, readable, and millisecond-exact. */
export function compactTimestamp(d: Date): string {
  const date = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  return `${date}T${time}.${pad(d.getUTCMilliseconds(), 3)}Z`;
}

/** Eight hex digits (32 random bits): two backups started in the same millisecond still differ. */
export function randomPart(): string {
  return randomBytes(4).toString('hex');
}

export function backupKey(prefix: string, database: string, at: Date, random: string = randomPart()): string {
  if (!/^[0-9a-z]{1,16}$/.test(random))
    throw new Error(`a key's random part must be short [0-9a-z], not ${random}`);
  const day = [String(at.getUTCFullYear()), pad(at.getUTCMonth() + 1), pad(at.getUTCDate())];
  return join(prefix, database, ...day, `${database}-${compactTimestamp(at)}-${random}.dump`);
}

/** Part `index` of a sharded backup, beside its manifest: `<key>.part-00.dump`, `<key>.part-01.dump`, … */
export function partKey(dumpKey: string, index: number): string {
  return `${dumpKey}.part-${String(index).padStart(2, '0')}.dump`;
}

export function manifestKey(dumpKey: string): string {
  return `${dumpKey}.json`;
}

/** `<prefix>/<database>/`: everything one database's backups write lies under it. */
export function databaseDir(prefix: string, database: string): string {
  return `${join(prefix, database)}/`;
}

/** Whether `key` (under a database's dir) is a backup's manifest, not its dump or latest.json. */
export function isManifestKey(key: string): boolean {
  return key.endsWith('.dump.json');
}

export function latestKey(prefix: string, database: string): string {
  return join(prefix, database, 'latest.json');
}

/** Monthly on the 1st, weekly on Sundays, daily otherwise (UTC): lifecycle rules expire each tier. */
export function tierFor(at: Date): Tier {
  if (at.getUTCDate() === 1) return 'monthly';
  if (at.getUTCDay() === 0) return 'weekly';
  return 'daily';
}
