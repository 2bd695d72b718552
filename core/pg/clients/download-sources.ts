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
 *   bare `<base URL>` the releases mirror, `<base URL> <suite>` the apt repository.
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
  for (const line of lines) {
    const kind = line.split(/\s+/).length > 1 ? 'pgdg' : 'releases';
    if (sources[kind]) {
      throw new InputError(
        'mirror',
        `names two ${kind === 'pgdg' ? 'apt repositories' : 'releases mirrors'}; expected at most one "<base URL>" line and one "<base URL> <suite>" line`,
      );
    }
    if (kind === 'pgdg') sources.pgdg = pgdgRepository(line, platform.arch);
    else sources.releases = releaseSource(line);
  }
  return sources;
}

/** apt.postgresql.org for this system, or none where its packages cannot run (not glibc Linux, no codename). */
function defaultPgdg(platform: PlatformInfo): PgdgRepository | undefined {
  if (platform.platform !== 'linux' || platform.libc === 'musl') return undefined;
  try {
    return pgdgRepository(undefined, platform.arch);
  } catch {
    return undefined;
  }
}
