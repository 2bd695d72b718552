import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dumpToPath } from '../../core/jobs/dump.js';
import { RecordingLogger } from '../../core/log.js';
import { parseJobOptions } from '../../core/options.js';
import { parseConnection } from '../../core/pg/connection.js';
import { stagedLibraryEnv } from '../../core/pg/run.js';
import { APT_SUITE, buildAptRepository, type StaticServer } from '../harness/apt-repository.js';
import { makeSigningKey, type SigningKey } from '../harness/apt-signing.js';
import { aptTestBed, pgdgCatalog } from '../harness/apt-testbed.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, sql } from '../harness/testbed.js';

const TARGET = 'x86_64-unknown-linux-gnu';
const { tempDir, serve } = aptTestBed();
let key: SigningKey;
beforeAll(() => {
  key = makeSigningKey('pgferry-test-repository');
});
/** A loopback PGDG-style repository of Debian's real packages, signed, its index edited by `edit`. */
async function repository(edit?: (index: string) => string): Promise<StaticServer> {
  const root = buildAptRepository(tempDir('pgferry-apt-'), { editIndex: edit, signWith: key });
  return serve(root);
}

/** A catalog that can only use the PGDG source (no installed client is even looked for). */
/** The index with the SHA256 of one package replaced by another valid-looking hex. */
function wrongSha(pkg: string) {
  return (index: string): string =>
    index.replace(
      new RegExp(`(Package: ${pkg}\\n[\\s\\S]*?SHA256: )([0-9a-f]{64})`),
      (_m, head: string, hex: string) => `${head}${hex.startsWith('0') ? '1' : '0'}${hex.slice(1)}`,
    );
}

const listing = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String);

