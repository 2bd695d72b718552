// The security floor with real clients: Debian's 15 (15.18 and newer, safe) and the mirror's 17.5 and
// 18.0 (below the May 2026 minors). A client below the floor is passed over when a safe one of its
// major can be had; else the run warns naming the CVE, and min-client-version: secure refuses with
// nothing downloaded or cached. Also the catalog past the known majors (19, 20).
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../core/errors.js';
import { RecordingLogger } from '../../core/log.js';
import { ClientCatalog, type ProvisionOptions } from '../../core/pg/clients/catalog.js';
import { CLIENT_TOOLS } from '../../core/pg/clients/tools.js';
import { failureOf } from '../harness/failure.js';
import { assetName, MIRROR_DIR } from '../harness/fixtures.js';
import { mirrorHits, startMirror, type MirrorServer } from '../harness/mirror.js';
import { SYSTEM_CLIENT_DIR } from '../harness/paths.js';
import { mirrorUrl } from '../harness/testbed.js';

const made: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `pgferry-floor-${prefix}-`));
  made.push(dir);
  return dir;
}
const servers: MirrorServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  made.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

/**
 * An old 15 install (15.13: before both fixes), played by wrappers around Debian's 15 tools that
 * report that version: no real 15 below the floor exists on this machine, and the catalog judges
 * clients by what `--version` prints.
 */
function old15Install(): string {
  const dir = tempDir('old15');
  for (const tool of CLIENT_TOOLS) {
    const file = path.join(dir, tool);
    writeFileSync(
      file,
      `#!/bin/sh\nif [ "$1" = --version ]; then echo "${tool} (PostgreSQL) 15.13"; exit 0; fi\nexec ${SYSTEM_CLIENT_DIR}/${tool} "$@"\n`,
    );
    chmodSync(file, 0o755);
  }
  return dir;
}

/** A mirror holding only what is given: `versions` listed, and assets copied from the fixtures. */
async function mirrorOf(versions: string[], assets: Record<string, string> = {}): Promise<string> {
  const root = tempDir('mirror');
  writeFileSync(path.join(root, 'versions.json'), JSON.stringify(versions));
  for (const [version, from] of Object.entries(assets)) {
    mkdirSync(path.join(root, version));
    const asset = path.join(root, version, assetName(version));
    copyFileSync(path.join(MIRROR_DIR, from, assetName(from)), asset);
    const sha = createHash('sha256').update(readFileSync(asset)).digest('hex');
    writeFileSync(`${asset}.sha256`, `${sha}  ${assetName(version)}\n`);
  }
  const server = await startMirror(root);
  servers.push(server);
  return server.url;
}

function catalog(log: RecordingLogger, more: Partial<ProvisionOptions> = {}): ClientCatalog {
  return new ClientCatalog({ log, mirror: mirrorUrl(), cacheDir: tempDir('cache'), ...more });
}

const archiveOf = (release: string): string => `/${release}/${assetName(release)}`;

describe('a client below the floor is passed over for a safe one of its major', () => {
  it('takes Debian 15.18 over an older 15 found first, without a warning', async () => {
    const log = new RecordingLogger();
    const old = old15Install();
    const tools = await catalog(log, { installedDirs: () => [old, SYSTEM_CLIENT_DIR] }).provide({
      major: 15,
    });
    expect(tools.binDir).toBe(SYSTEM_CLIENT_DIR);
    expect(tools.source).toBe('installed');
    expect(tools.version.minor).toBeGreaterThanOrEqual(18);
    expect(log.warnings).toEqual([]);
  });

  it('goes for a published safe minor over a cached unsafe one (here a mislabelled archive, which --version then refuses)', async () => {
    // 17.11.0 on this mirror is really the 17.5 archive: the catalog must reach for it, and the
    // --version check must then refuse it, leaving the cached 17.5 untouched.
    const mirror = await mirrorOf(['17.5.0', '17.11.0'], { '17.5.0': '17.5.0', '17.11.0': '17.5.0' });
    const cacheDir = tempDir('cache');
    const log = new RecordingLogger();
    const first = await catalog(log, { mirror, cacheDir, installedDirs: () => [] }).provide({
      major: 17,
      minor: 5,
    });
    expect(first.source).toBe('download');
    expect(log.warnings).toHaveLength(1);
    const error = await failureOf(
      catalog(new RecordingLogger(), { mirror, cacheDir, installedDirs: () => [] }).provide({ major: 17 }),
    );
    expect(error.message).toMatch(/version 17\.5, but 17\.11 was asked for/);
    expect((await mirrorHits(mirror))[archiveOf('17.11.0')]).toBe(1);
    expect(readdirSync(cacheDir).sort()).toEqual(['17.5.0']);
  });
});

