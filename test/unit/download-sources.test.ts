import { downloadSources } from '../../core/pg/clients/download-sources.js';
import { DEFAULT_PGDG_BASE } from '../../core/pg/clients/pgdg.js';
import { DEFAULT_RELEASES_BASE } from '../../core/pg/clients/releases.js';

const LINUX = { platform: 'linux' as const, arch: 'x64', libc: 'gnu' as const };

describe('what mirror names for each client-source', () => {
  it('auto without a mirror: the theseus releases, then apt.postgresql.org on glibc Linux', () => {
    const sources = downloadSources('auto', undefined, LINUX);
    expect(sources.releases?.base).toBe(DEFAULT_RELEASES_BASE);
    // The suite comes from this system's codename; this test bed is Debian.
    expect(sources.pgdg?.base).toBe(DEFAULT_PGDG_BASE);
    expect(sources.pgdg?.arch.deb).toBe('amd64');
  });

  it.each([
    ['macOS', { platform: 'darwin' as const, arch: 'arm64' }],
    ['musl Linux', { ...LINUX, libc: 'musl' as const }],
    ['Windows', { platform: 'win32' as const, arch: 'x64' }],
  ])('auto on %s has no apt repository to fall back to', (_what, platform) => {
    const sources = downloadSources('auto', undefined, platform);
    expect(sources.pgdg).toBeUndefined();
    expect(sources.releases?.base).toBe(DEFAULT_RELEASES_BASE);
  });

  it('auto with mirror lines: a bare URL is the releases mirror, a URL and a suite the apt repository', () => {
    const both = downloadSources(
      'auto',
      ' https://m.example/pg/ \n\nhttps://apt.example/pgdg bookworm-pgdg\n',
      LINUX,
    );
    expect(both.releases).toEqual({ base: 'https://m.example/pg', isMirror: true });
    expect(both.pgdg).toMatchObject({ base: 'https://apt.example/pgdg', suite: 'bookworm-pgdg' });
    expect(downloadSources('auto', 'https://m.example/pg', LINUX).pgdg).toBeUndefined();
    expect(downloadSources('auto', 'https://apt.example bookworm-pgdg', LINUX).releases).toBeUndefined();
  });

  it('auto on macOS passes over the apt line of a mirror shared with Linux runners', () => {
    const mirror = 'https://m.example/pg\nhttps://apt.example/pgdg bookworm-pgdg';
    const sources = downloadSources('auto', mirror, { platform: 'darwin', arch: 'arm64' });
    expect(sources).toEqual({ releases: { base: 'https://m.example/pg', isMirror: true } });
  });

  it.each([
    ['https://a.example\nhttps://b.example', 'names two releases mirrors'],
    ['https://a.example s1\nhttps://b.example s2', 'names two apt repositories'],
  ])('auto refuses a mirror %j naming one kind twice', (mirror, problem) => {
    expect(() => downloadSources('auto', mirror, LINUX)).toThrow(
      `mirror: ${problem}; expected at most one "<base URL>" line and one "<base URL> <suite>" line`,
    );
  });

  it('releases and pgdg keep their one-source meaning', () => {
    expect(downloadSources('releases', 'https://m.example/pg', LINUX)).toEqual({
      releases: { base: 'https://m.example/pg', isMirror: true },
    });
    expect(downloadSources('pgdg', 'https://apt.example trixie-pgdg', LINUX).pgdg?.suite).toBe('trixie-pgdg');
  });
});
