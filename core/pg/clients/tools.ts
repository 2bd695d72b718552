import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PgferryError } from '../../errors.js';
import { exeName } from './platform.js';
import { stagedLibraryEnv } from '../run.js';
import { formatVersion, parseVersionString, type PgVersion } from '../version.js';

export type ClientToolName = 'pg_dump' | 'pg_restore' | 'psql' | 'pg_dumpall';
export const CLIENT_TOOLS: readonly ClientToolName[] = ['pg_dump', 'pg_restore', 'psql', 'pg_dumpall'];

export type ClientSource = 'explicit' | 'installed' | 'cache' | 'download';

/** A directory holding pg_dump, pg_restore, psql and pg_dumpall of one verified version. */
export interface ClientTools {
  binDir: string;
  version: PgVersion;
  source: ClientSource;
}

/** Tools always run by absolute path: a wrapper on PATH may pick another major. */
export function toolPath(tools: Pick<ClientTools, 'binDir'>, tool: ClientToolName): string {
  return path.join(tools.binDir, exeName(tool));
}

export function hasClientTools(binDir: string): boolean {
  return CLIENT_TOOLS.every((t) => existsSync(path.join(binDir, exeName(t))));
}

const run = promisify(execFile);

async function toolVersion(binDir: string, tool: ClientToolName): Promise<PgVersion> {
  const file = path.join(binDir, exeName(tool));
  let stdout: string;
  try {
    ({ stdout } = await run(file, ['--version'], {
      timeout: 20_000,
      env: { PATH: process.env.PATH ?? '', ...stagedLibraryEnv(binDir) },
    }));
  } catch (error) {
    throw new PgferryError(`${file} does not run: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  const version = parseVersionString(stdout.replace(/^[^)]*\)/, ''));
  if (!version) throw new PgferryError(`${file} --version printed no version: ${stdout.trim()}`);
  return version;
}

/** `<tool> --version` of each tool in binDir (asked side by side); they must all be one version. */
export async function probeClientVersion(binDir: string): Promise<PgVersion> {
  const versions = await Promise.all(CLIENT_TOOLS.map((tool) => toolVersion(binDir, tool)));
  const found = versions[0];
  if (!found) throw new PgferryError(`${binDir} holds no client tools`);
  versions.forEach((version, i) => {
    if (found.major !== version.major || found.minor !== version.minor) {
      throw new PgferryError(
        `${binDir} mixes versions: ${formatVersion(found)} and ${CLIENT_TOOLS[i]} ${formatVersion(version)}`,
      );
    }
  });
  return found;
}

/** After provisioning, the tools must be exactly what was asked for. */
export async function verifyClientTools(
  binDir: string,
  want: PgVersion,
  source: ClientSource,
): Promise<ClientTools> {
  const version = await probeClientVersion(binDir);
  if (version.major !== want.major || (want.minor !== undefined && version.minor !== want.minor)) {
    throw new PgferryError(
      `the client tools in ${binDir} are version ${formatVersion(version)}, but ${formatVersion(want)} was asked for`,
    );
  }
  return { binDir, version, source };
}
