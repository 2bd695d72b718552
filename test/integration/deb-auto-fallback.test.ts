import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { ClientCatalog } from '../../core/pg/clients/catalog.js';
import { APT_SUITE, buildAptRepository, type StaticServer } from '../harness/apt-repository.js';
import { makeSigningKey, type SigningKey } from '../harness/apt-signing.js';
import { aptTestBed } from '../harness/apt-testbed.js';
import { failureOf } from '../harness/failure.js';

// client-source auto: installed → cache → releases → the PGDG apt repository, which is asked only
// when the releases lack the version wanted or cannot deliver it.
const TARGET = 'x86_64-unknown-linux-gnu';
const { tempDir, serve } = aptTestBed();
let key: SigningKey;
beforeAll(() => {
  key = makeSigningKey('pgferry-auto-fallback');
});
/** A releases mirror listing `versions` and holding no archive at all. */
async function releasesMirror(versions: string[]): Promise<StaticServer> {
  const root = tempDir('pgferry-releases-');
  writeFileSync(path.join(root, 'versions.json'), JSON.stringify(versions));
  return serve(root);
}

/** An auto catalog with no installed client visible, an empty cache and the given mirror lines. */
function autoCatalog(
  mirror: string,
  log = new RecordingLogger(),
): { catalog: ClientCatalog; cacheDir: string } {
  const cacheDir = tempDir('pgferry-auto-cache-');
  const catalog = new ClientCatalog({
    log,
    clientSource: 'auto',
    mirror,
    cacheDir,
    installedDirs: () => [],
    pgdgKey: key.publicKey,
  });
  return { catalog, cacheDir };
}

describe('client-source auto falls back to the PGDG apt repository', () => {
  it('a major the releases mirror does not list comes from the apt repository', async () => {
    const releases = await releasesMirror(['17.9.0', '18.3.0']);
    const apt = await serve(buildAptRepository(tempDir('pgferry-apt-'), { signWith: key }));
    const { catalog, cacheDir } = autoCatalog(`${releases.url}\n${apt.url} ${APT_SUITE}`);
    // The version policy sees 15 as available (server 15 gets client 15, not 17).
    expect(await catalog.lowestAvailableFrom(15)).toBe(15);
    const tools = await catalog.provide({ major: 15 });
    expect(tools.version).toEqual({ major: 15, minor: 18 });
    expect(tools.binDir).toBe(path.join(cacheDir, '15.18.0', TARGET, 'bin'));
    expect(releases.requests).toEqual(['/versions.json']);
    expect(apt.requests.filter((r) => r.endsWith('.deb'))).toHaveLength(2);
  });

  it('the releases are asked first: a major they list never touches the apt repository', async () => {
    const releases = await releasesMirror(['15.17.0']);
    const apt = await serve(buildAptRepository(tempDir('pgferry-apt-'), { signWith: key }));
    const { catalog } = autoCatalog(`${releases.url}\n${apt.url} ${APT_SUITE}`);
    expect(await catalog.canProvide(15)).toBe(true);
    expect(apt.requests).toEqual([]);
  });

  it('a release the mirror lists but cannot deliver falls back to the apt repository, said', async () => {
    const releases = await releasesMirror(['15.99.0']);
    const apt = await serve(buildAptRepository(tempDir('pgferry-apt-'), { signWith: key }));
    const log = new RecordingLogger();
    const { catalog } = autoCatalog(`${apt.url} ${APT_SUITE}\n${releases.url}`, log);
    const tools = await catalog.provide({ major: 15 });
    expect(tools.version).toEqual({ major: 15, minor: 18 });
    expect(releases.requests).toContain('/15.99.0/postgresql-15.99.0-x86_64-unknown-linux-gnu.tar.gz.sha256');
    expect(log.lines.map((l) => l.message).join('\n')).toMatch(
      /15\.99\.0 could not be downloaded from the releases \(.*HTTP 404.*\); trying 15\.18\.0 from the PGDG apt repository/,
    );
  });

  it('a mirror that names only a releases mirror replaces both public sources', async () => {
    const releases = await releasesMirror(['17.9.0']);
    const { catalog, cacheDir } = autoCatalog(releases.url);
    const error = await failureOf(catalog.provide({ major: 15 }));
    expect(error.message).toBe(
      `PostgreSQL client 15 is not installed and the mirror ${releases.url} does not publish it`,
    );
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('neither source having the major says both', async () => {
    const releases = await releasesMirror(['17.9.0']);
    const apt = await serve(buildAptRepository(tempDir('pgferry-apt-'), { signWith: key }));
    const { catalog, cacheDir } = autoCatalog(`${releases.url}\n${apt.url} ${APT_SUITE}`);
    const error = await failureOf(catalog.provide({ major: 16 }));
    expect(error.message).toBe(
      `PostgreSQL client 16 is not installed and neither the mirror ${releases.url} nor the PGDG apt repository (${apt.url}/dists/${APT_SUITE}/main/binary-amd64/Packages) publishes it`,
    );
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('a tampered apt repository stops the run instead of being skipped', async () => {
    const releases = await releasesMirror(['17.9.0']);
    const apt = await serve(buildAptRepository(tempDir('pgferry-apt-'), { signWith: 'unsigned' }));
    const { catalog, cacheDir } = autoCatalog(`${releases.url}\n${apt.url} ${APT_SUITE}`);
    const error = await failureOf(catalog.provide({ major: 15 }));
    expect(error.message).toMatch(/is not signed by the trusted PGDG key/);
    expect(readdirSync(cacheDir)).toEqual([]);
  });
});
