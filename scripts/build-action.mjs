// Bundles the Action into one ESM file the runner executes with node24 (committed: action/dist).
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [path.join(root, 'action/index.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  outfile: path.join(root, 'action/dist/index.mjs'),
  // pg's optional native binding is never used.
  external: ['pg-native'],
  // Bundled CommonJS dependencies (pg) still call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __pgferryCreateRequire } from 'node:module';\nconst require = __pgferryCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
