import { readdirSync } from 'node:fs';
import { buildAptRepository, type StaticServer } from '../harness/apt-repository.js';
import { makeSigningKey, type SigningKey } from '../harness/apt-signing.js';
import { aptTestBed, pgdgCatalog } from '../harness/apt-testbed.js';
import { craftedDeb, type DataCompression, type TarEntrySpec } from '../harness/crafted-deb.js';
import { failureOf } from '../harness/failure.js';

// A package signed by the trusted key and matching its index can still carry a hostile data.tar:
// the signature proves who built it, not what its tar does. Each such package is refused at its
// first hostile entry, nothing lands outside the work directory, and nothing is cached.
const { tempDir, serve } = aptTestBed();
let key: SigningKey;
/** Where the hostile entries aim; it must stay empty. */
let outside: string;
beforeAll(() => {
  key = makeSigningKey('pgferry-hostile-tar');
  outside = tempDir('pgferry-outside-');
});
/** Enough ".." to reach "/" from any work directory. */
const CLIMB = '../'.repeat(16);

/** What a real package starts with, so that a refusal comes after entries were written. */
const BENIGN: TarEntrySpec[] = [
  { path: './', type: 'dir' },
  { path: './usr/', type: 'dir' },
  { path: './usr/lib/', type: 'dir' },
  { path: './usr/share/doc/', type: 'dir' },
  { path: './usr/share/doc/readme', body: 'a file before the hostile entry\n' },
];

/** Installs client 15 from a repository whose postgresql-client-15 is the crafted package. */
async function installCrafted(
  entries: TarEntrySpec[],
  compression?: DataCompression,
  data?: { name: string; data: Buffer },
): Promise<{ error: Error; cacheDir: string; repo: StaticServer }> {
  const deb = craftedDeb(entries, { compression, data });
  const root = buildAptRepository(tempDir('pgferry-apt-'), {
    signWith: key,
    replaceDebs: { 'postgresql-client-15': deb },
  });
  const repo = await serve(root);
  const cacheDir = tempDir('pgferry-deb-cache-');
  return { error: await failureOf(pgdgCatalog(repo, cacheDir, key).provide({ major: 15 })), cacheDir, repo };
}

const listing = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String);

