import { realpathSync } from 'node:fs';
import path from 'node:path';
import { hasClientTools, probeClientVersion, type ClientTools } from './tools.js';
import type { PgVersion } from '../version.js';

/** Where packaged clients of one major live: Debian/Ubuntu, RHEL, Homebrew, Windows, the Lambda layer. */
export function installedCandidates(major: number): string[] {
  return [
    `/usr/lib/postgresql/${major}/bin`,
    `/usr/pgsql-${major}/bin`,
    `/opt/homebrew/opt/postgresql@${major}/bin`,
    `/usr/local/opt/postgresql@${major}/bin`,
    `C:\\Program Files\\PostgreSQL\\${major}\\bin`,
    `/opt/pgferry/pg/${major}/bin`,
  ];
}

/** PATH directories with all four tools; Debian's /usr/bin wrappers are probed like any other. */
function pathCandidates(): string[] {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  return [...new Set(dirs)];
}

/**
 * Installed clients of `major` (and minor, when given), found without downloading anything.
 * `dirs` replaces the default places (tests, and callers who know better). With `prefer`, the first
 * client it accepts wins, else the first found (the catalog prefers clients above the security floor).
 */
export async function findInstalledClient(
  major: number,
  minor: number | undefined,
  dirs: readonly string[] = [...installedCandidates(major), ...pathCandidates()],
  prefer?: (version: PgVersion) => boolean,
): Promise<ClientTools | undefined> {
  let first: ClientTools | undefined;
  for (const dir of dirs) {
    if (!hasClientTools(dir) || isDebianWrapper(dir)) continue;
    const version = await probeClientVersion(dir).catch(() => undefined);
    if (version?.major === major && (minor === undefined || version.minor === minor)) {
      const found: ClientTools = { binDir: dir, version, source: 'installed' };
      if (!prefer || prefer(version)) return found;
      first ??= found;
    }
  }
  return first;
}

/** Debian's /usr/bin/pg_dump is pg_wrapper, which picks a major by its own rules: never use it. */
function isDebianWrapper(dir: string): boolean {
  try {
    return path.basename(realpathSync(path.join(dir, 'pg_dump'))) === 'pg_wrapper';
  } catch {
    return false;
  }
}
