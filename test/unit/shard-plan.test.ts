import { describe, expect, it } from '@jest/globals';
import { balance } from '../../core/jobs/shard-plan.js';

const t = (name: string, bytes: number) => ({ name, bytes });

describe('balance', () => {
  it('puts the largest first, each into the lightest bin', () => {
    const bins = balance([t('a', 10), t('b', 70), t('c', 30), t('d', 40), t('e', 20)], 2);
    expect(bins.map((b) => b.items.map((i) => i.name))).toEqual([
      ['b', 'e'],
      ['d', 'c', 'a'],
    ]);
    expect(bins.map((b) => b.bytes)).toEqual([90, 80]);
  });
  it('never makes an empty bin: more bins than items gives one per item', () => {
    expect(balance([t('a', 1), t('b', 0)], 5).map((b) => b.items.length)).toEqual([1, 1]);
    expect(balance([], 3)).toEqual([]);
    expect(balance([t('a', 1)], 0)).toHaveLength(1);
  });
  it('keeps every item exactly once', () => {
    const items = Array.from({ length: 50 }, (_, i) => t(`t${i}`, (i * 7919) % 101));
    const bins = balance(items, 4);
    expect(bins.flatMap((b) => b.items).sort((x, y) => x.name.localeCompare(y.name))).toEqual(
      [...items].sort((x, y) => x.name.localeCompare(y.name)),
    );
    const sums = bins.map((b) => b.bytes);
    expect(Math.max(...sums) - Math.min(...sums)).toBeLessThanOrEqual(100);
  });
});
