import { describeProgress } from '../../core/progress.js';
import { formatRate, formatSize, formatSizeExact } from '../../core/sizes.js';
import type { Progress } from '../../core/pg/run.js';

describe('formatSize', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [812, '812 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    // Rounds to 1024.0 KiB, so it moves up a unit rather than printing "1024.0 KiB".
    [1024 * 1024 - 1, '1 MiB'],
    [64 * 1024 * 1024, '64 MiB'],
    [2_592_625, '2.5 MiB'],
    [1.2 * 1024 ** 3, '1.2 GiB'],
    [5 * 1024 ** 4, '5 TiB'],
    [3 * 1024 ** 5, '3072 TiB'],
  ])('%d bytes → %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('never prints a small size as 0.0 of a larger unit', () => {
    for (const bytes of [1, 100, 999, 5000, 50_000]) expect(formatSize(bytes)).not.toMatch(/^0\.0 /);
  });

  it('shows what it cannot measure as it is rather than a unit', () => {
    expect(formatSize(-1)).toBe('-1 B');
    expect(formatSize(Number.NaN)).toBe('NaN B');
  });

  it('gives a rate and an exact form', () => {
    expect(formatRate(3.2 * 1024 * 1024)).toBe('3.2 MiB/s');
    expect(formatSizeExact(2_592_625)).toBe('2.5 MiB (2592625 bytes)');
    expect(formatSizeExact(500)).toBe('500 B');
  });
});

describe('describeProgress', () => {
  const base: Progress = { bytes: 0, elapsedMs: 42_000, bytesPerSecond: 0, counts: 'read', measured: true };

  it('says when the bytes cannot be measured instead of a rate of zero', () => {
    const line = describeProgress({ ...base, measured: false });
    expect(line).toBe('… 42 s elapsed (how far it got cannot be measured on this platform)');
    expect(line).not.toMatch(/\/s/);
  });

  it('gives a restore its share of the archive, exact and never 100 % while running', () => {
    const total = { bytes: 40 * 1024 * 1024, of: 'the archive', estimate: false };
    expect(describeProgress({ ...base, bytes: 10 * 1024 * 1024, bytesPerSecond: 250_000, total })).toBe(
      '… 10 MiB read, 25% of the 40 MiB of the archive, 244.1 KiB/s, 42 s elapsed',
    );
    expect(describeProgress({ ...base, bytes: 41 * 1024 * 1024, total })).toContain('99% of the 40 MiB');
  });

  it('marks a dump’s share of the table data as an estimate', () => {
    const total = { bytes: 80 * 1024 * 1024, of: 'table data on disk', estimate: true };
    expect(describeProgress({ ...base, counts: 'written', bytes: 20 * 1024 * 1024, total })).toContain(
      '20 MiB written, ~25% of ~80 MiB of table data on disk (an estimate)',
    );
  });

  it('leaves out a share when the total is unknown or zero', () => {
    expect(describeProgress({ ...base, counts: 'written', bytes: 700, bytesPerSecond: 16.7 })).toBe(
      '… 700 B written, 17 B/s, 42 s elapsed',
    );
    const empty = { bytes: 0, of: 'table data on disk', estimate: true };
    expect(describeProgress({ ...base, bytes: 700, total: empty })).not.toContain('%');
  });
});
