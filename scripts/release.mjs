// Cuts a release of the commit checked out: checks it can be released, then creates the annotated tag
// vX.Y.Z and moves the major tag vX to the same commit. It pushes nothing; it prints the pushes.
// `node scripts/release.mjs [--dry-run] [--remote <name>]` — docs/releasing.md says when and why.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const USAGE = 'usage: node scripts/release.mjs [--dry-run] [--remote <name>]';
const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;
const BUNDLE_FILES = ['action/dist', 'action.yml'];

class Refusal extends Error {}
class UsageError extends Error {}

function parseArgs(argv) {
  const args = { dryRun: false, remote: 'origin' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--dry-run') args.dryRun = true;
    else if (argv[i] === '--remote' && argv[i + 1] && !argv[i + 1].startsWith('-')) args.remote = argv[++i];
    else throw new UsageError(`unknown argument "${argv[i]}"; ${USAGE}`);
  }
  return args;
}

function git(root, ...args) {
  return execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trimEnd();
}

function checkCleanTree(root) {
  const status = git(root, 'status', '--porcelain', '--untracked-files=all');
  if (status) {
    throw new Refusal(
      `the working tree is not clean; commit or remove these first:\n${status}\n(a release tags a commit, so what is released must be committed)`,
    );
  }
}

/** The version in package.json, checked to be semver; its parts. */
function readVersion(root) {
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const m = SEMVER.exec(String(version));
  if (!m) {
    throw new Refusal(
      `package.json: version "${version}" is not a semantic version; expected MAJOR.MINOR.PATCH such as 1.2.3`,
    );
  }
  return { version, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] };
}

function checkChangelog(root, version) {
  let text;
  try {
    text = readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8');
  } catch {
    throw new Refusal('CHANGELOG.md is missing; expected a "## [X.Y.Z] - date" section for the release');
  }
  const heading = new RegExp(`^## \\[${version.replace(/[.+-]/g, '\\$&')}\\]`, 'm');
  if (!heading.test(text)) {
    throw new Refusal(
      `CHANGELOG.md has no section for ${version}; expected a heading "## [${version}] - YYYY-MM-DD" (move the Unreleased entries under it)`,
    );
  }
}

function tagExists(root, tag) {
  return spawnSync('git', ['rev-parse', '-q', '--verify', `refs/tags/${tag}`], { cwd: root }).status === 0;
}

/** The major tag only moves forward: a fix to an older minor must not take v1 back to it. */
function checkMajorMovesForward(root, v) {
  const key = (m) => [Number(m[2]), Number(m[3])];
  const later = (a, b) => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
  const released = git(root, 'tag', '--list', `v${v.major}.*`)
    .split('\n')
    .map((tag) => SEMVER.exec(tag.slice(1)))
    .filter((m) => m && !m[4] && Number(m[1]) === v.major);
  const newest = released.reduce((best, m) => (!best || later(key(m), key(best)) ? m : best), undefined);
  if (newest && later(key(newest), [v.minor, v.patch])) {
    throw new Refusal(
      `v${newest[0]} is newer than ${v.version}; the major tag v${v.major} would move backwards (release a newer version instead)`,
    );
  }
}

/** Rebuilds the Action bundle and action.yml and refuses when they differ from the commit. */
function checkBundleFresh(root) {
  const build = spawnSync('npm', ['run', '-s', 'build:action'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) {
    throw new Refusal(`npm run build:action failed:\n${(build.stderr || build.stdout).trim()}`);
  }
  const changed = git(root, 'status', '--porcelain', '--untracked-files=all', '--', ...BUNDLE_FILES);
  if (changed) {
    throw new Refusal(
      `action/dist or action.yml is stale: the rebuilt files differ from the commit:\n${changed}\ncommit the rebuilt files (a release's bundle must be built from its own commit), then run this again`,
    );
  }
}

function release(root, args) {
  checkCleanTree(root);
  const v = readVersion(root);
  checkChangelog(root, v.version);
  const tag = `v${v.version}`;
  if (tagExists(root, tag))
    throw new Refusal(`the tag ${tag} exists already; bump the version in package.json`);
  // A prerelease gets its own tag; the major tag stays on the last full release.
  const major = v.prerelease ? undefined : `v${v.major}`;
  if (major) checkMajorMovesForward(root, v);
  checkBundleFresh(root);

  const commit = git(root, 'rev-parse', 'HEAD');
  const message = `pgferry ${v.version}`;
  const steps = [['tag', '-a', tag, '-m', message, commit]];
  if (major) steps.push(['tag', '-f', '-a', major, '-m', `${message} (moving major tag)`, commit]);
  for (const step of steps) {
    if (args.dryRun)
      console.log(`would run: git ${step.map((s) => (s.includes(' ') ? `'${s}'` : s)).join(' ')}`);
    else git(root, ...step);
  }
  console.log(
    `${args.dryRun ? 'dry run: nothing tagged; would tag' : 'tagged'} ${commit.slice(0, 12)} as ${tag}${major ? ` and ${major}` : ''}`,
  );
  console.log('push with:');
  console.log(`  git push ${args.remote} ${tag}`);
  if (major) console.log(`  git push --force ${args.remote} ${major}`);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
try {
  release(root, parseArgs(process.argv.slice(2)));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exitCode = 2;
  } else if (error instanceof Refusal) {
    console.error(`release refused: ${error.message}`);
    process.exitCode = 1;
  } else throw error;
}
