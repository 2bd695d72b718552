import { InputError, PgferryError } from '../errors.js';
import { lowestMajorReading, majorReads, maxArchiveVersionForMajor, type ArchiveFacts } from './archive.js';
import { STATISTICS_SINCE } from './script-statements.js';
import { formatVersion, type PgVersion, type VersionRequest } from './version.js';

/** What the policy needs to know about which client majors can be had (ClientCatalog answers). */
export interface ClientAvailability {
  /** The lowest major ≥ `from` that can be had, with no upper bound (no ceiling, DESIGN.md). */
  lowestAvailableFrom(from: number): Promise<number | undefined>;
  highestAvailable(): Promise<number | undefined>;
  /** Added to "none can be had" messages: what the user can do about it (e.g. downloads are off). */
  readonly unavailableHint?: string;
}

function noneCanBeHad(catalog: ClientAvailability): string {
  return catalog.unavailableHint ?? 'none is installed, cached or published for this platform';
}

export interface ClientChoice {
  /** The client version to provision: a major, or major.minor when pinned exactly. */
  version: PgVersion;
  /** Why, in a sentence a user can read in a job summary. */
  reason: string;
  warnings: string[];
}

/** How a restore reaches the target. */
export type RestorePath =
  /** pg_restore straight into the target (parallel when the archive allows). */
  | 'pg_restore'
  /** pg_restore -f - → drop session settings the target does not know → psql with ON_ERROR_STOP. */
  | 'script'
  /** a plain SQL dump through psql with ON_ERROR_STOP. */
  | 'psql';

export interface RestoreChoice extends ClientChoice {
  path: RestorePath;
}

/**
 * The archive version each known pg_dump major writes (custom, tar and directory formats); undefined
 * for a newer major, whose archives the pg_dump version in their header speaks for.
 */
export function archiveVersionWrittenBy(major: number): string | undefined {
  return maxArchiveVersionForMajor(major);
}

function requested(request: VersionRequest): PgVersion | undefined {
  if (request.kind === 'auto') return undefined;
  return request.kind === 'exact' ? { major: request.major, minor: request.minor } : { major: request.major };
}

async function lowestAvailable(
  catalog: ClientAvailability,
  desired: number,
  what: string,
  why?: string,
): Promise<{ major: number; warnings: string[] }> {
  const major = await catalog.lowestAvailableFrom(desired);
  if (major === undefined) {
    throw new PgferryError(
      `no PostgreSQL client of major ${desired} or newer can be had for ${what}${why ? ` (${why})` : ''}: ${noneCanBeHad(catalog)}`,
    );
  }
  const warnings =
    major === desired
      ? []
      : [
          `no PostgreSQL ${desired} client could be had; using ${major}, the lowest newer major available, for ${what}`,
        ];
  return { major, warnings };
}

/**
 * Dump (and copy source): client major = source server major; pg_dump refuses servers newer than
 * itself, and a newer pg_dump writes syntax only newer servers accept.
 */
export async function chooseDumpClient(
  server: PgVersion,
  request: VersionRequest,
  catalog: ClientAvailability,
): Promise<ClientChoice> {
  const pinned = requested(request);
  if (pinned) {
    if (pinned.major < server.major) {
      throw new InputError(
        'postgres-version',
        `pg_dump ${formatVersion(pinned)} cannot dump a PostgreSQL ${formatVersion(server)} server; expected ${server.major} or newer (or auto)`,
      );
    }
    const warnings =
      pinned.major > server.major
        ? [
            `pg_dump ${formatVersion(pinned)} is newer than the ${server.major} source server; its dump may not restore into a ${server.major} server without pgferry's filtering`,
          ]
        : [];
    return { version: pinned, reason: `postgres-version pins ${formatVersion(pinned)}`, warnings };
  }
  const { major, warnings } = await lowestAvailable(
    catalog,
    server.major,
    `dumping a PostgreSQL ${server.major} server`,
  );
  const reason =
    major === server.major
      ? `the source server runs PostgreSQL ${formatVersion(server)}`
      : `the source server runs PostgreSQL ${formatVersion(server)} and no ${server.major} client could be had`;
  return { version: { major }, reason, warnings };
}

