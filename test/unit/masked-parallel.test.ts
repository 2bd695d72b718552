import type { TocEntry } from '../../core/pg/archive-toc.js';
import { shareData } from '../../core/jobs/masked-parallel.js';

const entry = (dumpId: number, desc = 'TABLE DATA', section: TocEntry['section'] = 'data'): TocEntry => ({
  dumpId,
  desc,
  tag: `t${dumpId}`,
  section,
});
const at = (entries: TocEntry[]) => entries.map((e, i) => ({ entry: e, at: i }));
const ids = (shares: TocEntry[][]) => shares.map((s) => s.map((e) => e.dumpId));

describe('shareData', () => {
  test('balances by data size, largest first, each share in the archive order', () => {
    const data = at([entry(1), entry(2), entry(3), entry(4), entry(5)]);
    const sizes = new Map([
      [1, 10],
      [2, 100],
      [3, 60],
      [4, 50],
      [5, 5],
    ]);
    // 100 → A; 60 → B; 50 → B (110); 10 → A (110); 5 → the first of the lightest, A.
    expect(ids(shareData(data, sizes, 2))).toEqual([
      [1, 2, 5],
      [3, 4],
    ]);
  });

  test('keeps an entry of no section with the data entry before it', () => {
    const data = at([entry(1), entry(2, 'SEQUENCE SET'), entry(3, 'COMMENT', 'none'), entry(4)]);
    const sizes = new Map([
      [1, 10],
      [4, 20],
    ]);
    expect(ids(shareData(data, sizes, 3))).toEqual([[4], [1], [2, 3]]);
  });

  test('leaves out empty shares and takes at least one', () => {
    expect(ids(shareData(at([entry(7)]), new Map(), 4))).toEqual([[7]]);
    expect(ids(shareData([], new Map(), 4))).toEqual([]);
    expect(ids(shareData(at([entry(1), entry(2)]), new Map(), 0))).toEqual([[1, 2]]);
  });
});
