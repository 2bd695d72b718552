import http from 'node:http';
import { failure, runAction, runnerDirs, WORKFLOW_TOKEN } from '../harness/action-runner.js';
import { mirrorUrl } from '../harness/testbed.js';
import { serveLoopback } from '../harness/loopback-http.js';

/**
 * The committed bundle's `token` input, filled in as the runner fills it: masked before anything
 * is logged, shown nowhere, and never sent to a mirror (a loopback proxy in front of the test
 * mirror records every request's Authorization header).
 */

interface Seen {
  path: string;
  authorization?: string;
}

async function recordingMirror(): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const upstream = new URL(mirrorUrl());
  const server = await serveLoopback((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    const forwarded = http.get(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: `${upstream.pathname.replace(/\/$/, '')}${req.url}`,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.writeHead(502).end());
  });
  return { ...server, seen };
}

describe('action: the token input', () => {
  let mirror: Awaited<ReturnType<typeof recordingMirror>>;
  beforeAll(async () => {
    mirror = await recordingMirror();
  });
  afterAll(() => mirror.close());

  it('on github.com the workflow token is the default: masked, shown nowhere, not sent to a mirror', async () => {
    mirror.seen.length = 0;
    const run = await runAction({ command: 'install', 'postgres-version': '17', mirror: mirror.url });
    expect(failure(run)).toBe('(no ::error:: line)');
    expect(run.code).toBe(0);
    expect(run.masked).toContain(WORKFLOW_TOKEN);
    expect(run.everything).not.toContain(WORKFLOW_TOKEN);
    // The mirror was asked for its versions and the archive, each without the token.
    expect(mirror.seen.map((s) => s.path)).toEqual(
      expect.arrayContaining(['/versions.json', expect.stringMatching(/\.tar\.gz$/)]),
    );
    expect(mirror.seen.filter((s) => s.authorization !== undefined)).toEqual([]);
  });

  it('a token given explicitly is masked and shown nowhere, and a mirror does not get it either', async () => {
    mirror.seen.length = 0;
    const token = 'ghp_explicitTokenForGithubCom9876';
    const run = await runAction({ command: 'install', 'postgres-version': '17', mirror: mirror.url, token });
    expect(run.code).toBe(0);
    expect(run.masked).toContain(token);
    expect(run.everything).not.toContain(token);
    expect(mirror.seen.length).toBeGreaterThan(0);
    expect(mirror.seen.filter((s) => s.authorization !== undefined)).toEqual([]);
  });

  it('on GitHub Enterprise Server the default is no token at all', async () => {
    const dirs = runnerDirs();
    const run = await runAction({ command: 'install', 'postgres-version': '17', mirror: mirror.url }, dirs, {
      GITHUB_SERVER_URL: 'https://ghe.example.com',
    });
    expect(run.code).toBe(0);
    expect(run.masked).not.toContain(WORKFLOW_TOKEN);
    expect(run.everything).not.toContain(WORKFLOW_TOKEN);
  });
});
