import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ACTION_ONLY_INPUTS, INPUTS } from '../../core/options.js';
import { REPO_ROOT } from '../harness/paths.js';

/**
 * What the Marketplace checks when a release is published, checked here so that a change to the
 * generator fails `npm test` instead of the release form: a description under 125 characters, a
 * branding icon and color from GitHub's sets, one metadata file, at the root.
 */

/** GitHub's nine branding colors. */
const COLORS = ['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark'];
/**
 * The icons that would suit pgferry, each one of the Feather icons GitHub allows; a pick outside
 * this list has to be checked against GitHub's list and added here.
 */
const ICONS = ['database', 'archive', 'hard-drive', 'server', 'download-cloud', 'upload-cloud', 'package'];

interface Metadata {
  name?: unknown;
  description?: unknown;
  branding?: { icon?: unknown; color?: unknown };
}

function marketplaceProblems(yml: Metadata): string[] {
  const problems: string[] = [];
  if (typeof yml.name !== 'string' || !yml.name.trim()) problems.push('name is missing');
  if (typeof yml.description !== 'string' || !yml.description.trim()) {
    problems.push('description is missing');
  } else if (yml.description.length >= 125) {
    problems.push(
      `description is ${yml.description.length} characters; the Marketplace takes fewer than 125`,
    );
  }
  if (!ICONS.includes(String(yml.branding?.icon)))
    problems.push(`branding.icon ${String(yml.branding?.icon)}`);
  if (!COLORS.includes(String(yml.branding?.color))) {
    problems.push(`branding.color ${String(yml.branding?.color)}`);
  }
  return problems;
}

const actionYml = (): Metadata & {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; main: string };
} => parse(readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8'));

describe('action.yml meets the Marketplace checklist', () => {
  it('has a name, a description under 125 characters and valid branding', () => {
    expect(marketplaceProblems(actionYml())).toEqual([]);
  });

  it('the check refuses what the Marketplace refuses', () => {
    const good = actionYml();
    expect(marketplaceProblems({ ...good, description: 'x'.repeat(125) })).toEqual([
      'description is 125 characters; the Marketplace takes fewer than 125',
    ]);
    expect(marketplaceProblems({ ...good, description: 'x'.repeat(124) })).toEqual([]);
    expect(marketplaceProblems({ ...good, branding: { icon: 'coffee', color: 'pink' } })).toEqual([
      'branding.icon coffee',
      'branding.color pink',
    ]);
    expect(marketplaceProblems({ description: ' ' })).toEqual([
      'name is missing',
      'description is missing',
      'branding.icon undefined',
      'branding.color undefined',
    ]);
  });

  it('says what it does: every command, in the name or the description', () => {
    const { name, description } = actionYml();
    const text = `${String(name)} ${String(description)}`.toLowerCase();
    for (const word of ['install', 'dump', 'restore', 'copy', 'back']) expect(text).toContain(word);
    expect(String(name)).toMatch(/^pgferry\b/);
  });

  it('is the one action in the repository, at its root, and runs the committed bundle', () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\n');
    expect(tracked.filter((f) => /(^|\/)action\.ya?ml$/.test(f))).toEqual(['action.yml']);
    expect(existsSync(path.join(REPO_ROOT, 'action.yaml'))).toBe(false);
    const { runs } = actionYml();
    expect(runs).toEqual({ using: 'node24', main: 'action/dist/index.mjs' });
  });

  it('token is an Action input only: it defaults to the workflow token on github.com alone', () => {
    const { inputs } = actionYml();
    expect(inputs.token?.default).toBe(
      "${{ github.server_url == 'https://github.com' && github.token || '' }}",
    );
    // The CLI's flags, PGFERRY_ variables and help come from INPUTS: none of them has a token.
    expect(INPUTS.map((i) => i.name)).not.toContain('token');
    expect(ACTION_ONLY_INPUTS.map((i) => i.name)).toEqual(['token']);
  });
});
