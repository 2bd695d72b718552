// Bundles the CLI into dist/pgferry.mjs: the `pgferry` bin and the demo's.
import { chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { nodeBundleOptions, root } from './bundle.mjs';

const outfile = path.join(root, 'dist/pgferry.mjs');
// `pgferry --version` is package.json's version at build time (core/cli-version.ts).
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
await build({
  ...nodeBundleOptions({ entry: 'core/cli-entry.ts', outfile, target: 'node20' }),
  define: { PGFERRY_VERSION: JSON.stringify(version) },
});
chmodSync(outfile, 0o755);
