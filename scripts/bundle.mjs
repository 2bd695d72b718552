// One esbuild setup for every shipped bundle (CLI, Action, Lambda handler, Fargate task): a single
// ESM file that runs on plain Node with no node_modules beside it. infra/ uses the same options
// synchronously (a CDK constructor cannot wait).
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** esbuild options bundling `entry` (relative to the repo root) into `outfile` for Node `target`. */
export function nodeBundleOptions({ entry, outfile, target }) {
  return {
    entryPoints: [path.resolve(root, entry)],
    // Paths in the bundle's comments are relative to this: the same bytes from any working directory.
    absWorkingDir: root,
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
  };
}

export async function bundleNode(spec) {
  await build(nodeBundleOptions(spec));
}
