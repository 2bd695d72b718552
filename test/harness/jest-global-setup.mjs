// Jest loads global setup through CommonJS require, which cannot follow the `.js` → `.ts` imports of
// ESM TypeScript; esbuild bundles the harness lifecycle into one module that plain Node imports.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const lifecycleBundle = path.join(here, '../../.cache/harness/lifecycle.mjs');

export async function loadLifecycle() {
  await build({
    entryPoints: [path.join(here, 'lifecycle.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: lifecycleBundle,
    logLevel: 'error',
  });
  return import(`${lifecycleBundle}?t=${Date.now()}`);
}

export default async function globalSetup(globalConfig) {
  const lifecycle = await loadLifecycle();
  globalThis.__pgferryLifecycle = lifecycle;
  await lifecycle.globalSetup(globalConfig);
}
