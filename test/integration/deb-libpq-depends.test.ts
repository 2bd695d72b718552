import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ClientCatalog } from '../../core/pg/clients/catalog.js';
import { APT_SUITE, buildAptRepository, type StaticServer } from '../harness/apt-repository.js';
import { makeSigningKey, type SigningKey } from '../harness/apt-signing.js';
import { aptTestBed, pgdgCatalog } from '../harness/apt-testbed.js';
import { failureOf } from '../harness/failure.js';

// The libpq5 installed beside a client is the one its Depends asks for, chosen as apt would: the
// newest that meets every condition, not merely the newest listed.
const TARGET = 'x86_64-unknown-linux-gnu';
const { tempDir, serve } = aptTestBed();
let key: SigningKey;
beforeAll(() => {
  key = makeSigningKey('pgferry-libpq-depends');
});
/** A libpq5 stanza for a package the repository does not hold (fetching it would 404). */
function phantomLibpq(version: string): string {
  const file = `pool/main/p/postgresql-phantom/libpq5_${version}_amd64.deb`;
  return `Package: libpq5\nVersion: ${version}\nArchitecture: amd64\nFilename: ${file}\nSize: 1000\nSHA256: ${'ab'.repeat(32)}\n`;
}

/** The client's Depends says `libpq5 <condition>`; the index also lists `phantoms`. */
async function repository(condition: string, phantoms: string[]): Promise<StaticServer> {
  const root = buildAptRepository(tempDir('pgferry-apt-'), {
    signWith: key,
    editIndex: (index) =>
      [
        index
          .replace(
            /^(Package: postgresql-client-15\n[\s\S]*?\nDepends: )libpq5 \([^)]*\)/m,
            `$1libpq5 ${condition}`,
          )
          .trimEnd(),
        ...phantoms.map(phantomLibpq),
      ].join('\n\n'),
  });
  const server = await serve(root);
  return server;
}

function catalog(repo: StaticServer, cacheDir: string): ClientCatalog {
  return pgdgCatalog(repo, cacheDir, key);
}

describe("the libpq5 a PGDG client's Depends asks for", () => {
  it('an exact (= …) condition takes that libpq5 over newer and older ones listed', async () => {
    const repo = await repository('(= 15.18-0+deb12u1)', ['99.0-1.pgdg120+1', '15.10-0+deb12u1']);
    const cacheDir = tempDir('pgferry-deb-cache-');
    const tools = await catalog(repo, cacheDir).provide({ major: 15 });
    expect(tools.version).toEqual({ major: 15, minor: 18 });
    const marker = JSON.parse(
      readFileSync(path.join(cacheDir, '15.18.0', TARGET, '.pgferry-entry.json'), 'utf8'),
    ) as { packages: { name: string; version: string }[] };
    expect(marker.packages).toMatchObject([
      { name: 'postgresql-client-15' },
      { name: 'libpq5', version: '15.18-0+deb12u1' },
    ]);
    expect(repo.requests.filter((r) => r.includes('phantom'))).toEqual([]);
  });

  it('a range (>= …, << …) takes the newest libpq5 inside it', async () => {
    const repo = await repository('(>= 15.18), libpq5 (<< 16~)', ['16.2-1.pgdg120+1', '15.10-0+deb12u1']);
    const cacheDir = tempDir('pgferry-deb-cache-');
    await catalog(repo, cacheDir).provide({ major: 15 });
    expect(repo.requests.filter((r) => r.includes('libpq5'))).toEqual([
      expect.stringMatching(/\/libpq5_15\.18-0\+deb12u1_amd64\.deb$/),
    ]);
  });

  it('no listed libpq5 meeting the condition refuses the client clearly, before any download', async () => {
    const repo = await repository('(>= 99)', ['15.10-0+deb12u1']);
    const cacheDir = tempDir('pgferry-deb-cache-');
    const error = await failureOf(catalog(repo, cacheDir).provide({ major: 15 }));
    expect(error.message).toBe(
      `client-source pgdg: postgresql-client-15 15.18-0+deb12u1 needs libpq5 (>= 99); ${repo.url}/dists/${APT_SUITE}/main/binary-amd64/Packages lists only libpq5 15.18-0+deb12u1, 15.10-0+deb12u1, so it cannot be installed`,
    );
    expect(repo.requests.filter((r) => r.endsWith('.deb'))).toEqual([]);
    expect(readdirSync(cacheDir)).toEqual([]);
  });
});
