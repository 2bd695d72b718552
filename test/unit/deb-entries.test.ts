import { hostileDebEntry } from '../../core/pg/clients/deb-entries.js';

describe('which data.tar entries of a .deb may be extracted', () => {
  it.each<[string, string, string | undefined]>([
    ['./', 'Directory', undefined],
    ['./usr/lib/postgresql/15/bin/pg_dump', 'File', undefined],
    // Debian's own links: libpq.so.5 beside its target, pg_wrapper links from /usr/bin.
    ['./usr/lib/x86_64-linux-gnu/libpq.so.5', 'SymbolicLink', 'libpq.so.5.15'],
    ['./usr/bin/pg_dump', 'SymbolicLink', '../share/postgresql-common/pg_wrapper'],
    ['./usr/share/doc/x/changelog', 'SymbolicLink', './../y/changelog'],
    // As deep as the link's directory, no deeper: usr/bin → the package root.
    ['./usr/bin/root', 'SymbolicLink', '../..'],
    ['./usr/share/doc/copy', 'Link', './usr/share/doc/readme'],
  ])('%s (%s → %s) is extracted', (entryPath, type, link) => {
    expect(hostileDebEntry(entryPath, type, link)).toBeUndefined();
  });

  it.each<[string, string, string | undefined, string]>([
    ['/etc/cron.d/x', 'File', undefined, 'an absolute path'],
    ['./usr/../../x', 'File', undefined, 'a path climbing out with ".."'],
    ['..', 'Directory', undefined, 'a path climbing out with ".."'],
    ['./usr/bin/up', 'SymbolicLink', '../../..', 'a symlink to "../../..", outside the package'],
    ['./top', 'SymbolicLink', '..', 'a symlink to "..", outside the package'],
    ['./usr/lib/b', 'SymbolicLink', 'a/../..', 'a symlink to "a/../..", which climbs after descending'],
    ['./usr/lib/c', 'SymbolicLink', 'x/..', 'a symlink to "x/..", which climbs after descending'],
    ['./usr/lib/d', 'SymbolicLink', '/usr/lib/evil.so', 'a symlink to the absolute path "/usr/lib/evil.so"'],
    ['./usr/lib/e', 'SymbolicLink', '', 'a symlink to nothing'],
    ['./usr/lib/f', 'Link', '/etc/shadow', 'a hard link to the absolute path "/etc/shadow"'],
    [
      './usr/lib/g',
      'Link',
      'usr/../../etc/shadow',
      'a hard link to "usr/../../etc/shadow", outside the package',
    ],
    ['./usr/lib/h', 'Link', '.', 'a hard link to ".", outside the package'],
    ['./dev/null', 'CharacterDevice', undefined, 'a character device, not a file, directory or link'],
    ['./dev/sda', 'BlockDevice', undefined, 'a block device, not a file, directory or link'],
    ['./run/pipe', 'FIFO', undefined, 'a FIFO, not a file, directory or link'],
    ['./x', 'SparseFile', undefined, 'a SparseFile entry, not a file, directory or link'],
  ])('%s (%s → %s) is refused: %s', (entryPath, type, link, why) => {
    expect(hostileDebEntry(entryPath, type, link)).toBe(why);
  });
});
