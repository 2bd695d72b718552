// Bundles the CLI into dist/pgferry.mjs: the `pgferry` bin, the Fargate task's command and the demo's.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'dist/pgferry.mjs');
await build({
  entryPoints: [path.join(root, 'core/cli-entry.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  external: ['pg-native'],
  banner: {
    js: "import { createRequire as __pgferryCreateRequire } from 'node:module';\nconst require = __pgferryCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
