import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { scratchDir } from '../harness/engine.js';
import { REPO_ROOT } from '../harness/paths.js';

/**
 * scripts/release.mjs in a clone of this repository (its node_modules linked in, so the bundle is
 * rebuilt for real): each thing that must stop a release stops it with no tag made, and a release
 * that may go creates vX.Y.Z and moves vX forward to the same commit.
 */
const scratch = scratchDir();
const clone = path.join(scratch.dir, 'repo');
afterAll(() => scratch.cleanup());

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: clone, encoding: 'utf8' }).trim();
}

function release(...args: string[]): { code: number | null; out: string; err: string } {
  const run = spawnSync(process.execPath, ['scripts/release.mjs', ...args], { cwd: clone, encoding: 'utf8' });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

function tags(): string[] {
  return git('tag', '--list').split('\n').filter(Boolean).sort();
}

function commitAll(message: string): void {
  git('add', '-A');
  git('commit', '-q', '-m', message);
}

function setVersion(version: string, changelogSection = true): void {
  const pkg = path.join(clone, 'package.json');
  writeFileSync(pkg, readFileSync(pkg, 'utf8').replace(/"version": "[^"]*"/, `"version": "${version}"`));
  if (changelogSection) {
    const log = path.join(clone, 'CHANGELOG.md');
    const text = readFileSync(log, 'utf8');
    writeFileSync(log, text.replace('## [Unreleased]', `## [Unreleased]\n\n## [${version}] - 2026-12-03`));
  }
}

beforeAll(() => {
  execFileSync('git', ['clone', '-q', REPO_ROOT, clone]);
  git('config', 'user.name', 'release test');
  git('config', 'user.email', 'release-test@example.invalid');
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(clone, 'node_modules'));
  appendFileSync(path.join(clone, '.git', 'info', 'exclude'), 'node_modules\n');
  // The script under test, and a bundle built from this clone's own sources.
  copyFileSync(path.join(REPO_ROOT, 'scripts/release.mjs'), path.join(clone, 'scripts/release.mjs'));
  execFileSync('npm', ['run', '-s', 'build:action'], { cwd: clone, stdio: 'ignore' });
  commitAll('release under test, bundle rebuilt');
  const inherited = tags();
  if (inherited.length) git('tag', '-d', ...inherited);
}, 120_000);

describe('scripts/release.mjs', () => {
  it('refuses a working tree with an untracked or a changed file', () => {
    writeFileSync(path.join(clone, 'stray.txt'), 'x');
    const untracked = release();
    rmSync(path.join(clone, 'stray.txt'));
    expect(untracked.code).toBe(1);
    expect(untracked.err).toMatch(/^release refused: the working tree is not clean/);
    expect(untracked.err).toContain('?? stray.txt');

    appendFileSync(path.join(clone, 'README.md'), '\nedited\n');
    const changed = release('--dry-run');
    git('checkout', '--', 'README.md');
    expect(changed.code).toBe(1);
    expect(changed.err).toContain(' M README.md');
    expect(tags()).toEqual([]);
  });

  it('refuses a version that is not semver, or that CHANGELOG.md has no section for', () => {
    setVersion('1.0', false);
    commitAll('not semver');
    const notSemver = release();
    expect(notSemver.code).toBe(1);
    expect(notSemver.err).toContain('package.json: version "1.0" is not a semantic version');

    setVersion('0.2.0', false);
    commitAll('0.2.0 without a changelog section');
    const missing = release();
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('CHANGELOG.md has no section for 0.2.0');
    git('reset', '-q', '--hard', 'HEAD~2');
    expect(tags()).toEqual([]);
  });

  it('refuses a stale bundle: a source change committed without rebuilding action/dist', () => {
    const file = path.join(clone, 'core/pg/clients/releases.ts');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('using the versions pgferry ships with');
    writeFileSync(file, text.replace('using the versions pgferry ships with', 'using the shipped versions'));
    commitAll('source changed, bundle not rebuilt');
    const stale = release();
    expect(stale.code).toBe(1);
    expect(stale.err).toContain('action/dist or action.yml is stale');
    expect(stale.err).toContain('action/dist/index.mjs');
    git('checkout', '-q', '--', '.');
    git('reset', '-q', '--hard', 'HEAD~1');
    expect(tags()).toEqual([]);
  });

  it('a dry run checks everything and tags nothing', () => {
    const dry = release('--dry-run', '--remote', 'upstream');
    expect(dry.err).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain("would run: git tag -a v0.1.0 -m 'pgferry 0.1.0'");
    expect(dry.out).toContain('git push upstream v0.1.0');
    expect(dry.out).toContain('git push --force upstream v0');
    expect(tags()).toEqual([]);
  });

  it('tags vX.Y.Z (annotated) and moves vX to the same commit, then forward with the next release', () => {
    const first = release();
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const firstCommit = git('rev-parse', 'HEAD');
    expect(tags()).toEqual(['v0', 'v0.1.0']);
    expect(git('cat-file', '-t', 'v0.1.0')).toBe('tag');
    expect(git('rev-parse', 'v0.1.0^{commit}')).toBe(firstCommit);
    expect(git('rev-parse', 'v0^{commit}')).toBe(firstCommit);
    expect(first.out).toContain('git push origin v0.1.0');
    expect(first.out).toContain('git push --force origin v0');

    expect(release().err).toContain('the tag v0.1.0 exists already');

    setVersion('0.1.1');
    commitAll('release 0.1.1');
    const second = release();
    expect(second.code).toBe(0);
    const secondCommit = git('rev-parse', 'HEAD');
    expect(git('rev-parse', 'v0^{commit}')).toBe(secondCommit);
    expect(git('rev-parse', 'v0.1.0^{commit}')).toBe(firstCommit);
    expect(tags()).toEqual(['v0', 'v0.1.0', 'v0.1.1']);
  });

  it('never moves the major tag backwards to an older version', () => {
    git('checkout', '-q', '-b', 'old-line', 'v0.1.0');
    setVersion('0.0.9');
    commitAll('release 0.0.9 on an old line');
    const back = release();
    expect(back.code).toBe(1);
    expect(back.err).toContain('v0.1.1 is newer than 0.0.9; the major tag v0 would move backwards');
    expect(tags()).toEqual(['v0', 'v0.1.0', 'v0.1.1']);
    expect(git('rev-parse', 'v0^{commit}')).toBe(git('rev-parse', 'v0.1.1^{commit}'));
  });

  it('an unknown argument is a usage error (exit 2)', () => {
    const bad = release('--push');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('unknown argument "--push"; usage: node scripts/release.mjs');
  });
});
