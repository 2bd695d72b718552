import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PgferryError } from '../../errors.js';

const run = promisify(execFile);

/** The binary OpenPGP packets of an ASCII-armored key block (gpgv reads binary keyrings only). */
export function dearmorKey(armored: string, what: string): Buffer {
  const m =
    /-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n(?:[^\r\n]+\r?\n)*?\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/.exec(
      armored,
    );
  const body = m?.[1]
    ?.split(/\r?\n/)
    .filter((line) => line !== '' && !line.startsWith('='))
    .join('');
  if (!body || !/^[A-Za-z0-9+/]+=*$/.test(body)) {
    throw new PgferryError(`${what} is not an ASCII-armored OpenPGP public key block`);
  }
  return Buffer.from(body, 'base64');
}

/**
 * The text of a clear-signed `InRelease` whose signature gpgv checks against `armoredKey` alone
 * (a keyring holding that one key). An unsigned, altered or otherwise-signed file is refused.
 */
export async function verifyInRelease(inRelease: Buffer, armoredKey: string, what: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-gpgv-'));
  try {
    const keyring = path.join(dir, 'trusted.gpg');
    const signed = path.join(dir, 'InRelease');
    const output = path.join(dir, 'Release');
    await writeFile(keyring, dearmorKey(armoredKey, 'the trusted PGDG key'));
    await writeFile(signed, inRelease);
    try {
      await run('gpgv', ['--quiet', '--keyring', keyring, '--output', output, signed], {
        env: { ...process.env, GNUPGHOME: dir, LC_ALL: 'C' },
        timeout: 60_000,
        maxBuffer: 1024 * 1024,
      });
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') {
        throw new PgferryError(
          `${what}: checking the repository's signature needs gpgv, which is not installed (Debian/Ubuntu: apt-get install gpgv)`,
        );
      }
      const said = (e.stderr ?? '').trim().split('\n').at(-1) ?? '';
      throw new PgferryError(
        `${what} is not signed by the trusted PGDG key${said ? ` (gpgv: ${said.replace(/^gpgv: /, '')})` : ''}; nothing was downloaded`,
      );
    }
    return await readFile(output, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What pgferry reads of a `Release` file: its suite names, expiry and SHA-256 list. */
export interface AptRelease {
  suites: string[];
  validUntil?: Date;
  /** Index path (`main/binary-amd64/Packages`) → its SHA-256 and size. */
  sha256: Map<string, { sha256: string; size: number }>;
}

export function parseRelease(text: string, what: string): AptRelease {
  const release: AptRelease = { suites: [], sha256: new Map() };
  let field = '';
  for (const line of text.split(/\r?\n/)) {
    const head = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (head?.[1] !== undefined && head[2] !== undefined) {
      field = head[1].toLowerCase();
      const value = head[2].trim();
      if (field === 'suite' || field === 'codename') release.suites.push(value);
      if (field === 'valid-until') {
        release.validUntil = new Date(value);
        if (Number.isNaN(release.validUntil.getTime()))
          throw new PgferryError(`${what} has an unreadable Valid-Until: "${value}"`);
      }
      continue;
    }
    const entry = /^\s+([0-9a-fA-F]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (field === 'sha256' && entry?.[1] && entry[2] && entry[3]) {
      release.sha256.set(entry[3], { sha256: entry[1].toLowerCase(), size: Number(entry[2]) });
    }
  }
  if (release.sha256.size === 0) throw new PgferryError(`${what} is not an apt Release: it lists no SHA256`);
  return release;
}

/**
 * The signed Release vouches for the index: right suite, not expired, and the `Packages` file's
 * size and SHA-256 as it lists them.
 */
export function checkIndexAgainstRelease(
  release: AptRelease,
  index: { path: string; body: Buffer; suite: string },
  what: string,
  now = new Date(),
): void {
  if (!release.suites.includes(index.suite)) {
    throw new PgferryError(
      `${what} is the Release of ${release.suites.join(' / ') || 'no suite'}, not of ${index.suite}; nothing was downloaded`,
    );
  }
  if (release.validUntil && !(release.validUntil.getTime() > now.getTime())) {
    throw new PgferryError(
      `${what} expired (Valid-Until ${release.validUntil.toISOString()}): a stale copy of the repository; nothing was downloaded`,
    );
  }
  const listed = release.sha256.get(index.path);
  if (!listed) throw new PgferryError(`${what} lists no SHA256 for ${index.path}; nothing was downloaded`);
  const actual = createHash('sha256').update(index.body).digest('hex');
  if (actual !== listed.sha256 || index.body.length !== listed.size) {
    throw new PgferryError(
      `${index.path} does not match the signed Release: SHA-256 ${actual} (${index.body.length} bytes), the Release says ${listed.sha256} (${listed.size} bytes); nothing was downloaded`,
    );
  }
}
