import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Throwaway OpenPGP keys for the loopback apt repository: the tests sign its InRelease with one and
 * tell the catalog (ProvisionOptions.pgdgKey) to trust it instead of the PGDG archive key.
 */
export interface SigningKey {
  /** The armored public key, as the catalog takes it. */
  publicKey: string;
  /** Clear-signs `text` as apt's InRelease is. */
  clearsign(text: string): string;
}

const homes: string[] = [];

function gpg(home: string, args: string[], input?: string): string {
  return execFileSync('gpg', ['--batch', '--quiet', '--homedir', home, ...args], {
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  }).toString();
}

/** A fresh ed25519 signing key in its own GnuPG home (removed by closeSigningKeys). */
export function makeSigningKey(name: string): SigningKey {
  const home = mkdtempSync(path.join(os.tmpdir(), 'pgferry-gpg-'));
  homes.push(home);
  gpg(home, [
    '--passphrase',
    '',
    '--quick-gen-key',
    `${name} <${name}@test.invalid>`,
    'ed25519',
    'sign',
    'never',
  ]);
  return {
    publicKey: gpg(home, ['--armor', '--export']),
    clearsign: (text) => gpg(home, ['--clearsign', '--digest-algo', 'SHA256'], text),
  };
}

/** Stops the gpg-agents the keys started and removes their homes. */
export function closeSigningKeys(): void {
  for (const home of homes.splice(0)) {
    try {
      execFileSync('gpgconf', ['--homedir', home, '--kill', 'all'], { stdio: 'ignore' });
    } catch {
      // No agent was started for this home.
    }
    rmSync(home, { recursive: true, force: true });
  }
}
