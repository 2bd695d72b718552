import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: the nearest directory above this module holding scripts/run-ts.mjs. Searched
 * rather than assumed, because this module runs from infra/ (tests) and from a bundle two levels down
 * (.cache/<name>/ when `cdk synth` runs the app through scripts/run-ts.mjs).
 */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'scripts', 'run-ts.mjs')) && existsSync(path.join(dir, 'infra')))
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(
        `cannot find the pgferry repository (scripts/run-ts.mjs) above ${fileURLToPath(import.meta.url)}`,
      );
    }
    dir = parent;
  }
}

export const REPO_FILES = {
  runTs: 'scripts/run-ts.mjs',
  stageClientsCli: 'infra/stage-clients-cli.ts',
  lambdaHandler: 'lambda/handler.ts',
  fleetUnitHandler: 'lambda/fleet-unit.ts',
  fargateTask: 'lambda/task.ts',
  dockerfile: 'infra/image/Dockerfile',
} as const;

export function repoFile(name: keyof typeof REPO_FILES): string {
  return path.join(repoRoot(), REPO_FILES[name]);
}
