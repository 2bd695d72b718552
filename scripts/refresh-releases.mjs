// Refreshes core/pg/clients/known-releases.ts, the versions pgferry falls back on when it cannot ask
// the releases API, from the GitHub releases of theseus-rs/postgresql-binaries.
//
//   node scripts/refresh-releases.mjs [--api <releases URL>] [--out <file>]
//
// GITHUB_TOKEN, when set, authenticates (rate limits). --api points it at another server laid out
// like the API (tests use a loopback one). Nothing is written unless every page read cleanly.
/* global fetch, AbortSignal */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_API = 'https://api.github.com/repos/theseus-rs/postgresql-binaries/releases';
const DEFAULT_OUT = path.join(root, 'core/pg/clients/known-releases.ts');
const PER_PAGE = 100;
// Far more pages than the project has releases: a server that never ends its list is refused.
const MAX_PAGES = 50;
const TAG = /^(\d+)\.(\d+)\.(\d+)$/;

function fail(message) {
  process.stderr.write(`refresh-releases: ${message}\n`);
  process.exit(1);
}

function readArgs(argv) {
  const args = { api: DEFAULT_API, out: DEFAULT_OUT };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    if ((name === '--api' || name === '--out') && value !== undefined) {
      args[name.slice(2)] = value;
      i++;
    } else {
      fail(`unknown argument ${JSON.stringify(name)}; expected --api <URL> or --out <file>`);
    }
  }
  if (!/^https?:\/\//.test(args.api)) fail(`--api: ${JSON.stringify(args.api)} is not an http(s) URL`);
  return args;
}

async function readPage(api, page, token) {
  const url = new URL(api);
  url.searchParams.set('per_page', String(PER_PAGE));
  url.searchParams.set('page', String(page));
  const headers = { accept: 'application/vnd.github+json', 'user-agent': 'pgferry-refresh-releases' };
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    fail(`page ${page} of ${url.origin}${url.pathname}: ${error.message}`);
  }
  if (!res.ok) fail(`page ${page} of ${url.origin}${url.pathname}: HTTP ${res.status}`);
  let body;
  try {
    body = await res.json();
  } catch {
    fail(`page ${page} of ${url.origin}${url.pathname}: the answer is not JSON`);
  }
  if (!Array.isArray(body))
    fail(`page ${page} of ${url.origin}${url.pathname}: the answer is not a list of releases`);
  return body;
}

/** major → sorted minors of the published x.y.0 releases; drafts, prereleases and odd tags left out. */
function minorsByMajor(releases) {
  const table = new Map();
  const skipped = [];
  for (const r of releases) {
    const tag = typeof r?.tag_name === 'string' ? r.tag_name : undefined;
    const m = tag === undefined ? null : TAG.exec(tag);
    if (r?.draft || r?.prerelease || !m || m[3] !== '0') {
      skipped.push(tag ?? '(no tag)');
      continue;
    }
    const major = Number(m[1]);
    const minors = table.get(major) ?? new Set();
    minors.add(Number(m[2]));
    table.set(major, minors);
  }
  return { table, skipped };
}

function render(table) {
  const rows = [...table.keys()]
    .sort((a, b) => a - b)
    .map((major) => `  ${major}: [${[...table.get(major)].sort((a, b) => a - b).join(', ')}],`);
  return [
    '// Written by scripts/refresh-releases.mjs from the GitHub releases of theseus-rs/postgresql-binaries;',
    '// edit by running it again, not by hand.',
    '/**',
    ' * The minors published for each major, used when the releases API cannot be asked (offline,',
    ' * rate-limited).',
    ' */',
    'export const KNOWN_RELEASES: Readonly<Record<number, readonly number[]>> = {',
    ...rows,
    '};',
    '',
  ].join('\n');
}

const args = readArgs(process.argv.slice(2));
const releases = [];
for (let page = 1; ; page++) {
  if (page > MAX_PAGES) fail(`more than ${MAX_PAGES} pages of releases; refusing a list that does not end`);
  const body = await readPage(args.api, page, process.env.GITHUB_TOKEN);
  releases.push(...body);
  if (body.length < PER_PAGE) break;
}
const { table, skipped } = minorsByMajor(releases);
if (table.size === 0) fail(`no published x.y.0 release among the ${releases.length} listed; nothing written`);

const config = (await prettier.resolveConfig(args.out)) ?? {};
const text = await prettier.format(render(table), { ...config, filepath: args.out });
const temp = `${args.out}.tmp-${process.pid}`;
await writeFile(temp, text);
await rename(temp, args.out);
const summary = [...table.keys()]
  .sort((a, b) => a - b)
  .map((major) => `${major}.${Math.max(...table.get(major))}`)
  .join(', ');
process.stdout.write(
  `wrote ${path.relative(process.cwd(), args.out) || args.out}: newest ${summary}${skipped.length ? `; left out ${skipped.join(', ')}` : ''}\n`,
);
