// The test bed's mirror in a process of its own: a test that blocks its event loop on a child
// (the CDK bundling hook staging clients with execFileSync) must not also block the mirror that
// child downloads from, as it would when Jest runs that test in the process that started it.
// Prints the URL, then serves until its stdin closes (the parent exited) or SIGTERM.
import { startMirror } from './mirror.js';

const root = process.argv[2];
if (!root) {
  process.stderr.write('usage: mirror-process <root>\n');
  process.exit(2);
}
const server = await startMirror(root);
const stop = (): void => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
process.stdout.write(`${server.url}\n`);
