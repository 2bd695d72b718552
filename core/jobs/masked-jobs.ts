import type { Logger } from '../log.js';
import type { ArchiveFacts } from '../pg/archive.js';
import type { RestorePath } from '../pg/policy.js';
import type { MaskingRules } from '../masking/rules.js';
import type { ApplyOptions } from './apply-archive.js';
import { restoreJobs } from './parallelism.js';

/** What decides whether masked rows can be restored by several workers. */
export interface MaskedJobsFacts {
  archive: ArchiveFacts;
  jobs: number | 'auto';
  /** The target is new to this run (created, or a swap's scratch): a failure drops it whole. */
  createdDatabase: boolean;
  options: ApplyOptions;
}

/** pg_restore options of the user's that choose sections or entries themselves. */
const CHOOSES_ENTRIES = /^(--section|--use-list|-L)/;

/**
 * Why the masked rows go through one script (one job), or undefined when they can go through
 * several workers (masked-parallel.ts): a seekable archive pg_restore -j could restore, into a
 * database this run made, restoring all three sections as pg_restore would.
 */
function oneScriptBecause(f: MaskedJobsFacts): string | undefined {
  const direct = restoreJobs(f.archive, 'pg_restore', f.jobs, true, !f.createdDatabase);
  if (direct.jobs === 1) return direct.reason ?? 'the restore takes one job';
  if (!f.createdDatabase)
    return 'the target database existed before this restore, and one script runs in one transaction there (a failure leaves it as it was)';
  if (f.options.dataOnly || f.options.schemaOnly) return 'the restore is data-only or schema-only';
  if (f.options.extraArgs?.some((a) => CHOOSES_ENTRIES.test(a)))
    return 'extra-args choose sections or entries of the archive';
  return undefined;
}

/**
 * Masking rewrites the script pg_restore writes. With one job, or into a database that was there
 * before, that is one script (one job, one transaction); otherwise the direct path stays and its
 * data is masked by several workers, each restoring its share of the tables through a script.
 */
export function withMasking(
  path: RestorePath,
  rules: MaskingRules | undefined,
  log: Logger,
  facts: MaskedJobsFacts,
): RestorePath {
  if (!rules || path !== 'pg_restore') return path;
  const why = oneScriptBecause(facts);
  if (why === undefined) {
    log.info(
      'masking-rules: the rows are masked on their way through one script per job, the data of each table in one of them',
    );
    return 'pg_restore';
  }
  log.info(`masking-rules: the rows are masked on their way through one script, with one job (${why})`);
  return 'script';
}
