/** Dumps and backups: the raw pg_dump variants against pgferry's dump and backup, and peak RSS. */
import { spawn } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { Upload } from '@aws-sdk/lib-storage';
import path from 'node:path';
import { camelFields } from '../../test/harness/cli-json.js';
import { log, MB, mb, s } from './format.js';
import { run, type RunResult } from './process.js';
import { BUCKET, type Bench } from './testbed.js';

const VARIANTS = {
  floor: { label: 'pg_dump -Fc -Z0 (floor)', extra: ['-Z0'] },
  gzipDefault: { label: 'pg_dump -Fc (default gzip)', extra: [] as string[] },
  gzip1: { label: 'pg_dump -Fc -Z1', extra: ['-Z1'] },
  // What pgferry's default runs, without pgferry: separates compression cost from pgferry's own.
  zstd1: { label: 'pg_dump -Fc -Z zstd:1', extra: ['-Z', 'zstd:1'] },
} as const;
type Variant = keyof typeof VARIANTS;

export interface DumpMeasurements {
  times: Record<Variant | 'pgferryDump' | 'pgferryBackup' | 'bareUpload', number[]>;
  sizes: Record<string, number>;
  rss: { dumpBig: number[]; backupBig: number[] };
  /** The job's own durationSeconds (from --json): the rest of the wall time is Node starting and exiting. */
  reported: { dump: number[]; backup: number[] };
  /** What `verify: list` read back of each backup (from its manifest), and the object's size. */
  readBack: { bytes: number[]; objectBytes: number[]; proof: string[] };
  /** pgferry's last dump of bench_big, which the restores read. */
  archive: string;
  /** Which client pgferry chose for the dump, and why. */
  dumpReport: { clientVersion: string; reason: string };
}

const reportedSeconds = (stdout: string): number =>
  (camelFields(stdout.slice(stdout.indexOf('{'))) as { durationSeconds: number }).durationSeconds;

const backupArgs = (bench: Bench, db: string, prefix: string): string[] => [
  'backup',
  '--from',
  bench.dbUrl(db),
  '--to',
  `s3://${BUCKET}/${prefix}/`,
  ...bench.s3Args,
];

/** Dumps to a file, interleaved so that drift on a shared machine hits every variant alike. */
export async function measureDumps(bench: Bench): Promise<DumpMeasurements> {
  const rawDump = (extra: readonly string[], out: string): Promise<RunResult> =>
    run(bench.pgDump, ['-Fc', ...extra, '-f', out, '-d', 'bench_big'], { env: bench.pgEnv });
  log('warm-up dump (untimed)');
  await rawDump(['-Z0'], bench.file('warmup.dump'));
  rmSync(bench.file('warmup.dump'));
  const m: Omit<DumpMeasurements, 'dumpReport'> = {
    times: {
      floor: [],
      zstd1: [],
      gzipDefault: [],
      gzip1: [],
      pgferryDump: [],
      pgferryBackup: [],
      bareUpload: [],
    },
    sizes: {},
    rss: { dumpBig: [], backupBig: [] },
    reported: { dump: [], backup: [] },
    readBack: { bytes: [], objectBytes: [], proof: [] },
    archive: bench.file('pgferry.dump'),
  };
  for (let i = 0; i < bench.runs; i++) {
    for (const [key, v] of Object.entries(VARIANTS) as [Variant, (typeof VARIANTS)[Variant]][]) {
      const out = bench.file(`${key}.dump`);
      const r = await rawDump(v.extra, out);
      m.times[key].push(r.seconds);
      m.sizes[key] = statSync(out).size;
      rmSync(out);
      log(`run ${i + 1}: ${v.label} ${s(r.seconds)}, ${mb(m.sizes[key] ?? 0)}`);
    }
    const bare = await bareUpload(bench, `bare${i}/bench_big.dump`);
    m.times.bareUpload.push(bare);
    log(`run ${i + 1}: pg_dump -Z zstd:1 | lib-storage Upload to s3rver ${s(bare)}`);
    await measurePgferryDumpAndBackup(bench, m, i);
  }
  const meta = bench.file('meta.dump');
  const dumpReport = camelFields(
    (await bench.ferry(['dump', '--from', bench.dbUrl('bench_big'), '--to', meta, '--json'])).stdout,
  ) as DumpMeasurements['dumpReport'];
  rmSync(meta);
  return { ...m, dumpReport };
}

/**
 * The same stream to the same store with nothing of pgferry's: `pg_dump -Fc -Z zstd:1` piped into a
 * bare lib-storage Upload (pgferry's smallest part size, 4 parts in flight) from the bench's own
 * process, so no Node start either. What the store and the transfer cost on this machine, which a
 * backup pays whatever it does.
 */
