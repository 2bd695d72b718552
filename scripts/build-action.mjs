// Bundles the Action into one ESM file the runner executes with node24 (committed: action/dist).
import { build } from 'esbuild';
import { nodeBundleOptions } from './bundle.mjs';

await build({
  ...nodeBundleOptions({ entry: 'action/index.ts', outfile: 'action/dist/index.mjs', target: 'node24' }),
  // One HTTP stack (node:http/https) for the whole bundle: undici, pulled in by @actions/http-client,
  // would install itself as fetch's global dispatcher on load (see action/undici-stub.ts).
  alias: { undici: './action/undici-stub.ts' },
});
