import type { RestoreResult } from '../core/jobs/restore.js';
import { maskingLines } from '../core/masking/for-job.js';
import type { LeakResult } from '../core/masking/leak-check.js';

/** The seed summary's masking part: what the rules did to staging, and what they left uncovered. */
export interface SeedMasking {
  /** PGFERRY_MASKING_RULES as given. */
  rules: string;
  /** Rows masked and rows left out (truncate), by `schema.table`. */
  tables: { table: string; masked: number; truncated: number }[];
  leakCheck: LeakResult[];
  /** Personal-looking columns of staging that no rule covers: a report, each one also a warning. */
  coverage: { column: string; reason: string }[];
  /** The same as the CLI's report prints it, one line each. */
  lines: string[];
}

export function seedMasking(rules: string, restore: RestoreResult): SeedMasking {
  return {
    rules,
    tables: [...(restore.masked ?? [])].map(([table, n]) => ({ table, ...n })),
    leakCheck: restore.leakCheck ?? [],
    coverage: (restore.coverage ?? []).map((c) => ({ column: c.key, reason: c.reason })),
    lines: maskingLines(restore),
  };
}
