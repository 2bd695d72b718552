import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  APT_SUITE,
  buildAptRepository,
  type AptRepositoryOptions,
  type StaticServer,
} from '../harness/apt-repository.js';
import { makeSigningKey, type SigningKey } from '../harness/apt-signing.js';
import { aptTestBed, pgdgCatalog } from '../harness/apt-testbed.js';
import { failureOf } from '../harness/failure.js';

// The PGDG source trusts nothing the repository says until gpgv has checked InRelease against the
// one trusted key, and the Packages index against the SHA-256 that signed Release lists.
const { tempDir, serve } = aptTestBed();
let trusted: SigningKey;
let stranger: SigningKey;
beforeAll(() => {
  trusted = makeSigningKey('pgferry-trusted');
  stranger = makeSigningKey('pgferry-stranger');
});
/** A repository built with `options`, then changed on disk by `tamper` (what an attacker serves). */
async function repository(
  options: Partial<AptRepositoryOptions>,
  tamper?: (suiteDir: string) => void,
): Promise<StaticServer> {
  const root = buildAptRepository(tempDir('pgferry-apt-'), { signWith: trusted, ...options });
  tamper?.(path.join(root, 'dists', APT_SUITE));
  const server = await serve(root);
  return server;
}

async function attempt(repo: StaticServer): Promise<{ message: string; cacheDir: string }> {
  const cacheDir = tempDir('pgferry-deb-cache-');
  const error = await failureOf(pgdgCatalog(repo, cacheDir, trusted).provide({ major: 15 }));
  return { message: error.message, cacheDir };
}

const inRelease = (repo: StaticServer): string => `${repo.url}/dists/${APT_SUITE}/InRelease`;

describe('the PGDG source checks the signed Release before it trusts the index', () => {
  it.each<[string, () => Partial<AptRepositoryOptions>, ((dir: string) => void) | undefined, RegExp]>([
    [
      'an InRelease changed after signing',
      () => ({}),
      (dir) => {
        const file = path.join(dir, 'InRelease');
        writeFileSync(file, readFileSync(file, 'utf8').replace('Label: PostgreSQL', 'Label: PostgreSQI'));
      },
      /is not signed by the trusted PGDG key \(gpgv: BAD signature from .*\); nothing was downloaded$/,
    ],
    [
      'an InRelease signed by another key',
      () => ({ signWith: stranger }),
      undefined,
      /is not signed by the trusted PGDG key \(gpgv: .*\); nothing was downloaded$/,
    ],
    [
      'an unsigned Release served as InRelease',
      () => ({ signWith: 'unsigned' }),
      undefined,
      /is not signed by the trusted PGDG key \(gpgv: .*\); nothing was downloaded$/,
    ],
  ])('%s is refused', async (_what, options, tamper, message) => {
    const repo = await repository(options(), tamper);
    const { message: said, cacheDir } = await attempt(repo);
    expect(said.startsWith(`client-source pgdg: ${inRelease(repo)} `)).toBe(true);
    expect(said).toMatch(message);
    expect(readdirSync(cacheDir)).toEqual([]);
    // Not even the index was asked for, let alone a package.
    expect(repo.requests.filter((r) => !r.endsWith('/InRelease'))).toEqual([]);
  });

  it('a Packages index changed after the Release was signed is refused, nothing downloaded', async () => {
    const repo = await repository({}, (dir) => {
      const file = path.join(dir, 'main', 'binary-amd64', 'Packages');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^Version: 15\./m, 'Version: 15.9'));
    });
    const { message, cacheDir } = await attempt(repo);
    expect(message).toMatch(
      /^main\/binary-amd64\/Packages does not match the signed Release: SHA-256 [0-9a-f]{64} \(\d+ bytes\), the Release says [0-9a-f]{64} \(\d+ bytes\); nothing was downloaded$/,
    );
    expect(readdirSync(cacheDir)).toEqual([]);
    expect(repo.requests.some((r) => r.endsWith('.deb'))).toBe(false);
  });

  it.each<[string, (release: string) => string, RegExp]>([
    [
      'the Release of another suite',
      (r) => r.replace(/^(Suite|Codename): .*$/gm, '$1: bullseye-pgdg'),
      /is the Release of bullseye-pgdg \/ bullseye-pgdg, not of bookworm-pgdg; nothing was downloaded$/,
    ],
    [
      'an expired Release (a replayed old copy)',
      (r) => r.replace(/^Date: .*$/m, (d) => `${d}\nValid-Until: Sat, 01 Jan 2022 00:00:00 UTC`),
      /expired \(Valid-Until 2022-01-01T00:00:00\.000Z\): a stale copy of the repository; nothing was downloaded$/,
    ],
    [
      'a Release that does not list the index',
      (r) => r.replace('main/binary-amd64/Packages', 'main/binary-arm64/Packages'),
      /lists no SHA256 for main\/binary-amd64\/Packages; nothing was downloaded$/,
    ],
  ])('%s, properly signed, is refused', async (_what, editRelease, message) => {
    const repo = await repository({ editRelease });
    const { message: said, cacheDir } = await attempt(repo);
    expect(said.startsWith(`client-source pgdg: ${inRelease(repo)} `)).toBe(true);
    expect(said).toMatch(message);
    expect(readdirSync(cacheDir)).toEqual([]);
    expect(repo.requests.some((r) => r.endsWith('.deb'))).toBe(false);
  });

  it('a repository with no InRelease is refused, not read unsigned', async () => {
    const repo = await repository({}, (dir) => rmSync(path.join(dir, 'InRelease')));
    const { message, cacheDir } = await attempt(repo);
    expect(message).toMatch(/^client-source pgdg: the signed InRelease from .* failed: HTTP 404$/);
    expect(readdirSync(cacheDir)).toEqual([]);
    expect(repo.requests.filter((r) => !r.endsWith('/InRelease'))).toEqual([]);
  });
});
