import { InputError, InputErrors } from '../core/errors.js';

/** One bad prop, named the way the caller wrote it (`compress`, `seed.confirm`). */
export interface PropProblem {
  prop: string;
  problem: string;
}

/** Invalid props: one line per prop, each starting with the prop's name. */
export class PgferryBackupPropsError extends Error {
  constructor(readonly problems: readonly PropProblem[]) {
    const lines = problems.map((p) => `${p.prop}: ${p.problem}`);
    super(
      lines.length === 1
        ? (lines[0] ?? 'invalid props')
        : `${lines.length} prop problems:\n${lines.map((l) => `  - ${l}`).join('\n')}`,
    );
    this.name = 'PgferryBackupPropsError';
  }
}

export function fail(prop: string, problem: string): never {
  throw new PgferryBackupPropsError([{ prop, problem }]);
}

/**
 * Collects bad props so that synth reports all of them at once. The engine's own parsers throw
 * InputErrors named by the `input` infra passes them, which is the prop's name.
 */
export class PropProblems {
  private readonly list: PropProblem[] = [];
  add(prop: string, problem: string): void {
    this.list.push({ prop, problem });
  }
  collect<T>(check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      if (error instanceof PgferryBackupPropsError) this.list.push(...error.problems);
      else if (error instanceof InputErrors)
        this.list.push(...error.problems.map((p) => ({ prop: p.input, problem: p.problem })));
      else if (error instanceof InputError) this.list.push({ prop: error.input, problem: error.problem });
      else throw error;
      return undefined;
    }
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new PgferryBackupPropsError(this.list);
  }
}
