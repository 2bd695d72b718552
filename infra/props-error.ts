/** An invalid prop: the message starts with the prop's name, the way the caller wrote it. */
export class PgferryBackupPropsError extends Error {
  constructor(prop: string, problem: string) {
    super(`${prop}: ${problem}`);
    this.name = 'PgferryBackupPropsError';
  }
}

export function fail(prop: string, problem: string): never {
  throw new PgferryBackupPropsError(prop, problem);
}
