/** The demo's cleanup: a stack of undo steps, run once, on success, failure or signal. */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { redact } from './output.js';

export const TEMP_PREFIX = 'pgferry-demo-';

const undo: { what: string; run: () => Promise<void> | void }[] = [];
/** Child processes still running, stopped first by the cleanup. */
export const children = new Set<ChildProcess>();
let interrupted = false;
let cleaning: Promise<void> | undefined;

/** Registers an undo step; the cleanup runs them last registered first. */
export function onCleanup(what: string, run: () => Promise<void> | void): void {
  undo.push({ what, run });
}

export function wasInterrupted(): boolean {
  return interrupted;
}

export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of children) child.kill('SIGTERM');
    children.clear();
    while (undo.length) {
      const step = undo.pop()!;
      try {
        await step.run();
      } catch (error) {
        process.stderr.write(`demo: cleanup (${step.what}) failed: ${redact(String(error))}\n`);
      }
    }
  })();
  return cleaning;
}

/** On SIGINT or SIGTERM: clean up, then exit 130. */
export function cleanupOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      interrupted = true;
      process.stderr.write(`\ndemo: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}; cleaning up…\n`);
      // A signal handler cannot be awaited; the process exits once cleanup has settled either way.
      void cleanup().finally(() => process.exit(130));
    });
}

function isRunning(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch {
    return false;
  }
}

/** Our temp dirs name their owner; those of runs that died (killed, power cut) are removed. */
export function removeStaleTempDirs(): void {
  const tmp = os.tmpdir();
  for (const name of readdirSync(tmp)) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const dir = path.join(tmp, name);
    const ownerFile = path.join(dir, 'owner.pid');
    // A dir without its owner file yet may belong to a run that is just starting: give it a minute.
    if (!existsSync(ownerFile) && Date.now() - statSync(dir).mtimeMs < 60_000) continue;
    const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8')) : NaN;
    const alive = Number.isInteger(owner) && owner > 0 && isRunning(owner);
    if (!alive) rmSync(dir, { recursive: true, force: true });
  }
}
