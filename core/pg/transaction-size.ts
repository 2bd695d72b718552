import { InputError } from '../errors.js';

/** `transaction-size`: a whole number of objects ≥ 1 (pg_restore 17's --transaction-size). */
export function parseTransactionSize(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < 1) {
    throw new InputError('transaction-size', `"${raw}" is not an object count; expected a whole number ≥ 1`);
  }
  return Number(raw);
}