describe('the PGDG apt repository as a client source', () => {
  it('installs postgresql-client-15 and its libpq5 into an empty cache, which then dumps server 15', async () => {
    const repo = await repository();
    const cacheDir = tempDir('pgferry-deb-cache-');
    const tools = await pgdgCatalog(repo, cacheDir, key).provide({ major: 15 });
    expect(tools.source).toBe('download');
    expect(tools.version).toEqual({ major: 15, minor: 18 });
    const entry = path.join(cacheDir, '15.18.0', TARGET);
    expect(tools.binDir).toBe(path.join(entry, 'bin'));
    expect(readdirSync(tools.binDir).sort()).toEqual(['pg_dump', 'pg_dumpall', 'pg_restore', 'psql']);
    const marker = JSON.parse(readFileSync(path.join(entry, '.pgferry-entry.json'), 'utf8')) as {
      source: string;
      packages: { name: string }[];
    };
    expect(marker.source).toBe('pgdg');
    expect(marker.packages.map((p) => p.name)).toEqual(['postgresql-client-15', 'libpq5']);
    expect(repo.requests.filter((r) => r.endsWith('.deb')).length).toBe(2);
    expect(existsSync(path.join(entry, 'lib', 'libpq.so.5'))).toBe(true);
    expect(listing(cacheDir).filter((f) => f.includes('.tmp-'))).toEqual([]);

    // The tools load the libpq from the entry, not the host's /usr/lib/x86_64-linux-gnu one.
    const ldd = execFileSync('ldd', [path.join(tools.binDir, 'pg_dump')], {
      env: { ...process.env, ...stagedLibraryEnv(tools.binDir) },
    }).toString();
    expect(ldd).toContain(`libpq.so.5 => ${path.join(entry, 'lib', 'libpq.so.5')}`);

    // A real dump of server 15 through the engine, with this client.
    const db = await createDatabase(15, 'debsrc');
    await sql(
      15,
      db,
      `CREATE TABLE ferried (id int PRIMARY KEY, word text); INSERT INTO ferried VALUES (1, 'apt'), (2, 'deb')`,
    );
    const file = path.join(tempDir('pgferry-deb-dump-'), 'dump.sql');
    const log = new RecordingLogger();
    await dumpToPath({
      from: parseConnection(connUrl(15, db), 'from', {}),
      to: file,
      format: 'plain',
      compress: 'auto',
      jobs: 1,
      postgresVersion: { kind: 'auto' },
      catalog: pgdgCatalog(repo, cacheDir, key, log),
      log,
    });
    const dump = readFileSync(file, 'utf8');
    expect(dump).toContain('-- Dumped by pg_dump version 15.18');
    expect(dump).toMatch(/CREATE TABLE public\.ferried/);
    expect(dump).toMatch(/^1\tapt$/m);
    expect(dump).toMatch(/^2\tdeb$/m);
    // The second catalog found the entry in the cache: no package fetched again.
    expect(repo.requests.filter((r) => r.endsWith('.deb')).length).toBe(2);
  });

  it.each(['postgresql-client-15', 'libpq5'])(
    'a wrong SHA-256 for %s in Packages fails the install and leaves nothing in the cache',
    async (pkg) => {
      const repo = await repository(wrongSha(pkg));
      const cacheDir = tempDir('pgferry-deb-cache-');
      const error = await failureOf(pgdgCatalog(repo, cacheDir, key).provide({ major: 15 }));
      expect(error.message).toMatch(
        new RegExp(
          `^client-source pgdg: ${pkg} 15\\.18\\S* failed its checksum: SHA-256 is [0-9a-f]{64}, the Packages index says [0-9a-f]{64}; nothing was kept$`,
        ),
      );
      expect(listing(cacheDir)).toEqual([]);
    },
  );

  it.each<[string, number, RegExp]>([
    [
      'one byte more',
      1,
      /^client-source pgdg: libpq5 \S+ is \d+ bytes, the Packages index says \d+; nothing was kept$/,
    ],
    [
      'one byte less',
      -1,
      /^client-source pgdg: libpq5 \S+ could not be fetched: .* announces \d+ bytes, more than the .* size limit$/,
    ],
  ])(
    'a Size of %s than the package fails before it is opened, leaving nothing',
    async (_what, delta, message) => {
      const repo = await repository((index) =>
        index.replace(
          /^(Package: libpq5\n[\s\S]*?\nSize: )(\d+)/m,
          (_m, h: string, n: string) => `${h}${Number(n) + delta}`,
        ),
      );
      const cacheDir = tempDir('pgferry-deb-cache-');
      const error = await failureOf(pgdgCatalog(repo, cacheDir, key).provide({ major: 15 }));
      expect(error.message).toMatch(message);
      expect(listing(cacheDir)).toEqual([]);
    },
  );

  it('a Packages that is not an index is refused by name, with nothing cached', async () => {
    const repo = await repository(() => '<html><body>Welcome to nginx!</body></html>\n');
    const cacheDir = tempDir('pgferry-deb-cache-');
    const error = await failureOf(pgdgCatalog(repo, cacheDir, key).provide({ major: 15 }));
    expect(error.message).toBe(
      `client-source pgdg: ${repo.url}/dists/${APT_SUITE}/main/binary-amd64/Packages is not an apt Packages index: no stanza with Package, Filename, Size and SHA256`,
    );
    expect(listing(cacheDir)).toEqual([]);
    expect(repo.requests.some((r) => r.endsWith('.deb'))).toBe(false);
  });

  it('an index without the client package says the source cannot provide it', async () => {
    const repo = await repository((index) =>
      index
        .split('\n\n')
        .filter((s) => !s.startsWith('Package: postgresql-client-15'))
        .join('\n\n'),
    );
    const cacheDir = tempDir('pgferry-deb-cache-');
    const error = await failureOf(pgdgCatalog(repo, cacheDir, key).provide({ major: 15 }));
    expect(error.message).toContain('PostgreSQL client 15 can not be had from client-source pgdg');
    expect(listing(cacheDir)).toEqual([]);
  });

  it('a Filename that climbs out of the repository is refused before any download', async () => {
    const repo = await repository((index) =>
      index.replace(/^Filename: .*libpq5.*$/m, 'Filename: pool/../../../etc/passwd'),
    );
    const error = await failureOf(
      pgdgCatalog(repo, tempDir('pgferry-deb-cache-'), key).provide({ major: 15 }),
    );
    expect(error.message).toMatch(/package libpq5 has a Filename outside the repository/);
    expect(repo.requests.some((r) => r.endsWith('.deb') || r.includes('passwd'))).toBe(false);
  });

  it('a package that matches its index but is not a .deb is refused, with nothing cached', async () => {
    const root = tempDir('pgferry-apt-');
    const bogus = Buffer.from('#!/bin/sh\necho not a package\n');
    buildAptRepository(root, {
      signWith: key,
      editIndex: (index) =>
        index.replace(
          /^(Package: postgresql-client-15\n[\s\S]*?\nSize: )\d+(\nSHA256: )[0-9a-f]{64}/m,
          (_m, a: string, b: string) =>
            `${a}${bogus.length}${b}${createHash('sha256').update(bogus).digest('hex')}`,
        ),
    });
    const pool = path.join(root, 'pool', 'main', 'p', 'postgresql-15');
    const client = readdirSync(pool).find((f) => f.startsWith('postgresql-client-15_')) as string;
    writeFileSync(path.join(pool, client), bogus);
    const repo = await serve(root);
    const cacheDir = tempDir('pgferry-deb-cache-');
    const error = await failureOf(pgdgCatalog(repo, cacheDir, key).provide({ major: 15 }));
    expect(error.message).toMatch(/^client-source pgdg: postgresql-client-15 \S+ is not an ar archive/);
    expect(listing(cacheDir)).toEqual([]);
  });

  it('an unknown client-source is an input error naming the input and the choices', () => {
    let error: unknown;
    try {
      parseJobOptions(
        (name) =>
          ({ command: 'dump', from: 'postgres://u@db/app', to: 'out.dump', 'client-source': 'apt' })[name],
        {},
      );
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toContain(
      'client-source: "apt" is not a client source; expected one of auto, installed, cache, releases, pgdg',
    );
  });
});
