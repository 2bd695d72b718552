import { stat } from 'node:fs/promises';
import type { TocEntry } from './archive-toc.js';
import { located } from './directory-data.js';

/**
 * How many bytes of the archive each entry's data takes, by dump id: what a parallel restore
 * balances its workers by. A custom file's data blocks lie one after another, so a block ends where
 * the next starts (the last at the end of the file); a directory archive's are files of their own.
 * An entry whose size cannot be told is left out (its caller counts it as small).
 */
export async function dataSizes(
  file: string,
  format: 'custom' | 'directory',
  entries: readonly TocEntry[],
): Promise<Map<number, number>> {
  const sizes = new Map<number, number>();
  if (format === 'directory') {
    for (const e of entries) {
      if (e.dataFile === undefined) continue;
      const found = await located(file, e.dataFile);
      if (found) sizes.set(e.dumpId, (await stat(found.file)).size);
    }
    return sizes;
  }
  const end = (await stat(file)).size;
  const placed = entries
    .filter((e): e is TocEntry & { dataPosition: number } => e.dataPosition !== undefined)
    .sort((a, b) => a.dataPosition - b.dataPosition);
  placed.forEach((e, i) => sizes.set(e.dumpId, (placed[i + 1]?.dataPosition ?? end) - e.dataPosition));
  return sizes;
}
