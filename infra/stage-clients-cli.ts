// Stages PostgreSQL client tools for the Lambda layer / Fargate image (see stage-clients.ts):
//   node scripts/run-ts.mjs infra/stage-clients-cli.ts --majors 17,18 --out DIR [--mirror URL] [--cache-dir DIR]
// The CDK bundling hook runs it from its own cwd, so paths are resolved against cwd, nothing else.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PgferryError } from '../core/errors.js';
import { stderrLogger, type Logger } from '../core/log.js';
import { stageClients } from './stage-clients.js';

const USAGE =
  'usage: stage-clients --majors 17,18 --out DIR [--mirror URL] [--cache-dir DIR]\n' +
  '  --majors     comma-separated PostgreSQL majors to stage\n' +
  '  --out        layer content root; clients land in DIR/pgferry/pg/<major>/{bin,lib}\n' +
  '  --mirror     base URL of a client archive mirror (default: the GitHub releases)\n' +
  '  --cache-dir  client download cache (default: the engine default)\n';

interface Flags {
  majors: number[];
  outDir: string;
  mirror?: string;
  cacheDir?: string;
}

function parseFlags(argv: string[]): Flags | string {
  let values: { [k: string]: string | boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        majors: { type: 'string' },
        out: { type: 'string' },
        mirror: { type: 'string' },
        'cache-dir': { type: 'string' },
      },
    }));
  } catch (error) {
    return (error as Error).message;
  }
  const { majors, out, mirror } = values;
  const cacheDir = values['cache-dir'];
  if (typeof majors !== 'string' || !/^\d+(,\d+)*$/.test(majors.trim())) {
    return '--majors is required: comma-separated majors such as 17,18';
  }
  if (typeof out !== 'string' || out === '') return '--out is required: the directory to stage into';
  return {
    majors: majors.trim().split(',').map(Number),
    outDir: path.resolve(out),
    mirror: typeof mirror === 'string' ? mirror : undefined,
    cacheDir: typeof cacheDir === 'string' ? path.resolve(cacheDir) : undefined,
  };
}

/** One line per major is the output; provisioning chatter only with PGFERRY_DEBUG. */
const log: Logger = { debug: stderrLogger.debug, info: stderrLogger.debug, warn: stderrLogger.warn };

async function main(argv: string[]): Promise<number> {
  const flags = parseFlags(argv);
  if (typeof flags === 'string') {
    process.stderr.write(`stage-clients: ${flags}\n${USAGE}`);
    return 2;
  }
  try {
    const staged = await stageClients({ ...flags, log });
    for (const c of staged) {
      process.stderr.write(
        `staged PostgreSQL ${c.version} (major ${c.major}) in ${path.dirname(c.binDir)} with ${c.libraries.length} libraries\n`,
      );
    }
    return 0;
  } catch (error) {
    const message = error instanceof PgferryError ? error.message : String((error as Error).stack ?? error);
    process.stderr.write(`stage-clients: ${message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
