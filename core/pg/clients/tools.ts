import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
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

/**
 * What each directory's tools said, by the files' identity: one run asks the same directory more
 * than once (choosing a client, then providing it), and each ask is four processes. A file replaced
 * or touched since is asked again.
 */
const probed = new Map<string, Promise<PgVersion>>();

function filesIdentity(binDir: string): string | undefined {
  try {
    return CLIENT_TOOLS.map((tool) => {
      const s = statSync(path.join(binDir, exeName(tool)));
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    }).join('|');
  } catch {
    return undefined; // a missing tool: asking reports it
  }
}

/** `<tool> --version` of each tool in binDir (asked side by side); they must all be one version. */
export async function probeClientVersion(binDir: string): Promise<PgVersion> {
  const identity = filesIdentity(binDir);
  if (identity === undefined) return askClientVersion(binDir);
  const key = `${binDir}\0${identity}`;
  let answer = probed.get(key);
  if (!answer) {
    answer = askClientVersion(binDir);
    probed.set(key, answer);
    answer.catch(() => probed.delete(key));
  }
  return answer;
}

async function askClientVersion(binDir: string): Promise<PgVersion> {
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
