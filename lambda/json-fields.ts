import type { InputProblems } from '../core/errors.js';

/**
 * Reads one JSON object's fields, each problem recorded under its JSON path
 * (`PGFERRY_FLEET.sources[1].sslMode`) instead of stopping at the first, so an operator fixes a
 * whole fleet in one go. Unknown keys are problems too: a misspelt `sslmode` would otherwise be
 * ignored and its default used without a word.
 */
export class JsonFields {
  private readonly record: Record<string, unknown>;
  readonly ok: boolean;

  constructor(
    value: unknown,
    readonly path: string,
    readonly problems: InputProblems,
    known: readonly string[],
  ) {
    this.ok = typeof value === 'object' && value !== null && !Array.isArray(value);
    this.record = this.ok ? (value as Record<string, unknown>) : {};
    if (!this.ok) problems.add(path, `expected an object with ${known.join(', ')}`);
    for (const key of Object.keys(this.record))
      if (!known.includes(key))
        problems.add(`${path}.${key}`, `is not a field here; expected ${known.join(', ')}`);
  }

  at(key: string): string {
    return `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.record[key] !== undefined;
  }

  raw(key: string): unknown {
    return this.record[key];
  }

  /** A non-empty string, or undefined (recorded as a problem when `required`). */
  text(key: string, required: boolean): string | undefined {
    const value = this.record[key];
    if (value === undefined) {
      if (required) this.problems.add(this.at(key), 'is required');
      return undefined;
    }
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    this.problems.add(this.at(key), 'expected a non-empty string');
    return undefined;
  }

  /** A whole number in [min, max], or undefined. */
  integer(key: string, min: number, max: number, required: boolean): number | undefined {
    const value = this.record[key];
    if (value === undefined) {
      if (required) this.problems.add(this.at(key), `is required; expected a whole number ${min}–${max}`);
      return undefined;
    }
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    this.problems.add(this.at(key), `${JSON.stringify(value)} is not a whole number ${min}–${max}`);
    return undefined;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.record[key];
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    this.problems.add(this.at(key), 'expected true or false');
    return fallback;
  }

  /** An array (empty when absent and not required). */
  list(key: string, required: boolean): unknown[] {
    const value = this.record[key];
    if (Array.isArray(value)) return value;
    if (value !== undefined || required) this.problems.add(this.at(key), 'expected an array');
    return [];
  }

  /** A string through one of the job's parsers, its InputError renamed to this path. */
  parsed<T>(key: string, parse: (raw: string | undefined, input: string) => T): T | undefined {
    const value = this.record[key];
    if (value !== undefined && typeof value !== 'string') {
      this.problems.add(this.at(key), 'expected a string');
      return undefined;
    }
    return this.problems.collect(() => parse(value, this.at(key)));
  }
}
