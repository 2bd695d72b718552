import { PgferryError } from './errors.js';

/**
 * Bounds on every network read pgferry makes (client mirror, releases API, S3) and on what a
 * downloaded client archive may unpack to. The defaults are generous for real clients (an archive
 * is 10–30 MB and unpacks to well under 200 MB: 1400 entries and 35 MB for 17.5 on Linux) and fatal for a stuck server or a bomb.
 *
 * `PGFERRY_NETWORK_LIMITS` overrides them, for tests and operators only (it is not an input of the
 * contract): a comma-separated list such as `connect-ms=2000,idle-ms=3000,total-ms=8000`. An
 * unknown name or a value that is not a positive integer is an error, never ignored.
 */
export interface NetworkLimits {
  /** TCP connect plus TLS handshake. */
  connectMs: number;
  /** No byte received (or, for S3, no socket activity) for this long fails the request. */
  idleMs: number;
  /** A whole mirror or releases-API request, body included; for S3, the time until the answer starts. */
  totalMs: number;
  /** A client archive download. */
  downloadBytes: number;
  /** Small answers: `.sha256`, `versions.json`, the releases API. */
  metadataBytes: number;
  /** What a client archive decompresses to (tar headers and all entries, kept or not). */
  unpackBytes: number;
  /** Entries in a client archive. */
  unpackEntries: number;
}

export const LIMITS_ENV = 'PGFERRY_NETWORK_LIMITS';

export const DEFAULT_NETWORK_LIMITS: Readonly<NetworkLimits> = {
  connectMs: 15_000,
  idleMs: 60_000,
  totalMs: 15 * 60_000,
  downloadBytes: 256 * 1024 * 1024,
  metadataBytes: 32 * 1024 * 1024,
  unpackBytes: 1024 * 1024 * 1024,
  unpackEntries: 10_000,
};

const NAMES: Readonly<Record<string, keyof NetworkLimits>> = {
  'connect-ms': 'connectMs',
  'idle-ms': 'idleMs',
  'total-ms': 'totalMs',
  'download-bytes': 'downloadBytes',
  'metadata-bytes': 'metadataBytes',
  'unpack-bytes': 'unpackBytes',
  'unpack-entries': 'unpackEntries',
};

export function parseNetworkLimits(text: string | undefined): NetworkLimits {
  const limits = { ...DEFAULT_NETWORK_LIMITS };
  for (const part of (text ?? '').split(',')) {
    const item = part.trim();
    if (!item) continue;
    const [name = '', value = '', ...rest] = item.split('=').map((s) => s.trim());
    const key = NAMES[name];
    if (!key) {
      throw new PgferryError(
        `${LIMITS_ENV}: unknown limit "${name}"; expected one of ${Object.keys(NAMES).join(', ')}`,
      );
    }
    if (rest.length > 0 || !/^[1-9]\d*$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw new PgferryError(`${LIMITS_ENV}: ${name} must be a positive integer, got "${value}"`);
    }
    limits[key] = Number(value);
  }
  return limits;
}

/** The limits in force for this process (defaults, or the environment's override). */
export function networkLimits(env: NodeJS.ProcessEnv = process.env): NetworkLimits {
  return parseNetworkLimits(env[LIMITS_ENV]);
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
