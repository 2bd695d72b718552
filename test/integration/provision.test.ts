import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { ClientCatalog } from '../../core/pg/clients/catalog.js';
import { rustTarget } from '../../core/pg/clients/platform.js';
import { failureOf } from '../harness/failure.js';
import { mirrorHits } from '../harness/mirror.js';
import { assetName } from '../harness/fixtures.js';
import { mirrorUrl } from '../harness/testbed.js';
import { SYSTEM_CLIENT_DIR } from '../harness/paths.js';

const made: string[] = [];
function tempCache(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgferry-cache-test-'));
  made.push(dir);
  return dir;
}
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Everything under a cache dir, so a failed provisioning can be shown to leave nothing. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String);
}

describe('client provisioning against the loopback mirror', () => {
  it.each([
    [17, '17.5.0'],
    [18, '18.0.0'],
  ])('downloads %i, verifies and caches it, then serves it from the cache', async (major, release) => {
    const cacheDir = tempCache();
    const archivePath = `/${release}/${assetName(release)}`;
    const before = (await mirrorHits(mirrorUrl()))[archivePath] ?? 0;

    const first = await new ClientCatalog({
      log: new RecordingLogger(),
      mirror: mirrorUrl(),
      cacheDir,
    }).provide({ major });
    expect(first.source).toBe('download');
    expect(first.version.major).toBe(major);
    expect(first.binDir).toBe(path.join(cacheDir, release, 'x86_64-unknown-linux-gnu', 'bin'));
    expect(readdirSync(first.binDir).sort()).toEqual(['pg_dump', 'pg_dumpall', 'pg_restore', 'psql']);
    expect((await mirrorHits(mirrorUrl()))[archivePath]).toBe(before + 1);

    const second = await new ClientCatalog({
      log: new RecordingLogger(),
      mirror: mirrorUrl(),
      cacheDir,
    }).provide({ major });
    expect(second.source).toBe('cache');
    expect(second.binDir).toBe(first.binDir);
    expect((await mirrorHits(mirrorUrl()))[archivePath]).toBe(before + 1);
  });

  it('uses the installed client of the exact major before anything else', async () => {
    const tools = await new ClientCatalog({
      log: new RecordingLogger(),
      mirror: mirrorUrl(),
      cacheDir: tempCache(),
    }).provide({
      major: 15,
    });
    expect(tools).toMatchObject({ binDir: SYSTEM_CLIENT_DIR, source: 'installed', version: { major: 15 } });
  });

  it('provides an exact version and refuses one the mirror does not have', async () => {
    const catalog = new ClientCatalog({
      log: new RecordingLogger(),
      mirror: mirrorUrl(),
      cacheDir: tempCache(),
    });
    expect((await catalog.provide({ major: 17, minor: 5 })).version).toEqual({ major: 17, minor: 5 });
    const error = await failureOf(catalog.provide({ major: 17, minor: 9 }));
    expect(error.message).toMatch(
      /PostgreSQL client 17\.9 is not installed and the mirror http:\/\/127\.0\.0\.1:\d+ do(es)? not publish it/,
    );
  });

  it('lets two provisionings of one version race without corrupting the cache', async () => {
    const cacheDir = tempCache();
    const make = () => new ClientCatalog({ log: new RecordingLogger(), mirror: mirrorUrl(), cacheDir });
    const [a, b] = await Promise.all([make().provide({ major: 18 }), make().provide({ major: 18 })]);
    expect(a.binDir).toBe(b.binDir);
    expect(readdirSync(path.join(cacheDir, '18.0.0'))).toEqual(['x86_64-unknown-linux-gnu']);
    expect((await make().provide({ major: 18 })).source).toBe('cache');
  });

  it.each([
    [
      'wrong-sha',
      /failed its checksum: SHA-256 is [0-9a-f]{64}, .*\.sha256 says 0{64}; the download was deleted/,
    ],
    ['corrupt', /failed its checksum/],
    ['missing', /postgresql-17\.5\.0-x86_64-unknown-linux-gnu\.tar\.gz is not published at .* \(HTTP 404\)/],
    [
      'cut',
      /download of postgresql-17\.5\.0-x86_64-unknown-linux-gnu\.tar\.gz from .* (failed after \d+ bytes|was cut short)/,
    ],
  ])('a %s download fails clearly and leaves nothing in the cache', async (fault, message) => {
    const cacheDir = tempCache();
    const catalog = new ClientCatalog({
      log: new RecordingLogger(),
      mirror: `${mirrorUrl()}/faults/${fault}`,
      cacheDir,
    });
    const error = await failureOf(catalog.provide({ major: 17 }));
    expect(error.message).toMatch(message);
    expect(listing(cacheDir)).toEqual([]);
    expect(existsSync(path.join(cacheDir, '17.5.0'))).toBe(false);
  });

  it('names the platform when there are no downloads for it', () => {
    expect(() => rustTarget({ platform: 'freebsd', arch: 'x64' })).toThrow(
      /no PostgreSQL client downloads for freebsd\/x64/,
    );
    expect(rustTarget({ platform: 'linux', arch: 'arm64', libc: 'musl' })).toBe('aarch64-unknown-linux-musl');
    expect(rustTarget({ platform: 'darwin', arch: 'arm64' })).toBe('aarch64-apple-darwin');
    expect(rustTarget({ platform: 'win32', arch: 'x64' })).toBe('x86_64-pc-windows-msvc');
  });
});
