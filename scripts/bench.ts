/**
 * `npm run bench`: pgferry against the raw client tools on one generated database, in one run.
 * Prints a table of ratios (each against its baseline measured in the same run) and writes JSON.
 * It reports; it never asserts a timing. See docs/benchmarks.md.
 *
 * The phases live in scripts/bench/: the testbed (servers, client provisioning, databases), the
 * dumps and backups, the restores, and the report.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../test/harness/paths.js';
import { parseArgs, UsageError, USAGE, type BenchArgs } from './bench/args.js';
import { measureClones } from './bench/clones.js';
import { measureCopies } from './bench/copies.js';
import { measureDumps, measureSmallRss } from './bench/dumps.js';
import { report } from './bench/report.js';
import { measureSharded } from './bench/sharded.js';
import {
  measureCleanOverCopy,
  measureMaskedRestore,
  measureRestores,
  measureStreamedS3Restore,
} from './bench/restores.js';
import {
  benchOn,
  generateDatabases,
  measureProvisioning,
  scratchWithCleanup,
  startServersAndCli,
} from './bench/testbed.js';

async function main(args: BenchArgs): Promise<void> {
  const wallStart = Date.now();
  const { work, started, finish } = scratchWithCleanup(os.tmpdir());
  try {
    const servers = await startServersAndCli(started);
    const provisioning = await measureProvisioning(servers, work, args.runs);
    const bench = benchOn(servers, work, args.runs, provisioning);
    const databases = await generateDatabases(bench, args.sizeBytes);
    const dumps = await measureDumps(bench);
    const rss = { ...dumps.rss, ...(await measureSmallRss(bench)) };
    const restore = await measureRestores(bench, dumps.archive);
    const masked = await measureMaskedRestore(bench, dumps.archive);
    const clean = await measureCleanOverCopy(bench, dumps.archive);
    const streamed = await measureStreamedS3Restore(bench, dumps.archive);
    const clones = await measureClones(bench, dumps.archive);
    const copies = await measureCopies(bench);
    const sharded = await measureSharded(bench);
    report(
      args,
      bench,
      { provisioning, databases, dumps, rss, restore, masked, clean, streamed, clones, sharded, copies },
      wallStart,
    );
  } finally {
    await finish();
  }
}

let parsed: BenchArgs | 'help';
try {
  parsed = parseArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
  process.exit(2);
}
if (parsed === 'help') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!existsSync(path.join(REPO_ROOT, 'package.json')))
  throw new Error(`bench: no repository at ${REPO_ROOT}`);
main(parsed).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
