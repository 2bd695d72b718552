/** Issue 16: a sharded backup (jobs 2) against a one-object backup, and raw pg_dump -Fd -j2 against -j1. */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { log, s } from './format.js';
import { run } from './process.js';
import { BUCKET, type Bench } from './testbed.js';

export interface ShardedMeasurements {
  backupJobs1: number[];
  backupJobs2: number[];
  rawDirJobs1: number[];
  rawDirJobs2: number[];
}

/** Interleaved, like the dumps: drift on a shared machine hits every variant alike. */
export async function measureSharded(bench: Bench): Promise<ShardedMeasurements> {
  const m: ShardedMeasurements = { backupJobs1: [], backupJobs2: [], rawDirJobs1: [], rawDirJobs2: [] };
  for (let i = 0; i < bench.runs; i++) {
    for (const jobs of [1, 2] as const) {
      const dir = bench.file(`dir-j${jobs}`);
      const raw = await run(bench.pgDump, ['-Fd', `-j${jobs}`, '-f', dir, '-d', 'bench_big'], {
        env: bench.pgEnv,
      });
      rmSync(dir, { recursive: true, force: true });
      (jobs === 1 ? m.rawDirJobs1 : m.rawDirJobs2).push(raw.seconds);
      const backup = await bench.ferry([
        'backup',
        '--from',
        bench.dbUrl('bench_big'),
        '--to',
        `s3://${BUCKET}/sharded${i}j${jobs}/`,
        '--jobs',
        String(jobs),
        ...bench.s3Args,
      ]);
      (jobs === 1 ? m.backupJobs1 : m.backupJobs2).push(backup.seconds);
      log(
        `run ${i + 1}: pg_dump -Fd -j${jobs} ${s(raw.seconds)}, pgferry backup --jobs ${jobs} ${s(backup.seconds)}`,
      );
      rmSync(path.join(bench.s3.dir, BUCKET), { recursive: true, force: true }); // keep the disk free
      await bench.s3.createBucket(BUCKET).catch(() => {});
    }
  }
  return m;
}