async function bareUpload(bench: Bench, key: string): Promise<number> {
  const started = process.hrtime.bigint();
  const dump = spawn(bench.pgDump, ['-Fc', '-Z', 'zstd:1', '-d', 'bench_big'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...bench.pgEnv },
  });
  const exited = new Promise<void>((resolve, reject) =>
    dump.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pg_dump exited ${code}`)))),
  );
  const upload = new Upload({
    client: bench.s3.client(),
    params: { Bucket: BUCKET, Key: key, Body: dump.stdout },
    partSize: 8 * MB,
    queueSize: 4,
  });
  await Promise.all([upload.done(), exited]);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** One run of pgferry's dump of bench_big to a file and its backup to S3. */
async function measurePgferryDumpAndBackup(
  bench: Bench,
  m: Omit<DumpMeasurements, 'dumpReport'>,
  i: number,
): Promise<void> {
  rmSync(m.archive, { force: true });
  const d = await bench.ferry(['dump', '--from', bench.dbUrl('bench_big'), '--to', m.archive, '--json']);
  m.reported.dump.push(reportedSeconds(d.stdout));
  m.times.pgferryDump.push(d.seconds);
  m.sizes.pgferryDump = statSync(m.archive).size;
  if (d.peakRss) m.rss.dumpBig.push(d.peakRss);
  log(
    `run ${i + 1}: pgferry dump ${s(d.seconds)}, ${mb(m.sizes.pgferryDump)}, peak RSS ${mb(d.peakRss ?? 0)}`,
  );
  const b = await bench.ferry([...backupArgs(bench, 'bench_big', `run${i}`), '--json']);
  m.reported.backup.push(reportedSeconds(b.stdout));
  m.times.pgferryBackup.push(b.seconds);
  if (b.peakRss) m.rss.backupBig.push(b.peakRss);
  await recordReadBack(bench, m, b.stdout);
  log(
    `run ${i + 1}: pgferry backup to S3 ${s(b.seconds)}, peak RSS ${mb(b.peakRss ?? 0)}, verify read back ${mb(m.readBack.bytes.at(-1) ?? 0)} (${m.readBack.proof.at(-1) ?? '?'})`,
  );
  rmSync(path.join(bench.s3.dir, BUCKET), { recursive: true, force: true }); // keep the disk free
  await bench.s3.createBucket(BUCKET).catch(() => {});
}

/** The bytes `verify: list` read back, as the backup's manifest records them. */
async function recordReadBack(
  bench: Bench,
  m: Omit<DumpMeasurements, 'dumpReport'>,
  stdout: string,
): Promise<void> {
  const uri = (camelFields(stdout.slice(stdout.indexOf('{'))) as { manifest: string }).manifest;
  const text = await bench.s3.getText(BUCKET, uri.slice(`s3://${BUCKET}/`.length));
  const manifest = JSON.parse(text ?? '{}') as {
    bytes?: number;
    proof?: string;
    verification?: { bytesReadBack?: number };
  };
  m.readBack.bytes.push(manifest.verification?.bytesReadBack ?? Number.NaN);
  m.readBack.objectBytes.push(manifest.bytes ?? Number.NaN);
  m.readBack.proof.push(manifest.proof ?? 'none recorded');
}

/** Peak RSS of pgferry's dump and backup at a tenth of the size. */
export async function measureSmallRss(bench: Bench): Promise<{ dumpSmall: number[]; backupSmall: number[] }> {
  const rss = { dumpSmall: [] as number[], backupSmall: [] as number[] };
  for (let i = 0; i < bench.runs; i++) {
    const out = bench.file('small.dump');
    const d = await bench.ferry(['dump', '--from', bench.dbUrl('bench_small'), '--to', out]);
    if (d.peakRss) rss.dumpSmall.push(d.peakRss);
    rmSync(out);
    const b = await bench.ferry(backupArgs(bench, 'bench_small', `small${i}`));
    if (b.peakRss) rss.backupSmall.push(b.peakRss);
    log(`small run ${i + 1}: peak RSS dump ${mb(d.peakRss ?? 0)}, backup ${mb(b.peakRss ?? 0)}`);
  }
  return rss;
}

/** A backup of bench_big at s3://bench/<prefix>/, for the restores from S3. */
export async function backupForRestore(bench: Bench, prefix: string): Promise<void> {
  await bench.ferry(backupArgs(bench, 'bench_big', prefix));
}
