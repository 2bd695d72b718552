// Bundles the CLI into dist/pgferry.mjs: the `pgferry` bin and the demo's.
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { bundleNode, root } from './bundle.mjs';

const outfile = path.join(root, 'dist/pgferry.mjs');
await bundleNode({ entry: 'core/cli-entry.ts', outfile, target: 'node20' });
chmodSync(outfile, 0o755);
