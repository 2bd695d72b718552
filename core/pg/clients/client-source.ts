import { InputError } from '../../errors.js';

/** Where clients may come from (`client-source`): auto is every source in DESIGN.md's order. */
export type ClientSourceName = 'auto' | 'installed' | 'cache' | 'releases' | 'pgdg';

export const INPUT = 'client-source';
const NAMES: readonly ClientSourceName[] = ['auto', 'installed', 'cache', 'releases', 'pgdg'];

export function parseClientSource(raw: string | undefined, input: string = INPUT): ClientSourceName {
  const text = (raw ?? '').trim();
  if (text === '') return 'auto';
  const name = NAMES.find((n) => n === text);
  if (!name)
    throw new InputError(input, `"${text}" is not a client source; expected one of ${NAMES.join(', ')}`);
  return name;
}
