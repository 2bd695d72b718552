/**
 * Issue 16: a sharded backup (jobs 2) against a one-object backup, raw pg_dump -Fd -j2 against -j1,
 * the restore of each with 2 jobs, and pgferry's peak RSS per worker count at both sizes.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { log, mb, s } from './format.js';
import { run } from './process.js';
import { ferryRestoreInto } from './restores.js';
import { BUCKET, type Bench } from './testbed.js';

export interface ShardedMeasurements {
  backupJobs1: number[];
  backupJobs2: number[];
  rawDirJobs1: number[];
  rawDirJobs2: number[];
  /** `pgferry restore --jobs 2` of the jobs-1 backup (one object) and of the jobs-2 one (parts). */
  restoreOneObject: number[];
  restoreSharded: number[];
  /** Peak RSS of the backup CLI, by worker count and database. */
  rss: { big1: number[]; big2: number[]; small1: number[]; small2: number[] };
}

const prefixOf = (db: string, run: number, jobs: number): string => `sharded${run}j${jobs}${db}/`;

async function shardedBackup(bench: Bench, db: string, prefix: string, jobs: number) {
  return bench.ferry([
    'backup',
    '--from',
    bench.dbUrl(db),
    '--to',
    `s3://${BUCKET}/${prefix}`,
    '--jobs',
    String(jobs),
    ...bench.s3Args,
  ]);
}

/** Interleaved, like the dumps: drift on a shared machine hits every variant alike. */
export async function measureSharded(bench: Bench): Promise<ShardedMeasurements> {
  const m: ShardedMeasurements = {
    backupJobs1: [],
    backupJobs2: [],
    rawDirJobs1: [],
    rawDirJobs2: [],
    restoreOneObject: [],
    restoreSharded: [],
    rss: { big1: [], big2: [], small1: [], small2: [] },
  };
  for (let i = 0; i < bench.runs; i++) {
    for (const jobs of [1, 2] as const) {
      const dir = bench.file(`dir-j${jobs}`);
      // The compression pgferry's parts use (zstd:1): pg_dump -Fd's default gzip is CPU-bound
      // enough that a second job gains from compressing alone.
      const raw = await run(
        bench.pgDump,
        ['-Fd', '-Z', 'zstd:1', `-j${jobs}`, '-f', dir, '-d', 'bench_big'],
        {
          env: bench.pgEnv,
        },
      );
      rmSync(dir, { recursive: true, force: true });
      (jobs === 1 ? m.rawDirJobs1 : m.rawDirJobs2).push(raw.seconds);
      const backup = await shardedBackup(bench, 'bench_big', prefixOf('big', i, jobs), jobs);
      (jobs === 1 ? m.backupJobs1 : m.backupJobs2).push(backup.seconds);
      if (backup.peakRss) m.rss[jobs === 1 ? 'big1' : 'big2'].push(backup.peakRss);
      const small = await shardedBackup(bench, 'bench_small', prefixOf('small', i, jobs), jobs);
      if (small.peakRss) m.rss[jobs === 1 ? 'small1' : 'small2'].push(small.peakRss);
      log(
        `run ${i + 1}: pg_dump -Fd -Z zstd:1 -j${jobs} ${s(raw.seconds)}, pgferry backup --jobs ${jobs} ${s(backup.seconds)}, ` +
          `peak RSS ${mb(backup.peakRss ?? 0)} (${mb(small.peakRss ?? 0)} at the small database)`,
      );
    }
    for (const jobs of [1, 2] as const) {
      const from = `s3://${BUCKET}/${prefixOf('big', i, jobs)}bench_big/`;
      const r = await ferryRestoreInto(bench, from, `restore_sharded_${i}_${jobs}`, [
        '--jobs',
        '2',
        ...bench.s3Args,
      ]);
      (jobs === 1 ? m.restoreOneObject : m.restoreSharded).push(r.seconds);
      log(`run ${i + 1}: pgferry restore --jobs 2 of the backup made with --jobs ${jobs}: ${s(r.seconds)}`);
    }
    rmSync(path.join(bench.s3.dir, BUCKET), { recursive: true, force: true }); // keep the disk free
    await bench.s3.createBucket(BUCKET).catch(() => {});
  }
  return m;
}
