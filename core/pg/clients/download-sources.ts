import { InputError } from '../../errors.js';
import type { ClientSourceName } from './client-source.js';
import { pgdgRepository, type PgdgRepository } from './pgdg.js';
import type { PlatformInfo } from './platform.js';
import { releaseSource, type ReleaseSource } from './releases.js';

/** The sources a catalog may download from, in the order it tries them. */
export interface DownloadSources {
  /** The theseus releases or a mirror of them. */
  releases?: ReleaseSource;
  /** The PGDG apt repository (Linux only). */
  pgdg?: PgdgRepository;
}

/**
 * What `mirror` means for each `client-source`:
 * - `releases` (and `installed`, `cache`, which never download): the releases mirror's base URL;
 * - `pgdg`: the apt repository as `<base URL> [suite]`;
 * - `auto`: without a mirror, the theseus releases and then apt.postgresql.org (on Linux). A mirror
 *   replaces the public sources (an air-gapped runner asks nothing else): one line per source, a
 *   bare `<base URL>` the releases mirror, `<base URL> <suite>` the apt repository (passed over
 *   where apt packages cannot run, so one mirror setting serves Linux and macOS runners alike).
 */
export function downloadSources(
  clientSource: ClientSourceName,
  mirror: string | undefined,
  platform: PlatformInfo,
): DownloadSources {
  if (clientSource === 'pgdg') return { pgdg: pgdgRepository(mirror, platform.arch) };
  if (clientSource !== 'auto') return { releases: releaseSource(mirror) };
  const lines = (mirror ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0) return { releases: releaseSource(undefined), pgdg: defaultPgdg(platform) };
  const sources: DownloadSources = {};
  const seen = new Set<'pgdg' | 'releases'>();
  for (const line of lines) {
    const kind = line.split(/\s+/).length > 1 ? 'pgdg' : 'releases';
    if (seen.has(kind)) {
      throw new InputError(
        'mirror',
        `names two ${kind === 'pgdg' ? 'apt repositories' : 'releases mirrors'}; expected at most one "<base URL>" line and one "<base URL> <suite>" line`,
      );
    }
    seen.add(kind);
    if (kind === 'releases') sources.releases = releaseSource(line);
    else if (runsDebPackages(platform)) sources.pgdg = pgdgRepository(line, platform.arch);
  }
  return sources;
}

/** Whether PGDG's packages run here: glibc Linux. */
function runsDebPackages(platform: PlatformInfo): boolean {
  return platform.platform === 'linux' && platform.libc !== 'musl';
}

/** apt.postgresql.org for this system, or none where its packages cannot run (not glibc Linux, no codename). */
function defaultPgdg(platform: PlatformInfo): PgdgRepository | undefined {
  if (!runsDebPackages(platform)) return undefined;
  try {
    return pgdgRepository(undefined, platform.arch);
  } catch {
    return undefined;
  }
}
