import {
  DEFAULT_BYTES_PER_SECOND,
  estimateDuration,
  FIXED_OVERHEAD_SECONDS,
  type PastRun,
} from '../../core/jobs/predict-duration.js';

const MiB = 1024 * 1024;
const run = (mib: number, seconds: number, verification: 'list' | 'restore' = 'list'): PastRun => ({
  databaseBytes: mib * MiB,
  durationSeconds: seconds,
  verification,
});

describe('duration estimate', () => {
  it('uses the default rate of the verification when there is no history', () => {
    const list = estimateDuration(800 * MiB, 'list', []);
    expect(list).toMatchObject({ basis: 'default', runs: 0, bytesPerSecond: DEFAULT_BYTES_PER_SECOND.list });
    expect(list.estimateSeconds).toBe(FIXED_OVERHEAD_SECONDS + 100);
    expect(estimateDuration(800 * MiB, 'restore', []).estimateSeconds).toBe(FIXED_OVERHEAD_SECONDS + 200);
    expect(estimateDuration(768 * MiB, 'full', []).estimateSeconds).toBe(FIXED_OVERHEAD_SECONDS + 128);
    expect(estimateDuration(0, 'list', []).estimateSeconds).toBe(FIXED_OVERHEAD_SECONDS);
  });

  it('learns the median throughput of past runs of the same verification', () => {
    // 10, 20, 40 MiB/s: the median 20 — one unusually fast or slow night does not move it.
    const past = [run(100, 10), run(200, 10), run(400, 10), run(100, 1, 'restore')];
    const e = estimateDuration(2000 * MiB, 'list', past);
    expect(e).toMatchObject({ basis: 'history', runs: 3, bytesPerSecond: 20 * MiB });
    expect(e.estimateSeconds).toBe(FIXED_OVERHEAD_SECONDS + 100);
    // An even count takes the mean of the middle two.
    expect(estimateDuration(0, 'list', [run(10, 1), run(30, 1)]).bytesPerSecond).toBe(20 * MiB);
  });

  it('ignores runs that cannot give a rate, and rounds up', () => {
    const e = estimateDuration(1, 'list', [run(100, 0), run(0, 5)]);
    expect(e.basis).toBe('default');
    expect(e.estimateSeconds).toBe(FIXED_OVERHEAD_SECONDS + 1);
    // A restore estimate learns only from restore drills.
    expect(estimateDuration(8 * MiB, 'restore', [run(100, 1)]).basis).toBe('default');
  });
});
