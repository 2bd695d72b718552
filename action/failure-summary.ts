import * as core from '@actions/core';
import { errorCode, type ErrorCode } from '../core/errors.js';
import type { JobOptions } from '../core/options.js';
import { redact } from '../core/pg/run.js';
import { formatLocation } from '../core/storage/location.js';
import { endpoints, escapeHtml } from './summary.js';

/** How far the step got: its inputs read, its job run, or its outputs and summary written. */
export type StepReached = 'inputs' | 'job' | 'report';

export interface FailureFacts {
  error: unknown;
  /** Parsed options, once the inputs were read. */
  options?: JobOptions;
  reached: StepReached;
  /** What the engine said it had committed before the failure, in its words. */
  committed: readonly string[];
  /** Passwords to blank out, as the runner masks them in the log. */
  secrets: readonly string[];
}

/**
 * What the failure cannot have changed, from the engine's guarantees for the step it reached and
 * what it reported committed; a guarantee that no longer holds (something was committed) is not
 * claimed. Nothing is guessed from the message's words.
 */
export function untouched(f: FailureFacts): string[] {
  if (f.reached === 'inputs')
    return ['Nothing ran: no server was contacted, nothing was written, restored or uploaded.'];
  if (f.reached === 'report')
    return ['The job itself had finished; only its outputs or this summary could not be written.'];
  const o = f.options;
  if (!o) return [];
  const path = 'PATH was not changed: later steps do not get the PostgreSQL client tools.';
  if (o.command === 'install') return [path];
  if (o.command === 'backup') {
    // A failed database's backup never moves its latest.json, whatever the others did.
    const which = f.committed.length ? ' of the databases whose backup failed' : '';
    return [`latest.json${which} was not moved.`, path];
  }
  if (f.committed.length) return [path];
  if (o.command === 'dump') {
    const where = formatLocation(o.destination);
    return [
      o.destination.kind === 's3'
        ? `No object was stored at ${where}: a failed dump's upload is never completed.`
        : `Nothing was written at ${where}: pg_dump wrote to a temporary name, removed on failure.`,
      path,
    ];
  }
  return [
    `The target database ${endpoints(o).to ?? ''} is as it was: the ${o.command} commits in one step (one transaction, or a scratch database swapped in at the end), and a database it created for the purpose is dropped again.`,
    path,
  ];
}

/** The step's summary when it failed: what failed, the message (passwords masked), what is untouched. */
export async function writeFailureSummary(f: FailureFacts): Promise<void> {
  const code: ErrorCode = errorCode(f.error);
  const message = redact(f.error instanceof Error ? f.error.message : String(f.error), f.secrets);
  const what =
    f.reached === 'inputs'
      ? 'reading the inputs'
      : `pgferry ${f.options?.command ?? ''}${f.reached === 'report' ? ' (writing its outputs)' : ''}`;
  // A summary half-built before the failure is dropped, not written under the failure's.
  core.summary.emptyBuffer();
  const summary = core.summary
    .addHeading(`pgferry failed: ${escapeHtml(what)}`, 3)
    .addRaw(`<p>Failure code: <code>${code}</code></p>`, true)
    .addCodeBlock(escapeHtml(message));
  if (f.committed.length) {
    summary.addRaw('<p>Done before the failure:</p>', true).addList(f.committed.map(escapeHtml));
  }
  const kept = untouched(f);
  if (kept.length) summary.addRaw('<p>Left untouched:</p>', true).addList(kept.map(escapeHtml));
  await summary.write();
}
