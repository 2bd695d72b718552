/** Restores of pgferry's archive: into a fresh database, clean over an earlier copy, and from S3. */
import { writeFileSync } from 'node:fs';
import { backupForRestore } from './dumps.js';
import { withClient } from './dataset.js';
import { log, mb, s } from './format.js';
import { run, type RunResult } from './process.js';
import { BUCKET, type Bench } from './testbed.js';

/** pgferry restores `from` into the new database `db`, which is dropped afterwards. */
export async function ferryRestoreInto(
  bench: Bench,
  from: string,
  db: string,
  extra: string[] = [],
  env?: NodeJS.ProcessEnv,
): Promise<RunResult> {
  const r = await bench.ferry(['restore', '--from', from, '--to', bench.dbUrl(db), ...extra], env);
  await bench.admin(`DROP DATABASE ${db}`);
  return r;
}

/** Raw pg_restore into the new database `db` (dropped afterwards), timed from its CREATE DATABASE as pgferry's is. */
async function rawRestoreInto(bench: Bench, db: string, options: string[], archive: string): Promise<number> {
  const started = Date.now();
  await bench.admin(`CREATE DATABASE ${db}`);
  await run(bench.pgRestore, [...options, '-d', db, archive], { env: bench.pgEnv });
  const seconds = (Date.now() - started) / 1000;
  await bench.admin(`DROP DATABASE ${db}`);
  return seconds;
}

/** Auto jobs against pg_restore -j1, each into a fresh database. */
export async function measureRestores(bench: Bench, archive: string) {
  const restore = { auto: [] as number[], single: [] as number[] };
  for (let i = 0; i < bench.runs; i++) {
    const r1 = await ferryRestoreInto(bench, archive, `restore_auto_${i}`);
    restore.auto.push(r1.seconds);
    const single = await rawRestoreInto(bench, `restore_j1_${i}`, ['-j1'], archive);
    restore.single.push(single);
    log(`run ${i + 1}: restore pgferry (auto jobs) ${s(r1.seconds)}, pg_restore -j1 ${s(single)}`);
  }
  return restore;
}

/** Every generated table's e-mail and account id masked, as a staging copy would have them. */
export const MASKING_RULES = `columns:
${['accounts', 'orders', 'events', 'audit_log']
  .flatMap((t) => [`  public.${t}.email: email`, `  public.${t}.account_id: { hash: { keep-format: true } }`])
  .join('\n')}
`;

/**
 * Issue 18: a restore with masking rules against a plain restore of the same archive, both with
 * jobs auto into a fresh database (the masked one: pre-data, then masked data by one worker per
 * job, then post-data; its leak check included).
 */
export async function measureMaskedRestore(bench: Bench, archive: string) {
  const rules = bench.file('masking.yml');
  writeFileSync(rules, MASKING_RULES);
  const env = { PGFERRY_MASKING_KEY: 'bench-masking-key' };
  const times = { plain: [] as number[], masked: [] as number[] };
  for (let i = 0; i < bench.runs; i++) {
    const plain = await ferryRestoreInto(bench, archive, `restore_plain_${i}`);
    const masked = await ferryRestoreInto(
      bench,
      archive,
      `restore_masked_${i}`,
      ['--masking-rules', rules],
      env,
    );
    // pgferry's log says how many jobs it restored with ("…, 2 job(s)").
    const jobs = /, (\d+) job\(s\)/.exec(masked.stderr)?.[1] ?? '?';
    times.plain.push(plain.seconds);
    times.masked.push(masked.seconds);
    log(
      `run ${i + 1}: restore plain (auto jobs) ${s(plain.seconds)}, with masking rules (${jobs} jobs) ${s(masked.seconds)}`,
    );
  }
  return times;
}

/**
 * Clean restore over an earlier copy: replace by swap (the default; 2 jobs into the scratch
 * database) against swap: false (drop and restore in place, one transaction, one job), both with
 * the CLI; the floor is raw `pg_restore --clean --if-exists --single-transaction -j1` over the same copy.
 */
export async function measureCleanOverCopy(bench: Bench, archive: string) {
  const earlier = 'bench_clean';
  await bench.admin(`CREATE DATABASE ${earlier}`);
  await run(bench.pgRestore, ['-j2', '-d', earlier, archive], { env: bench.pgEnv });
  const databaseOid = (): Promise<string> =>
    withClient(bench.dbUrl('postgres'), async (c) =>
      String(
        (await c.query<{ oid: string }>('SELECT oid FROM pg_database WHERE datname = $1', [earlier])).rows[0]
          ?.oid,
      ),
    );
  const cleanArgs = [
    'restore',
    '--from',
    archive,
    '--to',
    bench.dbUrl(earlier),
    '--clean',
    '--confirm',
    earlier,
  ];
  const floorArgs = ['--clean', '--if-exists', '--single-transaction', '-j1', '-d', earlier, archive];
  const clean = { floor: [] as number[], swap: [] as number[], inPlace: [] as number[] };
  for (let i = 0; i < bench.runs; i++) {
    const f = await run(bench.pgRestore, floorArgs, { env: bench.pgEnv });
    clean.floor.push(f.seconds);
    // A swap gives the target a new database (a new OID); in place keeps the old one.
    const oidBefore = await databaseOid();
    const sw = await bench.ferry([...cleanArgs, '--jobs', '2']);
    if ((await databaseOid()) === oidBefore)
      throw new Error(`the clean restore with swap was not swapped:\n${sw.stderr.trim()}`);
    clean.swap.push(sw.seconds);
    const oidSwapped = await databaseOid();
    const ip = await bench.ferry([...cleanArgs, '--no-swap', '--jobs', '1']);
    if ((await databaseOid()) !== oidSwapped)
      throw new Error(`the clean restore with --no-swap swapped:\n${ip.stderr.trim()}`);
    clean.inPlace.push(ip.seconds);
    log(
      `run ${i + 1}: clean over a copy: raw pg_restore --clean -1 -j1 ${s(f.seconds)}, pgferry swap (2 jobs) ${s(sw.seconds)}, pgferry --no-swap ${s(ip.seconds)}`,
    );
  }
  await bench.admin(`DROP DATABASE ${earlier}`);
  return clean;
}

/**
 * A backup restored from S3 with one job: streamed, committed only after the whole object's
 * SHA-256 matched; against pg_restore --single-transaction -j1 of a local archive (the same
 * all-or-nothing one-job restore, with no network, no checksum and no filter).
 */
export async function measureStreamedS3Restore(bench: Bench, archive: string) {
  await backupForRestore(bench, 'restore');
  const streamed = { ferry: [] as number[], single: [] as number[], rss: [] as number[] };
  const from = `s3://${BUCKET}/restore/bench_big/`;
  for (let i = 0; i < bench.runs; i++) {
    const r = await ferryRestoreInto(bench, from, `restore_s3_${i}`, ['--jobs', '1', ...bench.s3Args]);
    streamed.ferry.push(r.seconds);
    if (r.peakRss) streamed.rss.push(r.peakRss);
    const single = await rawRestoreInto(bench, `restore_1tx_${i}`, ['--single-transaction', '-j1'], archive);
    streamed.single.push(single);
    log(
      `run ${i + 1}: restore pgferry from S3 (one job, streamed) ${s(r.seconds)}, peak RSS ${mb(r.peakRss ?? 0)}; pg_restore -1 -j1 ${s(single)}`,
    );
  }
  return streamed;
}
