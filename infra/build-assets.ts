// Synth-time inputs of the job's assets, built without Docker: the client tools staged by the
// engine's own provisioning (through infra/stage-clients-cli.ts), the job bundled by esbuild, and the
// container build context. Each lands in a per-process scratch directory and is built once per
// process for the same inputs; CDK then copies it into the cloud assembly and hashes its content.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { nodeBundleOptions } from '../scripts/bundle.mjs';
import { repoFile, repoRoot } from './repo-paths.js';

export interface ClientStaging {
  majors: readonly number[];
  mirror?: string;
  cacheDir?: string;
}

let scratchRoot: string | undefined;
let keepScratch = false;
let scratchCount = 0;
const built = new Map<string, string>();

/**
 * Keeps the scratch directory after the process exits: with asset staging disabled
 * (`cdk synth --no-staging`) the assembly points at these directories instead of copies.
 */
export function keepBuiltAssets(): void {
  keepScratch = true;
}

/**
 * Removes what this process built (also done at exit unless kept). For hosts whose exit hooks do not
 * run, such as a test runner's sandbox; later builds start afresh.
 */
export function removeBuiltAssets(): void {
  if (scratchRoot) rmSync(scratchRoot, { recursive: true, force: true });
  scratchRoot = undefined;
  built.clear();
}

function scratch(name: string): string {
  if (!scratchRoot) {
    const root = mkdtempSync(path.join(os.tmpdir(), 'pgferry-cdk-'));
    scratchRoot = root;
    process.once('exit', () => {
      if (!keepScratch) rmSync(root, { recursive: true, force: true });
    });
  }
  const dir = path.join(scratchRoot, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function once(key: string, build: (dir: string) => void): string {
  const existing = built.get(key);
  if (existing) return existing;
  const dir = scratch(String(scratchCount++));
  build(dir);
  built.set(key, dir);
  return dir;
}

/** A directory holding `pgferry/pg/<major>/{bin,lib}`: the Lambda layer's content (/opt). */
export function stagedClients(s: ClientStaging): string {
  const majors = [...s.majors].sort((a, b) => a - b).join(',');
  return once(`clients ${majors} ${s.mirror ?? ''} ${s.cacheDir ?? ''}`, (dir) => {
    const args = [repoFile('runTs'), repoFile('stageClientsCli'), '--majors', majors, '--out', dir];
    if (s.mirror) args.push('--mirror', s.mirror);
    if (s.cacheDir) args.push('--cache-dir', path.resolve(s.cacheDir));
    try {
      execFileSync(process.execPath, args, {
        cwd: repoRoot(),
        stdio: ['ignore', 'ignore', 'pipe'],
        encoding: 'utf8',
      });
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(
        `postgresMajors: staging the PostgreSQL ${majors} client tools failed: ${(e.stderr || e.message).trim()}`,
        { cause: error },
      );
    }
  });
}

/** One ESM file for Node 24 (the Lambda runtime and the container's base image), as every bundle is made. */
function bundle(entry: string, outfile: string): void {
  buildSync({ ...nodeBundleOptions({ entry, outfile, target: 'node24' }), logLevel: 'silent' });
}

/** The Lambda function's code: `index.mjs` exporting `handler` (lambda/handler.ts). */
export function lambdaCode(): string {
  return once('lambda', (dir) => bundle(repoFile('lambdaHandler'), path.join(dir, 'index.mjs')));
}

/**
 * The container's build context: the Dockerfile, the bundled task at app/task.mjs and the staged
 * clients at opt/pgferry — the Dockerfile only copies these onto the Node base image.
 */
export function imageContext(s: ClientStaging): string {
  const clients = stagedClients(s);
  return once(`image ${clients}`, (dir) => {
    cpSync(repoFile('dockerfile'), path.join(dir, 'Dockerfile'));
    bundle(repoFile('fargateTask'), path.join(dir, 'app', 'task.mjs'));
    cpSync(path.join(clients, 'pgferry'), path.join(dir, 'opt', 'pgferry'), { recursive: true });
  });
}

/** The fleet's function code: `index.mjs` exporting `handler` (lambda/fleet-unit.ts). */
export function fleetUnitCode(): string {
  return once('fleet-unit', (dir) => bundle(repoFile('fleetUnitHandler'), path.join(dir, 'index.mjs')));
}
