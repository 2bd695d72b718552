import type { Progress } from './pg/run.js';
import { formatRate, formatSize } from './sizes.js';

const VERB: Record<Progress['counts'], string> = {
  written: 'written',
  read: 'read',
  streamed: 'streamed',
};

/**
 * One progress line, the same for every front end: the bytes so far with their rate and, when a
 * total is known, the share of it ("~" and "estimate" when the total is a guess). A step whose
 * bytes cannot be measured on this platform says so instead of printing a rate of zero.
 */
export function describeProgress(p: Progress): string {
  const elapsed = `${Math.round(p.elapsedMs / 1000)} s elapsed`;
  if (!p.measured) return `… ${elapsed} (how far it got cannot be measured on this platform)`;
  const parts = [`${formatSize(p.bytes)} ${VERB[p.counts]}`];
  if (p.total && p.total.bytes > 0) parts.push(share(p.bytes, p.total));
  parts.push(formatRate(p.bytesPerSecond), elapsed);
  return `… ${parts.join(', ')}`;
}

function share(bytes: number, total: NonNullable<Progress['total']>): string {
  // Still running: never 100 % (an estimate can be overtaken, a re-read can pass the archive's size).
  const percent = Math.min(99, Math.floor((bytes * 100) / total.bytes));
  return total.estimate
    ? `~${percent}% of ~${formatSize(total.bytes)} of ${total.of} (an estimate)`
    : `${percent}% of the ${formatSize(total.bytes)} of ${total.of}`;
}
