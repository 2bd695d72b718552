// Bundles the scheduled job: dist/lambda/handler.mjs (the Lambda) and dist/lambda/task.mjs (the
// Fargate container's command). Both run on Node 24 in AWS; tests run them on the local Node.
import { bundleNode } from './bundle.mjs';

await bundleNode({ entry: 'lambda/handler.ts', outfile: 'dist/lambda/handler.mjs', target: 'node20' });
await bundleNode({ entry: 'lambda/task.ts', outfile: 'dist/lambda/task.mjs', target: 'node20' });
