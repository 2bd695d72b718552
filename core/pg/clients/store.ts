import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../log.js';

/** Marks a complete entry of a DirectoryStore; an entry without it is never used. */
export const ENTRY_MARKER = '.pgferry-entry.json';

/**
 * Where provisioned clients are kept. The engine's default is a directory; the Action plugs in the
 * runner's tool cache. An entry is a directory with bin/ and lib/.
 */
export interface ClientStore {
  /** Release versions (`17.5.0`) with a complete entry for this target. */
  versions(target: string): Promise<string[]>;
  /** The bin directory of a complete entry. */
  binDir(version: string, target: string): string;
  /** A private directory to download and extract into, removed by the caller. */
  workDir(version: string, target: string): Promise<string>;
  /** Makes a verified, extracted entry visible at once and returns its bin directory. */
  commit(extracted: string, version: string, target: string, log: Logger): Promise<string>;
}

/**
 * `<root>/<version>/<target>/`: work directories sit beside the entry so that one rename publishes
 * it. Two processes racing for one version each build their own; the loser discards its copy.
 */
export class DirectoryStore implements ClientStore {
  constructor(readonly root: string) {}

  async versions(target: string): Promise<string[]> {
    const versions = await readdir(this.root).catch(() => [] as string[]);
    return versions.filter((v) => existsSync(path.join(this.root, v, target, ENTRY_MARKER)));
  }

  binDir(version: string, target: string): string {
    return path.join(this.root, version, target, 'bin');
  }

  async workDir(version: string, target: string): Promise<string> {
    const parent = path.join(this.root, version);
    await mkdir(parent, { recursive: true });
    await sweepStaleWork(parent);
    const work = path.join(parent, `.tmp-${target}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(work);
    return work;
  }

  async commit(extracted: string, version: string, target: string, log: Logger): Promise<string> {
    try {
      await rename(extracted, path.join(this.root, version, target));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      log.debug(`another process cached ${version} first; using its copy`);
    }
    return this.binDir(version, target);
  }

  /** After a failed download: no empty version directory stays behind. */
  async tidy(version: string): Promise<void> {
    const parent = path.join(this.root, version);
    if ((await readdir(parent).catch(() => ['?'])).length === 0)
      await rm(parent, { recursive: true, force: true });
  }
}

/** `cache: false`: entries live in a temporary directory for this process only. */
export async function temporaryStore(): Promise<DirectoryStore> {
  return new DirectoryStore(await mkdtemp(path.join(os.tmpdir(), 'pgferry-client-')));
}

/** Work directories of processes that died mid-download, older than an hour. */
async function sweepStaleWork(dir: string): Promise<void> {
  const hourAgo = Date.now() - 3600_000;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith('.tmp-')) continue;
    const s = await stat(path.join(dir, name)).catch(() => undefined);
    if (s && s.mtimeMs < hourAgo) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}
