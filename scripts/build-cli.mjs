// Bundles the CLI into dist/pgferry.mjs: the `pgferry` bin (its `#!/usr/bin/env node` comes from
// core/cli-entry.ts), the demo's and the npm package's only code, with every dependency inside.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { nodeBundleOptions, root } from './bundle.mjs';

const outfile = path.join(root, 'dist/pgferry.mjs');
// `pgferry --version` is package.json's version at build time (core/cli-version.ts).
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const result = await build({
  ...nodeBundleOptions({ entry: 'core/cli-entry.ts', outfile, target: 'node22' }),
  define: { PGFERRY_VERSION: JSON.stringify(version) },
  write: false,
});
// Written under a temporary name first: `npm pack` rebuilds while other tests run the bundle.
mkdirSync(path.dirname(outfile), { recursive: true });
const tmp = `${outfile}.${process.pid}.tmp`;
writeFileSync(tmp, result.outputFiles[0].contents, { mode: 0o755 });
renameSync(tmp, outfile);