export interface RestoreInputs {
  archive: ArchiveFacts;
  target: PgVersion;
  request: VersionRequest;
  allowDowngrade: boolean;
}

/**
 * The target's own major when its pg_restore reads the archive, else the lowest that does: the
 * table of known archive versions for older readers, the pg_dump named in the header for newer ones.
 */
function desiredRestoreMajor(archive: ArchiveFacts, target: PgVersion): number {
  if (archive.format === 'plain') return target.major;
  if (!archive.archiveVersion) {
    // A copy whose pg_dump is newer than the table: what it writes is unknown, so its own major reads it.
    const writer = archive.dumpVersion?.major;
    const unknownWriter = writer !== undefined && archiveVersionWrittenBy(writer) === undefined;
    return unknownWriter ? Math.max(target.major, writer) : target.major;
  }
  if (majorReads(target.major, archive)) return target.major;
  const lowest = lowestMajorReading(archive.archiveVersion, archive.dumpVersion);
  if (lowest === undefined) {
    throw new PgferryError(
      `the archive has format version ${archive.archiveVersion}, which no pg_restore reads (pg_dump writes 1.x)`,
    );
  }
  return lowest;
}

/** "format 1.17, written by pg_dump 19.0", as far as the archive says. */
function describeArchive(archive: ArchiveFacts): string {
  const parts: string[] = [];
  if (archive.archiveVersion) parts.push(`format ${archive.archiveVersion}`);
  if (archive.dumpVersion) parts.push(`written by pg_dump ${formatVersion(archive.dumpVersion)}`);
  return parts.join(', ') || 'format unknown';
}

/**
 * Restore (and copy target): the target's major when it reads the archive, else the lowest that
 * does. A pg_restore ≥ 17 sends `SET transaction_timeout`, which servers ≤ 16 reject, and a dump of
 * a newer source is a downgrade: both go through the filtered script path.
 */
export async function chooseRestoreClient(
  inputs: RestoreInputs,
  catalog: ClientAvailability,
): Promise<RestoreChoice> {
  const { archive, target, request, allowDowngrade } = inputs;
  const warnings: string[] = [];
  const source = archive.serverVersion;
  const downgrade = source !== undefined && source.major > target.major;
  if (downgrade && !allowDowngrade) {
    throw new InputError(
      'allow-downgrade',
      `the dump comes from a PostgreSQL ${formatVersion(source)} server and the target runs PostgreSQL ${formatVersion(target)}: restoring into an older major is a downgrade and is refused; set allow-downgrade to true to restore it through a filtered SQL script`,
    );
  }
  const desired = desiredRestoreMajor(archive, target);
  const pinned = requested(request);
  let version: PgVersion;
  let reason: string;
  if (pinned) {
    if (archive.format !== 'plain' && !majorReads(pinned.major, archive)) {
      throw new InputError(
        'postgres-version',
        `pg_restore ${formatVersion(pinned)} cannot read archive format ${archive.archiveVersion}; expected ${desired} or newer (or auto)`,
      );
    }
    version = pinned;
    reason = `postgres-version pins ${formatVersion(pinned)}`;
  } else {
    const auto = await autoRestoreClient(archive, target, desired, catalog);
    ({ version, reason } = auto);
    warnings.push(...auto.warnings);
  }

  let path: RestorePath = archive.format === 'plain' ? 'psql' : 'pg_restore';
  if (path === 'pg_restore' && downgrade) {
    path = 'script';
    warnings.push(
      `restoring a PostgreSQL ${source ? formatVersion(source) : '?'} dump into PostgreSQL ${formatVersion(target)} (a downgrade, allowed): going through a filtered SQL script; objects the older server does not support will fail the restore`,
    );
  } else if (path === 'pg_restore' && version.major >= 17 && target.major <= 16) {
    path = 'script';
    warnings.push(
      `pg_restore ${version.major} sets transaction_timeout, which PostgreSQL ${target.major} does not know: restoring through a SQL script with that setting filtered out (no parallel restore on this path)`,
    );
  }
  return { version, reason, warnings, path };
}

