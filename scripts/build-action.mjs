// Bundles the Action into one ESM file the runner executes with node24 (committed: action/dist).
import { bundleNode } from './bundle.mjs';

await bundleNode({ entry: 'action/index.ts', outfile: 'action/dist/index.mjs', target: 'node24' });
