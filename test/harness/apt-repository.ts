import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { SigningKey } from './apt-signing.js';
import { CACHE_DIR } from './paths.js';

/** Debian's real client packages, fetched once into the ignored cache by `apt-get download`. */
export const DEB_DIR = path.join(CACHE_DIR, 'debs');
export const DEB_PACKAGES = ['postgresql-client-15', 'libpq5'] as const;
export const APT_SUITE = 'bookworm-pgdg';

function debFile(name: string): string | undefined {
  return readdirSync(DEB_DIR).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
}

/**
 * The `.deb` files of DEB_PACKAGES; downloads them when missing. Fails (never skips) when apt cannot
 * fetch them: the `.deb` source test must run on every machine that runs the suite.
 */
export function debianPackages(): Record<(typeof DEB_PACKAGES)[number], string> {
  mkdirSync(DEB_DIR, { recursive: true });
  if (DEB_PACKAGES.some((name) => !debFile(name))) {
    try {
      execFileSync('apt-get', ['download', ...DEB_PACKAGES], { cwd: DEB_DIR, stdio: 'pipe' });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
      throw new Error(
        `the .deb test fixture needs Debian's ${DEB_PACKAGES.join(' and ')}: \`apt-get download\` failed (${stderr || (error as Error).message}); run \`apt-get update\` first (.ci/run does)`,
        { cause: error },
      );
    }
  }
  const found = Object.fromEntries(DEB_PACKAGES.map((name) => [name, debFile(name)]));
  for (const name of DEB_PACKAGES) if (!found[name]) throw new Error(`apt-get download left no ${name} .deb`);
  return Object.fromEntries(DEB_PACKAGES.map((n) => [n, path.join(DEB_DIR, found[n] as string)])) as Record<
    (typeof DEB_PACKAGES)[number],
    string
  >;
}

/** One stanza as the index writes it; `control` is the package's own control file. */
function stanza(control: string, filename: string, bytes: Buffer): string {
  const fields = control.trim().split('\n');
  return [
    ...fields,
    `Filename: ${filename}`,
    `Size: ${bytes.length}`,
    `SHA256: ${createHash('sha256').update(bytes).digest('hex')}`,
  ].join('\n');
}

/** The control file of a `.deb`, read with dpkg-deb (present wherever apt is). */
function controlOf(deb: string): string {
  return execFileSync('dpkg-deb', ['-f', deb]).toString();
}

/** How the loopback repository's InRelease is made. */
export interface AptRepositoryOptions {
  /** Rewrites the index before the Release lists it (the repository vouches for the edit). */
  editIndex?: (index: string) => string;
  /** Rewrites the Release before it is signed (a wrong suite, an expiry). */
  editRelease?: (release: string) => string;
  /** The key InRelease is clear-signed with; `unsigned`: InRelease is the bare Release text. */
  signWith: SigningKey | 'unsigned';
  /** Bytes served (and indexed, so they pass their checksum) instead of a real package's. */
  replaceDebs?: Partial<Record<(typeof DEB_PACKAGES)[number], Buffer>>;
}

/** A Release for the one index, as apt-ftparchive would write it (the fields pgferry reads). */
function releaseText(index: Buffer): string {
  return [
    'Origin: pgferry test',
    'Label: PostgreSQL for Debian',
    `Suite: ${APT_SUITE}`,
    `Codename: ${APT_SUITE}`,
    `Date: ${new Date().toUTCString()}`,
    'Architectures: amd64',
    'Components: main',
    'SHA256:',
    ` ${createHash('sha256').update(index).digest('hex')} ${index.length} main/binary-amd64/Packages`,
    '',
  ].join('\n');
}

/**
 * Lays the packages out as an apt repository does: `pool/main/<letter>/<source>/<file>.deb`,
 * `dists/<suite>/main/binary-amd64/Packages` (written here, as dpkg-scanpackages would) and the
 * clear-signed `dists/<suite>/InRelease` listing the index's SHA-256.
 */
export function buildAptRepository(root: string, options: AptRepositoryOptions): string {
  const debs = debianPackages();
  const stanzas: string[] = [];
  for (const name of DEB_PACKAGES) {
    const deb = debs[name];
    const control = controlOf(deb);
    const source = /^Source: (\S+)/m.exec(control)?.[1] ?? name;
    const filename = `pool/main/p/${source}/${path.basename(deb)}`;
    const bytes = options.replaceDebs?.[name] ?? readFileSync(deb);
    mkdirSync(path.join(root, path.dirname(filename)), { recursive: true });
    writeFileSync(path.join(root, filename), bytes);
    stanzas.push(stanza(control, filename, bytes));
  }
  const suiteDir = path.join(root, 'dists', APT_SUITE);
  const indexDir = path.join(suiteDir, 'main', 'binary-amd64');
  mkdirSync(indexDir, { recursive: true });
  const index = Buffer.from((options.editIndex ?? ((i) => i))(`${stanzas.join('\n\n')}\n`));
  writeFileSync(path.join(indexDir, 'Packages'), index);
  const release = (options.editRelease ?? ((r) => r))(releaseText(index));
  const { signWith } = options;
  writeFileSync(
    path.join(suiteDir, 'InRelease'),
    signWith === 'unsigned' ? release : signWith.clearsign(release),
  );
  return root;
}

export interface StaticServer {
  url: string;
  /** Paths asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves a directory on 127.0.0.1 (GET only; nothing outside `root`). */
export async function serveDirectory(root: string): Promise<StaticServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(pathname);
    const file = path.join(root, path.normalize(pathname));
    if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('content-length', statSync(file).size);
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