/** The restore client under postgres-version auto, and why. */
async function autoRestoreClient(
  archive: ArchiveFacts,
  target: PgVersion,
  desired: number,
  catalog: ClientAvailability,
): Promise<ClientChoice> {
  const skipping = await statisticsSkippingReader(archive, target, desired, catalog);
  if (skipping !== undefined) {
    return {
      version: { major: skipping },
      reason: `the archive (${describeArchive(archive)}) may hold planner statistics, which PostgreSQL ${formatVersion(target)} cannot take: pg_restore ${skipping} leaves them out`,
      warnings: [],
    };
  }
  const found = await lowestAvailable(
    catalog,
    desired,
    `restoring into a PostgreSQL ${target.major} server`,
    desired > target.major
      ? `the archive, ${describeArchive(archive)}, needs pg_restore ${desired} or newer`
      : undefined,
  );
  const reason =
    found.major === target.major
      ? `the target server runs PostgreSQL ${formatVersion(target)}`
      : desired === target.major
        ? `the target server runs PostgreSQL ${formatVersion(target)} and no ${target.major} client could be had`
        : `the archive (${describeArchive(archive)}) needs pg_restore ${desired} or newer`;
  return { version: { major: found.major }, reason, warnings: found.warnings };
}

/**
 * An archive pg_dump 18+ wrote may hold planner statistics, which a target before 18 cannot take.
 * pg_restore 18+ leaves them out (--no-statistics) before they reach the target; an older
 * pg_restore passes them on for the script filter to drop, and a statistics call too long for the
 * filter to hold is then a refusal. So the lowest 18+ major is preferred when one can be had;
 * undefined: none can, or the archive cannot hold statistics, or the reader is 18+ anyway.
 */
async function statisticsSkippingReader(
  archive: ArchiveFacts,
  target: PgVersion,
  desired: number,
  catalog: ClientAvailability,
): Promise<number | undefined> {
  if (archive.format === 'plain' || target.major >= STATISTICS_SINCE || desired >= STATISTICS_SINCE)
    return undefined;
  // pg_dump is never older than the server it dumped.
  const writer = archive.dumpVersion?.major ?? archive.serverVersion?.major;
  if (writer === undefined || writer < STATISTICS_SINCE) return undefined;
  return catalog.lowestAvailableFrom(STATISTICS_SINCE);
}

/** Copy: the dump side decides the archive version the restore side must read. */
export async function chooseCopyClients(
  source: PgVersion,
  target: PgVersion,
  request: VersionRequest,
  allowDowngrade: boolean,
  catalog: ClientAvailability,
): Promise<{ dump: ClientChoice; restore: RestoreChoice }> {
  const dump = await chooseDumpClient(source, request, catalog);
  const archive: ArchiveFacts = {
    format: 'custom',
    archiveVersion: archiveVersionWrittenBy(dump.version.major),
    compression: 'none',
    serverVersion: source,
    dumpVersion: { major: dump.version.major },
  };
  const restore = await chooseRestoreClient(
    { archive, target, request: { kind: 'auto' }, allowDowngrade },
    catalog,
  );
  return { dump, restore };
}

/**
 * Install: the tools for a given server (as for a dump of it), a pinned version, or — with neither —
 * the newest major, which can dump and restore every older server.
 */
export async function chooseInstallClient(
  server: PgVersion | undefined,
  request: VersionRequest,
  catalog: ClientAvailability,
): Promise<ClientChoice> {
  if (server) return chooseDumpClient(server, request, catalog);
  const pinned = requested(request);
  if (pinned)
    return { version: pinned, reason: `postgres-version pins ${formatVersion(pinned)}`, warnings: [] };
  const major = await catalog.highestAvailable();
  if (major === undefined) {
    throw new PgferryError(`no PostgreSQL client can be had: ${noneCanBeHad(catalog)}`);
  }
  return {
    version: { major },
    reason: 'the newest client available (no server or version given)',
    warnings: [],
  };
}
