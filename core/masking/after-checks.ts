import type { Logger } from '../log.js';
import type { ConnectionSpec } from '../pg/connection.js';
import { withClient } from '../pg/server.js';
import { personalColumnsWithoutRule, type UncoveredColumn } from './coverage.js';
import type { LeakResult, LeakWatch } from './leak-check.js';
import type { MaskingRules } from './rules.js';

/** What a masked job checks on the database it built, before that database goes live. */
export interface MaskingChecks {
  leakCheck?: LeakResult[];
  /** Personal-looking columns no rule covers; a report, not a failure. */
  coverage?: UncoveredColumn[];
}

/**
 * The coverage report on the target: every column the rules mask counts as ruled, and a truncated
 * table as skipped (none of its rows arrive). Each column found is a warning; none fails the job,
 * because the signs are heuristics (a `token` column may hold nothing secret) and the sanitize SQL
 * may handle what the rules do not. A `keep` rule is how a column is declared fine as it is. A
 * report that cannot be made is a warning too (undefined): the masking itself is done and checked.
 */
export async function coverageOf(
  rules: MaskingRules,
  target: ConnectionSpec,
  log: Logger,
): Promise<UncoveredColumn[] | undefined> {
  const ruled = [...rules.tables.values()].flat();
  const skipTables = [...rules.truncated.keys()].map((key) => {
    const [schema = '', table = ''] = key.split('\0');
    return { schema, table };
  });
  let found: UncoveredColumn[];
  try {
    found = await withClient(target, 'to', (client) =>
      personalColumnsWithoutRule(client, ruled, { skipTables }),
    );
  } catch (error) {
    log.warn(
      `masking coverage: the report could not be made (${(error as Error).message.split('\n')[0]}); the masking and its leak check are not affected`,
    );
    return undefined;
  }
  for (const c of found) log.warn(coverageWarning(c));
  if (found.length === 0) log.info('masking coverage: every personal-looking column has a rule');
  return found;
}

export const coverageWarning = (c: UncoveredColumn): string =>
  `masking coverage: ${c.key} has no rule and ${c.reason}`;

/** The leak check (it throws when a column leaked), then the coverage report, on `target`. */
export async function checkMasked(
  leaks: LeakWatch,
  rules: MaskingRules,
  target: ConnectionSpec,
  log: Logger,
): Promise<MaskingChecks> {
  const leakCheck = await leaks.check(target, log);
  const coverage = await coverageOf(rules, target, log);
  return coverage === undefined ? { leakCheck } : { leakCheck, coverage };
}
