import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { InputError, PgferryError } from '../errors.js';
import { databaseName, describeConnection, type ConnectionSpec } from './connection.js';
import { connect } from './server.js';
import { maintenanceOf } from './target-database.js';

/**
 * The databases a replace-by-swap works with, next to the target on its server: `new` is built and
 * renamed to the target's name; `old` is the target renamed aside, dropped once the swap committed.
 * Both are named from a hash of the target's name, so that the next run against the same target
 * knows them whatever the target is called (any legal name, 63 bytes included) and removes them.
 */
export type ScratchKind = 'new' | 'old';

export function scratchStem(target: string): string {
  return `pgferry_swap_${createHash('sha256').update(target).digest('hex').slice(0, 12)}`;
}

export function scratchName(target: string, kind: ScratchKind): string {
  return `${scratchStem(target)}_${kind}_${randomBytes(4).toString('hex')}`;
}

/** Only names this module made for this target: a user's database is never matched. */
export function isScratchOf(target: string, name: string): boolean {
  const stem = scratchStem(target);
  return new RegExp(`^${stem}_(new|old)_[0-9a-f]{8}$`).test(name);
}

/** Two advisory-lock keys from the target's name: one swap per target at a time, per server. */
function lockKeys(target: string): [number, number] {
  const h = createHash('sha256').update(`pgferry-swap:${target}`).digest();
  return [h.readInt32BE(0), h.readInt32BE(4)];
}

const OBJECT_IN_USE = '55006';

/**
 * A session on the target server's maintenance database that holds the target's swap lock for as
 * long as it is open. The lock ends with the session: a pgferry that is killed releases it.
 */
export class SwapSession {
  private constructor(
    readonly target: ConnectionSpec,
    private readonly client: pg.Client,
    readonly serverMajor: number,
  ) {}

  static async open(target: ConnectionSpec, input = 'to'): Promise<SwapSession> {
    const client = await connect(maintenanceOf(target), input);
    try {
      const [a, b] = lockKeys(databaseName(target));
      const { rows } = await client.query<{ locked: boolean; major: number }>(
        `SELECT pg_try_advisory_lock($1, $2) AS locked, current_setting('server_version_num')::int / 10000 AS major`,
        [a, b],
      );
      if (!rows[0]?.locked)
        throw new PgferryError(
          `${input}: another pgferry run is replacing "${databaseName(target)}" on ${describeConnection(target)} right now; run again once it has finished`,
          { code: 'busy' },
        );
      return new SwapSession(target, client, rows[0].major);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }

  private ident(name: string): string {
    return this.client.escapeIdentifier(name);
  }

  /** Scratch databases an earlier run against this target left behind (it was killed, or lost its server). */
  async leftovers(): Promise<string[]> {
    const target = databaseName(this.target);
    const { rows } = await this.client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE left(datname, length($1)) = $1 ORDER BY datname`,
      [scratchStem(target)],
    );
    return rows.map((r) => r.datname).filter((name) => isScratchOf(target, name));
  }

  async exists(name: string): Promise<boolean> {
    const { rowCount } = await this.client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return (rowCount ?? 0) > 0;
  }

  async query(sql: string, values?: unknown[]): Promise<pg.QueryResult> {
    return this.client.query(sql, values);
  }

  /** Ends every other session on `name`, then drops it; waits out sessions that are slow to go. */
  async drop(name: string): Promise<void> {
    await this.retryInUse(async () => {
      await this.terminateSessions(name);
      await this.client.query(
        `DROP DATABASE IF EXISTS ${this.ident(name)}${this.serverMajor >= 13 ? ' WITH (FORCE)' : ''}`,
      );
    });
  }

  /**
   * The swap itself, one transaction: sessions on the target ended, the target renamed aside and the
   * new database renamed to the target's name. Either both renames happen or neither does.
   */
  async swap(built: string, aside: string | undefined): Promise<void> {
    const target = databaseName(this.target);
    await this.retryInUse(async () => {
      await this.client.query('BEGIN');
      try {
        if (aside !== undefined) {
          await this.terminateSessions(target);
          await this.client.query(`ALTER DATABASE ${this.ident(target)} RENAME TO ${this.ident(aside)}`);
        }
        await this.client.query(`ALTER DATABASE ${this.ident(built)} RENAME TO ${this.ident(target)}`);
        await this.client.query('COMMIT');
      } catch (error) {
        await this.client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });
  }

  private async terminateSessions(name: string): Promise<void> {
    await this.client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [name],
    );
  }

  /**
   * The server refuses to rename or drop a database that has sessions; it waits a few seconds for
   * ended ones to leave, and a client may connect in between. A few more tries cover both.
   */
  private async retryInUse(work: () => Promise<void>, tries = 4): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if ((error as { code?: string }).code !== OBJECT_IN_USE || attempt >= tries) throw error;
      }
    }
  }

  /**
   * What the swap needs of the restoring user, checked before anything is created: CREATEDB for the
   * new database, and ownership of the target to rename it (superuser has both).
   */
  async checkPrivileges(targetExists: boolean, input: string): Promise<void> {
    const target = databaseName(this.target);
    const { rows } = await this.client.query<{ createdb: boolean; owns: boolean | null }>(
      `SELECT me.rolsuper OR me.rolcreatedb AS createdb,
              (SELECT me.rolsuper OR pg_has_role(me.oid, d.datdba, 'MEMBER') FROM pg_database d WHERE d.datname = $1) AS owns
         FROM pg_roles me WHERE me.rolname = current_user`,
      [target],
    );
    const me = rows[0];
    const missing: string[] = [];
    if (!me?.createdb) missing.push('the CREATEDB privilege, to build the new database beside the target');
    if (targetExists && !me?.owns)
      missing.push(`ownership of "${target}" (or membership of its owner), to rename it`);
    if (missing.length)
      throw new InputError(
        input,
        `replacing "${target}" by swap needs ${missing.join(' and ')}; grant them, or set it to false to restore in place`,
      );
  }
}
