/** clone-many for CI: 4 copies of the generated database by `pgferry clone`, against 4 restores. */
import { log, s } from './format.js';
import type { Bench } from './testbed.js';

const COPIES = 4;

/**
 * Per run: `pgferry clone` of bench_big into 4 new databases (one CLI run), then 4 `pgferry
 * restore` runs of its archive into 4 new databases, one after another (what a CI job per test
 * worker does today); every database made is dropped again.
 */
export async function measureClones(bench: Bench, archive: string) {
  const clones = { clone: [] as number[], restores: [] as number[] };
  for (let i = 0; i < bench.runs; i++) {
    const names = Array.from({ length: COPIES }, (_v, k) => `bench_clone_${i}_${k}`);
    const c = await bench.ferry([
      'clone',
      '--from',
      bench.dbUrl('bench_big'),
      '--to',
      names.map((n) => bench.dbUrl(n)).join('\n'),
    ]);
    clones.clone.push(c.seconds);
    for (const n of names) await bench.admin(`DROP DATABASE ${n}`);
    let restores = 0;
    for (const n of names) {
      const r = await bench.ferry(['restore', '--from', archive, '--to', bench.dbUrl(n)]);
      restores += r.seconds;
      await bench.admin(`DROP DATABASE ${n}`);
    }
    clones.restores.push(restores);
    log(
      `run ${i + 1}: pgferry clone into ${COPIES} copies ${s(c.seconds)}, ${COPIES} pgferry restores ${s(restores)}`,
    );
  }
  return clones;
}
