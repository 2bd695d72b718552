import { compareDebVersions } from './deb-version.js';
import { PgferryError } from '../../errors.js';

/** One binary package of an apt `Packages` index: the fields pgferry needs to fetch and verify it. */
export interface AptPackage {
  name: string;
  version: string;
  filename: string;
  size: number;
  sha256: string;
  depends: string;
}

/**
 * Stanzas of a `Packages` index (RFC 822-like paragraphs split by blank lines). Continuation lines
 * (leading space) belong to the field before them and are dropped: none of the wanted fields span
 * lines. A text with no stanza holding Package, Filename, Size and SHA256 is not an index at all.
 */
export function parseAptPackages(text: string, what: string): AptPackage[] {
  const packages: AptPackage[] = [];
  for (const paragraph of text.split(/\r?\n[ \t]*\r?\n/)) {
    const fields = new Map<string, string>();
    for (const line of paragraph.split(/\r?\n/)) {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m?.[1] && m[2] !== undefined) fields.set(m[1].toLowerCase(), m[2].trim());
    }
    const name = fields.get('package');
    const filename = fields.get('filename');
    const size = fields.get('size');
    const sha256 = fields.get('sha256')?.toLowerCase();
    if (!name || !filename || !size || !sha256) continue;
    if (!/^\d+$/.test(size) || !/^[0-9a-f]{64}$/.test(sha256)) {
      throw new PgferryError(`${what}: package ${name} has an unreadable Size or SHA256`);
    }
    if (filename.split('/').includes('..') || filename.startsWith('/')) {
      throw new PgferryError(`${what}: package ${name} has a Filename outside the repository`);
    }
    packages.push({
      name,
      version: fields.get('version') ?? '',
      filename,
      size: Number(size),
      sha256,
      depends: fields.get('depends') ?? '',
    });
  }
  if (packages.length === 0) {
    throw new PgferryError(
      `${what} is not an apt Packages index: no stanza with Package, Filename, Size and SHA256`,
    );
  }
  return packages;
}

/** `15.18-0+deb12u1` → [15, 18]: the upstream numbers, enough to order one major's packages. */
export function upstreamNumbers(debianVersion: string): number[] {
  const upstream = debianVersion.replace(/^\d+:/, '').split(/[-~+]/)[0] ?? '';
  return upstream
    .split('.')
    .map((n) => Number.parseInt(n, 10))
    .filter((n) => Number.isFinite(n));
}

/** The newest package of that name (in dpkg's version order), if the index holds it. */
export function newestPackage(packages: readonly AptPackage[], name: string): AptPackage | undefined {
  return packages
    .filter((p) => p.name === name)
    .sort((a, b) => compareDebVersions(a.version, b.version))
    .at(-1);
}