describe('hostile tar entries inside a signed .deb', () => {
  const cases: [string, () => TarEntrySpec[], string, string][] = [
    [
      'a path climbing out with ..',
      () => [{ path: `./usr/${CLIMB}${outside.slice(1)}/dotdot`, body: 'escaped\n' }],
      `./usr/${CLIMB}RELATIVE/dotdot`,
      'a path climbing out with ".."',
    ],
    [
      'an absolute path',
      () => [{ path: `${outside}/absolute`, body: 'escaped\n' }],
      'OUTSIDE/absolute',
      'an absolute path',
    ],
    [
      'a symlink to an absolute directory, then a file through it',
      () => [
        { path: './usr/lib/evil', type: 'symlink', link: outside },
        { path: './usr/lib/evil/through', body: 'escaped\n' },
      ],
      './usr/lib/evil',
      'a symlink to the absolute path "OUTSIDE"',
    ],
    [
      'a relative symlink climbing above the package',
      () => [
        { path: './usr/lib/up', type: 'symlink', link: `${CLIMB}${outside.slice(1)}` },
        { path: './usr/lib/up/through', body: 'escaped\n' },
      ],
      './usr/lib/up',
      `a symlink to "${CLIMB}RELATIVE", outside the package`,
    ],
    [
      // Lexically usr/lib/a/../.. is usr, inside; followed, a is usr, so b is the parent of the package.
      'a symlink chain that only a lexical check would let through',
      () => [
        { path: './usr/lib/a', type: 'symlink', link: '..' },
        { path: './usr/lib/b', type: 'symlink', link: 'a/../..' },
      ],
      './usr/lib/b',
      'a symlink to "a/../..", which climbs after descending',
    ],
    [
      'a hard link to a host file',
      () => [{ path: './usr/lib/passwd', type: 'hardlink', link: '/etc/passwd' }],
      './usr/lib/passwd',
      'a hard link to the absolute path "/etc/passwd"',
    ],
    [
      'a hard link climbing out',
      () => [{ path: './usr/lib/passwd', type: 'hardlink', link: `${CLIMB}etc/passwd` }],
      './usr/lib/passwd',
      `a hard link to "${CLIMB}etc/passwd", outside the package`,
    ],
    [
      'a character device',
      () => [{ path: './usr/lib/null', type: 'char' }],
      './usr/lib/null',
      'a character device, not a file, directory or link',
    ],
    [
      'a block device',
      () => [{ path: './usr/lib/disk', type: 'block' }],
      './usr/lib/disk',
      'a block device, not a file, directory or link',
    ],
    [
      'a FIFO',
      () => [{ path: './usr/lib/pipe', type: 'fifo' }],
      './usr/lib/pipe',
      'a FIFO, not a file, directory or link',
    ],
  ];

  it.each(cases)('%s is refused with nothing left behind', async (_what, hostile, shown, why) => {
    const { error, cacheDir, repo } = await installCrafted([...BENIGN, ...hostile()]);
    // OUTSIDE: the directory's absolute path; RELATIVE: the same without its leading "/".
    const place = (text: string): string =>
      text.replaceAll('OUTSIDE', outside).replaceAll('RELATIVE', outside.slice(1));
    const name = place(shown);
    expect(error.message).toBe(
      `client-source pgdg: postgresql-client-15 15.18-0+deb12u1: data.tar.xz holds ${JSON.stringify(name)}, ${place(why)}; the package is refused and nothing was kept`,
    );
    expect(listing(outside)).toEqual([]);
    expect(listing(cacheDir)).toEqual([]);
    // Refused before libpq5 was even fetched.
    expect(repo.requests.filter((r) => r.includes('libpq5'))).toEqual([]);
  });

  it.each<DataCompression>(['xz', 'zst', 'gz', 'none'])(
    'a tame crafted package (%s) passes the entry checks, links inside it included, and fails only for lacking the tools',
    async (compression) => {
      const { error, cacheDir } = await installCrafted(
        [
          ...BENIGN,
          { path: './usr/lib/postgresql/15/bin/', type: 'dir' },
          {
            path: './usr/lib/postgresql/15/bin/readme',
            type: 'symlink',
            link: '../../../../share/doc/readme',
          },
          { path: './usr/share/doc/copy', type: 'hardlink', link: './usr/share/doc/readme' },
        ],
        compression,
      );
      expect(error.message).toBe('client-source pgdg: postgresql-client-15 15.18-0+deb12u1 holds no pg_dump');
      expect(listing(cacheDir)).toEqual([]);
    },
  );

  it.each<DataCompression>(['xz', 'zst'])(
    'a package (%s) that unpacks past the unpack limit is refused as a bomb, nothing cached',
    async (compression) => {
      const saved = process.env.PGFERRY_NETWORK_LIMITS;
      process.env.PGFERRY_NETWORK_LIMITS = 'unpack-bytes=1048576';
      try {
        const { error, cacheDir } = await installCrafted(
          [
            ...BENIGN,
            { path: './usr/lib/postgresql/15/bin/', type: 'dir' },
            { path: './usr/lib/postgresql/15/bin/pg_dump', body: '\0'.repeat(4 * 1024 * 1024) },
          ],
          compression,
        );
        expect(error.message).toBe(
          `client-source pgdg: postgresql-client-15 15.18-0+deb12u1: data.tar.${compression} unpacks to more than the 1 MiB limit; refused as a decompression bomb`,
        );
        expect(listing(cacheDir)).toEqual([]);
      } finally {
        if (saved === undefined) delete process.env.PGFERRY_NETWORK_LIMITS;
        else process.env.PGFERRY_NETWORK_LIMITS = saved;
      }
    },
  );

  it('a data.tar.xz that is not xz fails with the decompressor named, nothing cached', async () => {
    const garbage = { name: 'data.tar.xz', data: Buffer.from('not xz at all\n'.repeat(40)) };
    const { error, cacheDir } = await installCrafted([], 'xz', garbage);
    expect(error.message).toMatch(
      /^client-source pgdg: postgresql-client-15 15\.18-0\+deb12u1: data\.tar\.xz could not be (decompressed: xz ended with exit code 1|extracted: .+)$/,
    );
    expect(listing(cacheDir)).toEqual([]);
  });
});
