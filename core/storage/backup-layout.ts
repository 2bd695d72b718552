/**
 * Where backups live in the bucket (DESIGN.md, "Storage"):
 * `<prefix>/<database>/<yyyy>/<mm>/<dd>/<database>-<yyyymmddThhmmssZ>.dump`, its manifest at
 * `<that>.json`, and `<prefix>/<database>/latest.json` pointing at the newest verified one.
 */
export type Tier = 'daily' | 'weekly' | 'monthly';
export const TIER_TAG = 'pgferry-tier';

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function join(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
}

export function compactTimestamp(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

export function backupKey(prefix: string, database: string, at: Date): string {
  const day = [String(at.getUTCFullYear()), pad(at.getUTCMonth() + 1), pad(at.getUTCDate())];
  return join(prefix, database, ...day, `${database}-${compactTimestamp(at)}.dump`);
}

export function manifestKey(dumpKey: string): string {
  return `${dumpKey}.json`;
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
