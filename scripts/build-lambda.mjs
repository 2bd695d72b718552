// Bundles the scheduled job: dist/lambda/handler.mjs (the Lambda), dist/lambda/fleet-unit.mjs (a
// fleet's unit Lambda) and dist/lambda/task.mjs (the Fargate container's
// command, fleets included). All run on Node 24 in AWS; tests run them on the local Node.
import { bundleNode } from './bundle.mjs';

await bundleNode({ entry: 'lambda/handler.ts', outfile: 'dist/lambda/handler.mjs', target: 'node20' });
await bundleNode({ entry: 'lambda/task.ts', outfile: 'dist/lambda/task.mjs', target: 'node20' });
await bundleNode({ entry: 'lambda/fleet-unit.ts', outfile: 'dist/lambda/fleet-unit.mjs', target: 'node20' });