describe('with only a client below the floor, the run goes on and says so', () => {
  it('keeps a cached unsafe client when the safe minor cannot be fetched (offline), and says why', async () => {
    // The mirror lists 17.11 but cannot deliver it: as an offline synth or runner whose release
    // table names a minor it cannot reach.
    const mirror = await mirrorOf(['17.5.0', '17.11.0'], { '17.5.0': '17.5.0' });
    const cacheDir = tempDir('cache');
    await catalog(new RecordingLogger(), { mirror, cacheDir, installedDirs: () => [] }).provide({
      major: 17,
      minor: 5,
    });
    const log = new RecordingLogger();
    const tools = await catalog(log, { mirror, cacheDir, installedDirs: () => [] }).provide({ major: 17 });
    expect(tools.source).toBe('cache');
    expect(`${tools.version.major}.${tools.version.minor}`).toBe('17.5');
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain('CVE-2026-6477');
    expect(log.warnings[0]).toMatch(/the safe 17\.11\.0 could not be downloaded \(.*HTTP 404/);
    expect(readdirSync(cacheDir).sort()).toEqual(['17.5.0']);
    // min-client-version: secure still refuses it.
    const refused = await failureOf(
      catalog(new RecordingLogger(), {
        mirror,
        cacheDir,
        installedDirs: () => [],
        minClientVersion: { kind: 'secure' },
      }).provide({ major: 17 }),
    );
    expect(refused).toBeInstanceOf(InputError);
  });

  it.each([
    [17, '17.5', ['CVE-2026-6477', '17.10 fixed', 'CVE-2025-8714', '17.6 fixed']],
    [18, '18.0', ['CVE-2026-6477', '18.4 fixed']],
  ])(
    'downloads %i (%s) from the mirror with a warning naming the CVE and the fix',
    async (major, version, says) => {
      const log = new RecordingLogger();
      const tools = await catalog(log, { installedDirs: () => [] }).provide({ major });
      expect(tools.source).toBe('download');
      expect(`${tools.version.major}.${tools.version.minor}`).toBe(version);
      expect(log.warnings).toHaveLength(1);
      const warning = log.warnings[0] ?? '';
      expect(warning).toMatch(
        new RegExp(
          `^PostgreSQL client ${version.replace('.', '\\.')} \\(to be downloaded\\) is below the security floor: `,
        ),
      );
      for (const text of says) expect(warning).toContain(text);
      if (major === 18) expect(warning).not.toContain('CVE-2025-8714');
      expect(warning).toContain(
        `no ${major === 17 ? '17.10' : '18.4'} or newer is installed, cached or published here`,
      );
      expect(warning).toMatch(
        /install PostgreSQL 1[78]\.\d+ or newer \(or put it on the mirror\); min-client-version: secure refuses such a client$/,
      );
    },
  );

  it('uses an unsafe installed client (nothing safe published) and warns once however often it is provided', async () => {
    const log = new RecordingLogger();
    const old = old15Install();
    const c = catalog(log, { installedDirs: () => [old] });
    const tools = await c.provide({ major: 15 });
    await c.provide({ major: 15 });
    expect(tools).toMatchObject({ binDir: old, source: 'installed', version: { major: 15, minor: 13 } });
    expect(log.warnings).toEqual([
      `PostgreSQL client 15.13 (installed in ${old}) is below the security floor: 15.18 fixed CVE-2026-6477 (May 2026: a hostile server can overwrite the client's stack through the large-object functions pg_dump uses); 15.14 fixed CVE-2025-8714 (August 2025: a hostile source server can make a plain dump run shell commands in the psql that restores it (fixed by pg_dump writing \\restrict)); no 15.18 or newer is installed, cached or published here; install PostgreSQL 15.18 or newer (or put it on the mirror); min-client-version: secure refuses such a client`,
    ]);
  });

  it('says "staged or cached" when downloads are off', async () => {
    const log = new RecordingLogger();
    const old = old15Install();
    await catalog(log, { installedDirs: () => [old], downloads: false }).provide({ major: 15 });
    expect(log.warnings[0]).toContain('no 15.18 or newer is staged or cached here');
  });

  it('warns for an exact pin below the floor, saying postgres-version pins it', async () => {
    const log = new RecordingLogger();
    const tools = await catalog(log, { installedDirs: () => [] }).provide({ major: 18, minor: 0 });
    expect(tools.version).toEqual({ major: 18, minor: 0 });
    expect(log.warnings).toEqual([
      expect.stringContaining('; postgres-version pins it; install PostgreSQL 18.4 or newer'),
    ]);
  });
});

describe('min-client-version: secure refuses a client below the floor', () => {
  it('before downloading: the error names the input, nothing is fetched or cached', async () => {
    const cacheDir = tempDir('cache');
    const before = (await mirrorHits(mirrorUrl()))[archiveOf('17.5.0')] ?? 0;
    const log = new RecordingLogger();
    const error = await failureOf(
      catalog(log, { cacheDir, installedDirs: () => [], minClientVersion: { kind: 'secure' } }).provide({
        major: 17,
      }),
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      /^min-client-version: secure refuses it: PostgreSQL client 17\.5 \(to be downloaded\) is below the security floor: 17\.10 fixed CVE-2026-6477 .*; or set min-client-version to any to run it with a warning$/,
    );
    expect((await mirrorHits(mirrorUrl()))[archiveOf('17.5.0')] ?? 0).toBe(before);
    expect(readdirSync(cacheDir)).toEqual([]);
    expect(log.warnings).toEqual([]);
  });

  it('an installed or cached client below it too, and a pinned one', async () => {
    const secure = { minClientVersion: { kind: 'secure' } as const };
    const old = await failureOf(
      catalog(new RecordingLogger(), { installedDirs: () => [old15Install()], ...secure }).provide({
        major: 15,
      }),
    );
    expect(old.message).toMatch(
      /^min-client-version: secure refuses it: PostgreSQL client 15\.13 \(installed in .*\) is below the security floor/,
    );
    const cacheDir = tempDir('cache');
    await catalog(new RecordingLogger(), { cacheDir, installedDirs: () => [] }).provide({ major: 18 });
    const cached = await failureOf(
      catalog(new RecordingLogger(), { cacheDir, installedDirs: () => [], ...secure }).provide({ major: 18 }),
    );
    expect(cached.message).toMatch(
      /PostgreSQL client 18\.0 \(cached\) is below the security floor: 18\.4 fixed CVE-2026-6477/,
    );
    const pinned = await failureOf(
      catalog(new RecordingLogger(), { cacheDir, installedDirs: () => [], ...secure }).provide({
        major: 18,
        minor: 0,
      }),
    );
    expect(pinned.message).toContain('postgres-version pins it');
  });

  it('an exact minimum refuses an otherwise safe client below it, and takes the one above', async () => {
    const atLeast = { minClientVersion: { kind: 'at-least', major: 15, minor: 99 } as const };
    const error = await failureOf(
      catalog(new RecordingLogger(), { installedDirs: () => [SYSTEM_CLIENT_DIR], ...atLeast }).provide({
        major: 15,
      }),
    );
    expect(error.message).toMatch(
      /^min-client-version: an exact minimum refuses it: PostgreSQL client 15\.\d+ \(installed in .*\) is below the security floor: min-client-version asks for 15\.99 or newer/,
    );
    const tools = await catalog(new RecordingLogger(), {
      installedDirs: () => [SYSTEM_CLIENT_DIR],
      minClientVersion: { kind: 'secure' },
    }).provide({ major: 15 });
    expect(tools.binDir).toBe(SYSTEM_CLIENT_DIR);
  });
});

describe('the catalog past the known majors', () => {
  it('sees 19 and 20 on a mirror that lists them, without downloading anything', async () => {
    const mirror = await mirrorOf(['18.0.0', '19.0.0', '20.1.0']);
    const c = catalog(new RecordingLogger(), { mirror, installedDirs: () => [] });
    expect(await c.lowestAvailableFrom(19)).toBe(19);
    expect(await c.lowestAvailableFrom(20)).toBe(20);
    expect(await c.lowestAvailableFrom(21)).toBeUndefined();
    expect(await c.highestAvailable()).toBe(20);
    expect(Object.keys(await mirrorHits(mirror))).toEqual(['/versions.json']);
  });

  it('falls from a missing 19 to 20, and says 19 cannot be had rather than unsupported', async () => {
    const mirror = await mirrorOf(['18.0.0', '20.1.0']);
    const c = catalog(new RecordingLogger(), { mirror, installedDirs: () => [] });
    expect(await c.lowestAvailableFrom(19)).toBe(20);
    const error = await failureOf(c.provide({ major: 19 }));
    expect(error.message).toMatch(
      /^PostgreSQL client 19 is not installed and the mirror http:\/\/127\.0\.0\.1:\d+ do(es)? not publish it$/,
    );
  });
});
