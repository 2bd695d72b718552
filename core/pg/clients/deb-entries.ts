/** Entry types a package's data.tar may hold; devices, FIFOs and the rest are never extracted. */
const EXTRACTED = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

const TYPE_NAMES: Readonly<Record<string, string>> = {
  CharacterDevice: 'a character device',
  BlockDevice: 'a block device',
  FIFO: 'a FIFO',
};

/** `./usr/lib/x` → ['usr', 'lib', 'x']: the components, without "." and empty ones. */
function components(entryPath: string): string[] {
  return entryPath.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * Why an entry of a `.deb`'s data.tar must not be extracted into `root`, or undefined when it may.
 * The index signature proves who built the package, not that its tar is tame: every path stays
 * inside root, and so does every link, judged before anything of the entry is written.
 *
 * A symlink target may climb only at its start (`../share/x`, not `a/../../x`) and no higher than
 * the link's own directory is deep. Each link's directory is a real one (tar does not extract
 * through symlinks), so by induction every link, followed, stays inside root, chains included;
 * a lexical check alone would let `a -> b/..` escape where `b` is itself a link to `..`.
 */
export function hostileDebEntry(entryPath: string, type: string, linkpath?: string): string | undefined {
  if (!EXTRACTED.has(type)) return `${TYPE_NAMES[type] ?? `a ${type} entry`}, not a file, directory or link`;
  if (entryPath.startsWith('/')) return 'an absolute path';
  const parts = components(entryPath);
  if (parts.includes('..')) return 'a path climbing out with ".."';
  if (type === 'Link') {
    // A hard link names its target from the archive root.
    const target = linkpath ?? '';
    if (target.startsWith('/')) return `a hard link to the absolute path "${target}"`;
    if (components(target).includes('..') || components(target).length === 0)
      return `a hard link to "${target}", outside the package`;
  }
  if (type === 'SymbolicLink') return hostileSymlink(parts, linkpath ?? '');
  return undefined;
}

function hostileSymlink(parts: readonly string[], target: string): string | undefined {
  if (target === '') return 'a symlink to nothing';
  if (target.startsWith('/')) return `a symlink to the absolute path "${target}"`;
  const steps = components(target);
  const climbs = steps.findIndex((s) => s !== '..');
  const leading = climbs === -1 ? steps.length : climbs;
  if (steps.slice(leading).includes('..')) return `a symlink to "${target}", which climbs after descending`;
  // The link's directory is parts.length - 1 deep below root.
  if (leading > parts.length - 1) return `a symlink to "${target}", outside the package`;
  return undefined;
}
