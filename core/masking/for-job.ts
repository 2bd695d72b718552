import { InputError } from '../errors.js';
import type { MaskingStream } from './copy-stream.js';
import type { LeakResult } from './leak-check.js';
import type { UncoveredColumn } from './coverage.js';
import { loadMaskingRules, MASKING_KEY_VARIABLE, type MaskingRules } from './rules.js';

/**
 * The rules a job masks with: read and checked (with the key from PGFERRY_MASKING_KEY) before the
 * job touches anything. `where` says what cannot mask yet, e.g. a restore from S3.
 */
export async function maskingRulesForJob(
  file: string | undefined,
  unsupported?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MaskingRules | undefined> {
  if (file === undefined || file.trim() === '') return undefined;
  if (unsupported)
    throw new InputError('masking-rules', `${unsupported} cannot mask yet; restore from a file, or copy`);
  const key = env[MASKING_KEY_VARIABLE];
  return loadMaskingRules(file.trim(), key === '' ? undefined : key);
}

/**
 * The report's lines: rows masked, kept or left out per table, the leak check per column, then the
 * coverage report: each personal-looking column without a rule, or that there is none.
 */
export function maskingLines(r: {
  masked?: MaskingStream['rows'];
  leakCheck?: LeakResult[];
  coverage?: UncoveredColumn[];
}): string[] {
  const tables = [...(r.masked ?? [])].map(([table, n]) => {
    if (n.truncated) return `${table}: ${n.truncated} row(s) left out (truncate)`;
    if (n.filter === undefined) return `${table}: ${n.masked} row(s) masked`;
    const masked = n.masked ? `, ${n.masked} masked` : '';
    return `${table}: ${n.kept} row(s) kept, ${n.filtered} left out (${n.filter})${masked}`;
  });
  const leaks = (r.leakCheck ?? []).map(
    (c) => `leak check ${c.column} (${c.transformer}): ${c.checkedRows} row(s) checked, ${c.leaks} leaks`,
  );
  return [...tables, ...leaks, ...coverageLines(r.coverage)];
}

/** `coverage: public.t.col has no rule and its name reads as e-mail`, one per column. */
export function coverageLines(coverage: readonly UncoveredColumn[] | undefined): string[] {
  if (coverage === undefined) return [];
  if (coverage.length === 0) return ['coverage: every personal-looking column has a rule'];
  return coverage.map((c) => `coverage: ${c.key} has no rule and ${c.reason}`);
}
