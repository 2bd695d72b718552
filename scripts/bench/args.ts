/** The bench's command line: `--size`, `--runs`, `--json`, `--help`. */
import path from 'node:path';
import { REPO_ROOT } from '../../test/harness/paths.js';
import { MB } from './format.js';

export const USAGE = `usage: npm run bench -- [--size <n>[KB|MB|GB]] [--runs <n>] [--json <path>]

  --size   size of the generated database (default 1GB); RSS is also measured at a tenth of it
  --runs   timed runs per measurement; medians are reported (default 3)
  --json   where to write the results (default .cache/bench/results.json)
  --help   this text`;

export interface BenchArgs {
  sizeBytes: number;
  sizeLabel: string;
  runs: number;
  json: string;
}

/** A bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export function parseSize(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|K|MB|M|GB|G)?$/i.exec(raw.trim());
  if (!m) throw new UsageError(`--size: expected e.g. 1GB or 50MB, got "${raw}"`);
  const unit = (m[2] ?? 'B').toUpperCase();
  const factor = unit.startsWith('G')
    ? 1024 * MB
    : unit.startsWith('M')
      ? MB
      : unit.startsWith('K')
        ? 1024
        : 1;
  const bytes = Math.round(Number(m[1]) * factor);
  if (bytes < MB) throw new UsageError(`--size: at least 1MB, got "${raw}"`);
  return bytes;
}

export function parseArgs(argv: readonly string[]): BenchArgs | 'help' {
  const args: BenchArgs = {
    sizeBytes: 1024 * MB,
    sizeLabel: '1GB',
    runs: 3,
    json: path.join(REPO_ROOT, '.cache', 'bench', 'results.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return 'help';
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!['--size', '--runs', '--json'].includes(name)) throw new UsageError(`unknown argument "${arg}"`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
    if (name === '--size') {
      args.sizeBytes = parseSize(value);
      args.sizeLabel = value;
    } else if (name === '--runs') {
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 50)
        throw new UsageError(`--runs: expected a whole number from 1 to 50, got "${value}"`);
      args.runs = Number(value);
    } else args.json = path.resolve(value);
  }
  return args;
}
