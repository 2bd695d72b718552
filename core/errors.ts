/**
 * What kind of failure an error is, for callers and tests to branch on instead of its words:
 * - `input`: an input (option, variable, prop) is wrong; fix it and run again.
 * - `tool`: pg_dump, pg_restore or psql failed (`knock-on`: stopped because its partner failed).
 * - `connection`: a server could not be reached or refused the login.
 * - `integrity`: stored bytes, a manifest or a pointer do not vouch for each other; nothing restored.
 * - `not-found`: a bucket or object is not there. `access`: S3 refused or there are no credentials.
 * - `network`: S3 or a download could not be reached or timed out. `http`: a download failed.
 * - `conflict`: a create-only or conditional write lost to another writer (`refused`: the store
 *   does not honour conditional writes).
 * - `busy`: another pgferry run is replacing the same target.
 * - `cancelled`: stopped by a signal or a deadline.
 * - `failed`: anything else the engine reports on purpose.
 */
export const ERROR_CODES = [
  'input',
  'tool',
  'knock-on',
  'connection',
  'integrity',
  'not-found',
  'access',
  'network',
  'http',
  'conflict',
  'refused',
  'busy',
  'cancelled',
  'failed',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Errors the engine raises on purpose. Front ends print `message` as is and exit non-zero, so every
 * message names what was wrong and what is expected, and never carries a secret; `code` says what
 * kind of failure it is.
 */
export class PgferryError extends Error {
  override readonly name: string = 'PgferryError';
  readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(message, options);
    this.code = options?.code ?? 'failed';
  }
}

/** The code of any error: a PgferryError's own, `failed` for anything else. */
export function errorCode(error: unknown): ErrorCode {
  return error instanceof PgferryError ? error.code : 'failed';
}

/** A problem with one input, named the way the caller wrote it (`postgres-version`, `jobs`, …). */
export class InputError extends PgferryError {
  override readonly name: string = 'InputError';
  constructor(
    readonly input: string,
    readonly problem: string,
  ) {
    super(`${input}: ${problem}`, { code: 'input' });
  }
}

/** Several input problems reported at once, so a caller fixes them all in one go. */
export class InputErrors extends PgferryError {
  override readonly name: string = 'InputErrors';
  constructor(readonly problems: readonly InputError[]) {
    super(
      problems.length === 1
        ? (problems[0]?.message ?? 'invalid input')
        : `${problems.length} input problems:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`,
      { code: 'input' },
    );
  }
}

/** Collects input problems; `throwIfAny` raises them together. */
export class InputProblems {
  private readonly list: InputError[] = [];
  add(input: string, problem: string): void {
    this.list.push(new InputError(input, problem));
  }
  /** Runs `check`, recording an InputError it throws instead of stopping. */
  collect<T>(check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      if (error instanceof InputErrors) this.list.push(...error.problems);
      else if (error instanceof InputError) this.list.push(error);
      else throw error;
      return undefined;
    }
  }
  get count(): number {
    return this.list.length;
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new InputErrors(this.list);
  }
}

/** A child tool (pg_dump, pg_restore, psql, …) failed; `stderrTail` holds its last words. */
export class ToolError extends PgferryError {
  override readonly name: string = 'ToolError';
  constructor(
    readonly tool: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderrTail: string,
  ) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    super(`${tool} ${how}${stderrTail ? `:\n${stderrTail}` : ''}`, { code: 'tool' });
  }
}

/**
 * The same input errors, each renamed by `label` to a front end's own spelling of the input
 * (`--jobs`, `PGFERRY_JOBS`); any other error is returned as it is.
 */
export function relabelInputErrors(error: unknown, label: (input: string) => string): unknown {
  const renamed = (p: InputError): InputError => new InputError(label(p.input), p.problem);
  if (error instanceof InputErrors) return new InputErrors(error.problems.map(renamed));
  if (error instanceof InputError) return renamed(error);
  return error;
}
