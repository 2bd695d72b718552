import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dataSizes } from '../pg/archive-data-sizes.js';
import { readTocEntries, type TocEntry, type TocSection } from '../pg/archive-toc.js';
import { pipelineAbort, settlePipeline, type Progress } from '../pg/run.js';
import type { ApplyRequest } from './apply-archive.js';

/**
 * A masked restore in parallel, in pg_restore's own three sections: the pre-data in one transaction,
 * then the data by `jobs` workers — each a pg_restore of its share of the data entries, written as
 * a script, through a masking stream of its own into a psql of its own — then the post-data
 * (indexes, constraints) with pg_restore -j, which needs no masking. It commits in parts, so it
 * runs only into a database this run made, which a failure drops whole (masked-jobs.ts decides).
 */
export interface SectionRunners {
  direct: (r: ApplyRequest) => Promise<void>;
  script: (r: ApplyRequest) => Promise<string[]>;
}

export async function applyMaskedInParallel(r: ApplyRequest, run: SectionRunners): Promise<string[]> {
  const file = 'file' in r.input ? r.input.file : undefined;
  const format = r.archive.format;
  if (!r.masking || file === undefined || (format !== 'custom' && format !== 'directory'))
    throw new Error('a masked parallel restore needs masking and a custom or directory archive file');
  const entries = await readTocEntries(file, format);
  const shares = shareData(dataEntries(entries), await dataSizes(file, format, entries), r.jobs);
  const masking = r.masking;
  await run.direct({ ...r, jobs: 1, masking: undefined, epilogue: undefined, only: { section: 'pre-data' } });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgferry-lists-'));
  try {
    const { controller, signal } = pipelineAbort(r.signal);
    const progress = combinedProgress(r, shares.length);
    const workers = shares.map(async (share, i) => {
      const list = path.join(dir, `worker-${i + 1}.list`);
      // pg_restore reads each line's leading dump id; the rest is comment.
      await writeFile(list, share.map((e) => `${e.dumpId}; ${e.desc}\n`).join(''));
      return run.script({
        ...r,
        jobs: 1,
        only: { section: 'data', list },
        masking: masking.another(),
        epilogue: undefined,
        signal,
        onProgress: progress?.(i),
        label: `the data script of worker ${i + 1} of ${shares.length}`,
      });
    });
    const filtered = await settlePipeline(controller, workers);
    await run.direct({ ...r, masking: undefined, only: { section: 'post-data' } });
    return [...new Set(filtered.flat())];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The entries pg_restore --section=data restores: those of the data section, and the ones of no
 * section (comments, ACLs) that follow them, which pg_restore counts in the section before them.
 */
function dataEntries(entries: readonly TocEntry[]): { entry: TocEntry; at: number }[] {
  let current: TocSection = 'pre-data';
  const out: { entry: TocEntry; at: number }[] = [];
  entries.forEach((entry, at) => {
    const section = entry.section ?? legacySection(entry.desc);
    if (section !== 'none') current = section;
    if (current === 'data') out.push({ entry, at });
  });
  return out;
}

/** Archives before 1.11 (PostgreSQL 9.2) record no section: their data entries by kind. */
function legacySection(desc: string): TocSection {
  return ['TABLE DATA', 'SEQUENCE SET', 'BLOBS'].includes(desc) ? 'data' : 'none';
}

/**
 * Up to `jobs` shares of the data entries, balanced by their data's size: largest first, each to
 * the share with the fewest bytes so far. Each share keeps the archive's order (an entry of no
 * section stays after the one it belongs to, both in the same share). Empty shares are left out.
 */
export function shareData(
  data: readonly { entry: TocEntry; at: number }[],
  sizes: ReadonlyMap<number, number>,
  jobs: number,
): TocEntry[][] {
  // An entry of no section goes with the data entry before it.
  const groups: { entry: TocEntry; at: number }[][] = [];
  for (const d of data) {
    const last = groups.at(-1);
    if (last && d.entry.section === 'none') last.push(d);
    else groups.push([d]);
  }
  const size = (g: { entry: TocEntry }[]) => g.reduce((sum, d) => sum + (sizes.get(d.entry.dumpId) ?? 0), 0);
  const shares = Array.from({ length: Math.max(1, jobs) }, () => ({
    bytes: 0,
    items: [] as (typeof data)[number][],
  }));
  for (const g of [...groups].sort((a, b) => size(b) - size(a))) {
    const lightest = shares.reduce((min, s) => (s.bytes < min.bytes ? s : min));
    lightest.bytes += size(g);
    lightest.items.push(...g);
  }
  return shares
    .filter((s) => s.items.length > 0)
    .map((s) => s.items.sort((a, b) => a.at - b.at).map((d) => d.entry));
}

/**
 * The workers' progress as one: each worker's pg_restore counts what it read, and the restore is
 * told the sum, at most once an interval, however many workers tick.
 */
function combinedProgress(
  r: ApplyRequest,
  workers: number,
): ((i: number) => (p: Progress) => void) | undefined {
  const report = r.onProgress;
  if (!report) return undefined;
  const latest = new Array<number>(workers).fill(0);
  const interval = (r.progressIntervalMs ?? 10_000) * 0.9;
  let last = 0;
  return (i) => (p) => {
    latest[i] = p.bytes;
    const now = Date.now();
    if (now - last < interval) return;
    last = now;
    const bytes = latest.reduce((a, b) => a + b, 0);
    report({ ...p, bytes, bytesPerSecond: p.elapsedMs > 0 ? (bytes * 1000) / p.elapsedMs : 0 });
  };
}
