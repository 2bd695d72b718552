// One esbuild setup for every shipped bundle (CLI, Action, Lambda handler, Fargate task): a single
// ESM file that runs on plain Node with no node_modules beside it.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Bundles `entry` (relative to the repo root) into `outfile`; `target` is the Node it runs on. */
export async function bundleNode({ entry, outfile, target }) {
  await build({
    entryPoints: [path.resolve(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target,
    outfile: path.resolve(root, outfile),
    // pg's optional native binding is never used.
    external: ['pg-native'],
    // Bundled CommonJS dependencies (pg, the AWS SDK) still call require() for Node's own modules.
    banner: {
      js: "import { createRequire as __pgferryCreateRequire } from 'node:module';\nconst require = __pgferryCreateRequire(import.meta.url);",
    },
    legalComments: 'none',
    logLevel: 'warning',
  });
}
