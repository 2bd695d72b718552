/**
 * `pgferry copy` of the generated database against pgcopydb, the peer for a parallel copy: the
 * same source and target server, the same parallelism (2 table jobs, 2 index jobs), the same run.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { rowHashesAt } from '../../test/harness/compare.js';
import { log, s } from './format.js';
import { run } from './process.js';
import type { Bench } from './testbed.js';

/**
 * pgcopydb on PATH, installed from Debian's archive when missing and running as root; otherwise
 * the reason it is not there (the bench then skips the comparison and says why).
 */
function ensurePgcopydb(): { ok: true } | { ok: false; why: string } {
  const found = (): boolean => spawnSync('pgcopydb', ['--version'], { stdio: 'ignore' }).status === 0;
  if (found()) return { ok: true };
  if (process.getuid?.() !== 0)
    return { ok: false, why: 'pgcopydb is not installed and the bench is not root' };
  log('installing pgcopydb (apt-get install -y pgcopydb)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = spawnSync('apt-get', ['install', '-y', 'pgcopydb'], { stdio: 'ignore', env });
  if (install.status !== 0 || !found())
    return {
      ok: false,
      why: 'apt-get install -y pgcopydb failed (no such package in the configured archive?)',
    };
  return { ok: true };
}

export interface CopyMeasurements {
  jobs2: number[];
  auto: number[];
  pgcopydb: number[];
  /** Why pgcopydb was not measured, when it was not. */
  skipped?: string;
  /** Every copy's row hashes (tables, materialized views, large objects) equal the source's. */
  identical: boolean;
}

/** Row hashes of `db` equal the source's; the differing tables logged when not. */
async function sameRows(bench: Bench, source: Record<string, string>, db: string, who: string) {
  const got = await rowHashesAt(bench.dbUrl(db));
  const differ = [...new Set([...Object.keys(source), ...Object.keys(got)])].filter(
    (k) => source[k] !== got[k],
  );
  if (differ.length) log(`${who}: rows differ from the source in ${differ.join(', ')}`);
  return differ.length === 0;
}

/**
 * Per run: `pgferry copy --jobs 2` and `pgferry copy` (jobs auto) of bench_big into a new database
 * each, and `pgcopydb clone --table-jobs 2 --index-jobs 2` into a new database, timed from its
 * CREATE DATABASE as pgferry's copy creates its own. pgcopydb runs the bench's client tools (the
 * server's major). Every database made is dropped again.
 */
export async function measureCopies(bench: Bench): Promise<CopyMeasurements> {
  const out: CopyMeasurements = { jobs2: [], auto: [], pgcopydb: [], identical: true };
  const peer = ensurePgcopydb();
  if (!peer.ok) {
    out.skipped = peer.why;
    log(`copy vs pgcopydb: skipped, ${peer.why}`);
  }
  const source = await rowHashesAt(bench.dbUrl('bench_big'));
  const from = bench.dbUrl('bench_big');
  for (let i = 0; i < bench.runs; i++) {
    const ferry = async (db: string, jobs: string[]): Promise<number> => {
      const r = await bench.ferry(['copy', '--from', from, '--to', bench.dbUrl(db), ...jobs]);
      out.identical &&= await sameRows(bench, source, db, `pgferry copy ${jobs.join(' ') || '(auto)'}`);
      await bench.admin(`DROP DATABASE ${db}`);
      return r.seconds;
    };
    out.jobs2.push(await ferry(`copy_j2_${i}`, ['--jobs', '2']));
    out.auto.push(await ferry(`copy_auto_${i}`, []));
    let peerLine = '';
    if (peer.ok) {
      const db = `copy_pgcopydb_${i}`;
      const started = Date.now();
      await bench.admin(`CREATE DATABASE ${db}`);
      await run(
        'pgcopydb',
        [
          'clone',
          '--source',
          from,
          '--target',
          bench.dbUrl(db),
          '--table-jobs',
          '2',
          '--index-jobs',
          '2',
          '--dir',
          bench.file(`pgcopydb-${i}`),
        ],
        { env: { PATH: `${path.dirname(bench.pgDump)}:${process.env.PATH ?? ''}` } },
      );
      const seconds = (Date.now() - started) / 1000;
      out.pgcopydb.push(seconds);
      out.identical &&= await sameRows(bench, source, db, 'pgcopydb clone');
      await bench.admin(`DROP DATABASE ${db}`);
      peerLine = `, pgcopydb clone --table-jobs 2 --index-jobs 2 ${s(seconds)}`;
    }
    log(
      `run ${i + 1}: pgferry copy --jobs 2 ${s(out.jobs2[i] ?? 0)}, pgferry copy (auto) ${s(out.auto[i] ?? 0)}${peerLine}`,
    );
  }
  return out;
}
