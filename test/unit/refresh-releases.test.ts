// scripts/refresh-releases.mjs against a loopback server laid out like the GitHub releases API:
// pages, drafts, prereleases and odd tags, a token, and the ways a list can go wrong.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serveLoopback } from '../harness/loopback-http.js';

const SCRIPT = path.resolve('scripts/refresh-releases.mjs');
const PATH = '/repos/theseus-rs/postgresql-binaries/releases';
const OLD_TABLE = 'export const KNOWN_RELEASES = { 17: [5] };\n';

type Release = { tag_name?: string; draft?: boolean; prerelease?: boolean };
type Answer = (page: number) => { status?: number; body: string };

interface Api {
  url: string;
  pages: number[];
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

async function startApi(answer: Answer): Promise<Api> {
  const pages: number[] = [];
  const authorizations: (string | undefined)[] = [];
  const server = await serveLoopback((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const page = Number(url.searchParams.get('page'));
    // Pages of another path or size are recorded as NaN, so the test's page list shows them.
    const asked = url.pathname === PATH && url.searchParams.get('per_page') === '100';
    pages.push(asked ? page : NaN);
    authorizations.push(req.headers.authorization);
    const { status = 200, body } = answer(page);
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
  return { url: `${server.url}${PATH}`, pages, authorizations, close: server.close };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function refresh(api: string, out: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SCRIPT, '--api', api, '--out', out],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The table as written: `{ major: [minors] }`. */
function tableOf(text: string): Record<number, number[]> {
  const rows = [...text.matchAll(/^\s*(\d+): \[([\d,\s]*)\],?$/gm)];
  return Object.fromEntries(
    rows.map((m) => [
      Number(m[1]),
      (m[2] ?? '')
        .split(',')
        .filter((x) => x.trim())
        .map(Number),
    ]),
  );
}

const minors = (major: number, top: number): Release[] =>
  Array.from({ length: top + 1 }, (_, minor) => ({ tag_name: `${major}.${minor}.0` }));

let dir: string;
let out: string;
let api: Api | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pgferry-refresh-'));
  out = path.join(dir, 'known-releases.ts');
  writeFileSync(out, OLD_TABLE);
});
afterEach(async () => {
  await api?.close();
  api = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('refresh-releases', () => {
  it('reads every page and writes the published x.y.0 minors per major, sending the token', async () => {
    // 107 entries: a full first page and a short second one, newest first as the API lists them.
    const all: Release[] = [
      { tag_name: '19.0.0', prerelease: true },
      { tag_name: '18.7.0', draft: true },
      { tag_name: '17.11.1' },
      { tag_name: 'v17.11.0' },
      { tag_name: 'latest' },
      {},
      ...minors(18, 6),
      ...minors(17, 11),
      ...minors(16, 15),
      ...minors(15, 19),
      ...minors(14, 24),
      ...minors(13, 21),
    ].slice(0, 107);
    expect(all.length).toBeGreaterThan(100);
    api = await startApi((page) => ({ body: JSON.stringify(all.slice((page - 1) * 100, page * 100)) }));
    const run = await refresh(api.url, out, { GITHUB_TOKEN: 't0ken' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(api.pages).toEqual([1, 2]);
    expect(api.authorizations).toEqual(['Bearer t0ken', 'Bearer t0ken']);
    const table = tableOf(readFileSync(out, 'utf8'));
    const kept = all.slice(6).map((r) => r.tag_name ?? '');
    const expected: Record<number, number[]> = {};
    for (const tag of kept) {
      const [major, minor] = tag.split('.').map(Number) as [number, number];
      (expected[major] ??= []).push(minor);
    }
    for (const list of Object.values(expected)) list.sort((a, b) => a - b);
    expect(table).toEqual(expected);
    expect(table[18]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(run.stdout).toMatch(/newest 13\.\d+, 14\.\d+, 15\.19, 16\.15, 17\.11, 18\.6; left out /);
    expect(run.stdout).toContain('19.0.0, 18.7.0, 17.11.1, v17.11.0, latest, (no tag)');
  });

  it('sends no authorization without a token', async () => {
    api = await startApi(() => ({ body: JSON.stringify(minors(18, 6)) }));
    const run = await refresh(api.url, out);
    expect(run.code).toBe(0);
    expect(api.authorizations).toEqual([undefined]);
    expect(tableOf(readFileSync(out, 'utf8'))).toEqual({ 18: [0, 1, 2, 3, 4, 5, 6] });
  });

  it.each<[string, Answer, RegExp]>([
    [
      'a failing second page',
      (page) => (page === 1 ? { body: JSON.stringify(minors(17, 99)) } : { status: 502, body: '{}' }),
      /page 2 of .*: HTTP 502/,
    ],
    ['an answer that is not JSON', () => ({ body: '<html>rate limited</html>' }), /page 1 of .*not JSON/],
    ['an answer that is not a list', () => ({ body: '{"message":"Not Found"}' }), /not a list of releases/],
    [
      'a list of drafts and prereleases only',
      () => ({
        body: JSON.stringify([
          { tag_name: '19.0.0', draft: true },
          { tag_name: '19.1.0', prerelease: true },
        ]),
      }),
      /no published x\.y\.0 release among the 2 listed; nothing written/,
    ],
    ['a list that never ends', () => ({ body: JSON.stringify(minors(17, 99)) }), /more than 50 pages/],
  ])('leaves the table as it was after %s, and says why', async (_name, answer, message) => {
    api = await startApi(answer);
    const run = await refresh(api.url, out);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(readFileSync(out, 'utf8')).toBe(OLD_TABLE);
  });

  it('refuses an --api that is not http(s), asking nothing', async () => {
    const run = await refresh('file:///etc/passwd', out);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--api: "file:\/\/\/etc\/passwd" is not an http\(s\) URL/);
    expect(readFileSync(out, 'utf8')).toBe(OLD_TABLE);
  });
});
