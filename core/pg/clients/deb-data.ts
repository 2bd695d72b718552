import { spawn } from 'node:child_process';
import { Duplex, PassThrough, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { PgferryError } from '../../errors.js';
import type { NetworkLimits } from '../../network-limits.js';
import type { ArMember } from './ar-archive.js';
import { INPUT as CLIENT_SOURCE } from './client-source.js';
import { hostileDebEntry } from './deb-entries.js';
import { extractTar } from './unpack.js';

/** A decompressing stream, what ended it, and how to stop it early. */
interface Decompressor {
  stream: Duplex;
  /** Settles when the decompressor is done: undefined if it ended well, else why not. */
  failure: Promise<string | undefined>;
  stop(): void;
}

/**
 * A decompressor for a data.tar member (Node's zlib has no xz; `xz` and `zstd` are the programs
 * GNU tar would have run).
 */
function decompressor(member: string): Decompressor {
  const inProcess = (stream: Duplex): Decompressor => ({
    stream,
    failure: Promise.resolve(undefined),
    stop: () => stream.destroy(),
  });
  if (member === 'data.tar') return inProcess(new PassThrough());
  if (member.endsWith('.gz')) return inProcess(createGunzip());
  const program = member.endsWith('.xz') ? 'xz' : 'zstd';
  const child = spawn(program, ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const stream = Duplex.from({ writable: child.stdin, readable: child.stdout });
  const failure = new Promise<string | undefined>((resolve) => {
    child.once('error', (error) => {
      stream.destroy(error);
      resolve(`${program} could not be run: ${error.message}`);
    });
    child.once('exit', (code, signal) =>
      resolve(code === 0 ? undefined : `${program} ended with ${signal ?? `exit code ${String(code)}`}`),
    );
  });
  // Destroying the stream does not end the process; a refused package must not leave it running.
  const stop = (): void => {
    stream.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill();
  };
  return { stream, failure, stop };
}

/**
 * Extracts a package's data.tar into `root`: every entry judged by hostileDebEntry before it is
 * written; the first hostile one refuses the package (the caller removes what came before it).
 */
export async function extractDebData(
  member: ArMember,
  root: string,
  what: string,
  limits: NetworkLimits,
  signal?: AbortSignal,
): Promise<void> {
  const asset = `${CLIENT_SOURCE} pgdg: ${what}: ${member.name}`;
  const { stream, failure, stop } = decompressor(member.name);
  const admit = (entryPath: string, entry: { type: string; linkpath?: string }): true | PgferryError => {
    const why = hostileDebEntry(entryPath, entry.type, entry.linkpath);
    if (!why) return true;
    return new PgferryError(
      `${asset} holds ${JSON.stringify(entryPath)}, ${why}; the package is refused and nothing was kept`,
    );
  };
  try {
    await extractTar(Readable.from([member.data]), stream, root, { asset, limits, signal, strip: 0, admit });
  } catch (error) {
    stop();
    throw error;
  }
  const failed = await failure;
  if (failed) throw new PgferryError(`${asset} could not be decompressed: ${failed}`);
}
