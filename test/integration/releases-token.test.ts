import http from 'node:http';
import type { Logger } from '../../core/log.js';
import {
  GITHUB_RELEASES_API,
  knownReleaseVersions,
  listReleaseVersions,
  releaseSource,
  type ReleaseSource,
} from '../../core/pg/clients/releases.js';
import { serveLoopback, type LoopbackServer } from '../harness/loopback-http.js';

/**
 * The token for the releases API goes to the GitHub API and nowhere else: a loopback server plays
 * the API (and a mirror, and a host the API redirects to) and records every Authorization header.
 */
const TOKEN = 'ghs_releasesTokenUnderTest42';
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined };

interface Seen {
  path: string;
  authorization?: string;
}

async function serve(
  seen: Seen[],
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<LoopbackServer> {
  return serveLoopback((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    answer(req, res);
  });
}

const RELEASES = JSON.stringify([
  { tag_name: '17.99.0' },
  { tag_name: '18.98.0', prerelease: true },
  { tag_name: 'not-a-version' },
]);

describe('the releases API token', () => {
  it('the default source asks api.github.com, and only its list request may carry the token', () => {
    const source = releaseSource(undefined);
    expect(source.isMirror).toBe(false);
    expect(new URL(source.releasesApi ?? '').host).toBe('api.github.com');
    expect(source.releasesApi).toBe(GITHUB_RELEASES_API);
    expect(releaseSource('http://127.0.0.1:1/pg').releasesApi).toBeUndefined();
  });

  it('is sent to the releases API as a bearer token, and the list is read', async () => {
    const seen: Seen[] = [];
    const api = await serve(seen, (_req, res) => res.end(RELEASES));
    try {
      const source: ReleaseSource = { ...releaseSource(undefined), releasesApi: `${api.url}/releases` };
      const versions = await listReleaseVersions(source, quiet, { token: TOKEN });
      expect(seen).toEqual([{ path: '/releases', authorization: `Bearer ${TOKEN}` }]);
      expect(versions).toContain('17.99.0');
      expect(versions).not.toContain('18.98.0');
    } finally {
      await api.close();
    }
  });

  it('without a token the request goes without an Authorization header', async () => {
    const seen: Seen[] = [];
    const api = await serve(seen, (_req, res) => res.end(RELEASES));
    try {
      const source: ReleaseSource = { ...releaseSource(undefined), releasesApi: `${api.url}/releases` };
      await listReleaseVersions(source, quiet, {});
      expect(seen).toEqual([{ path: '/releases', authorization: undefined }]);
    } finally {
      await api.close();
    }
  });

  it('is never sent to a mirror', async () => {
    const seen: Seen[] = [];
    const mirror = await serve(seen, (_req, res) => res.end(JSON.stringify(['17.5.0'])));
    try {
      const versions = await listReleaseVersions(releaseSource(`${mirror.url}/pg`), quiet, { token: TOKEN });
      expect(versions).toEqual(['17.5.0']);
      expect(seen).toEqual([{ path: '/pg/versions.json', authorization: undefined }]);
    } finally {
      await mirror.close();
    }
  });

  it('does not follow the API to another host, and a refusal falls back without naming the token', async () => {
    const seen: Seen[] = [];
    const elsewhere = await serve(seen, (_req, res) => res.writeHead(401).end('bad credentials'));
    const api = await serve(seen, (_req, res) =>
      res.writeHead(302, { location: `${elsewhere.url}/moved` }).end(),
    );
    const debug: string[] = [];
    try {
      const source: ReleaseSource = { ...releaseSource(undefined), releasesApi: `${api.url}/releases` };
      const versions = await listReleaseVersions(
        source,
        { ...quiet, debug: (m) => debug.push(m) },
        { token: TOKEN },
      );
      expect(seen).toEqual([
        { path: '/releases', authorization: `Bearer ${TOKEN}` },
        { path: '/moved', authorization: undefined },
      ]);
      expect(versions).toEqual(knownReleaseVersions());
      expect(debug.join('\n')).toMatch(/HTTP 401/);
      expect(debug.join('\n')).not.toContain(TOKEN);
    } finally {
      await Promise.all([api.close(), elsewhere.close()]);
    }
  });
});
