// Runs a TypeScript script from plain Node: `node scripts/run-ts.mjs <file.ts> [args…]`.
// esbuild bundles it (dependencies stay external) into .cache/<name>/<name>.mjs — two levels below
// the repository root, like test/harness/, so modules that find the root from import.meta.url
// (test/harness/paths.ts) still do — and the bundle is imported in this process with the given
// arguments in process.argv. The script owns its signal handling and exit code.
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry || !entry.endsWith('.ts')) {
  process.stderr.write('usage: node scripts/run-ts.mjs <file.ts> [args…]\n');
  process.exit(2);
}

const name = path.basename(entry, '.ts');
const outfile = path.join(root, '.cache', name, `${name}.mjs`);
const result = await build({
  entryPoints: [path.resolve(entry)],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outfile,
  write: false,
  logLevel: 'error',
});
mkdirSync(path.dirname(outfile), { recursive: true });
// Written under a temporary name first: two runs at once never import a half-written bundle.
const tmp = `${outfile}.${process.pid}.tmp`;
writeFileSync(tmp, result.outputFiles[0].contents);
renameSync(tmp, outfile);

process.argv = [process.argv[0], outfile, ...args];
await import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
