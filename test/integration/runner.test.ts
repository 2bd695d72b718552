import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { RecordingLogger } from '../../core/log.js';
import { copyDatabase } from '../../core/jobs/copy.js';
import { dumpToPath, type DumpOptions } from '../../core/jobs/dump.js';
import { parseConnection } from '../../core/pg/connection.js';
import type { Progress } from '../../core/pg/run.js';
import { catalog, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { connUrl, createDatabase, sql, testbed } from '../harness/testbed.js';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

/** Command lines of every process on the machine, read from /proc. */
function allCommandLines(): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
      } catch {
        return '';
      }
    });
}

/** A session holding an ACCESS EXCLUSIVE lock, so that pg_dump waits on it for as long as we like. */
async function lockTable(db: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: connUrl(17, db) });
  await client.connect();
  await client.query('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
  return client;
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function options(db: string, to: string, extra: Partial<DumpOptions> = {}): DumpOptions {
  const log = new RecordingLogger();
  return {
    from: parseConnection(connUrl(17, db), 'from', {}),
    to,
    format: 'custom',
    compress: 'auto',
    jobs: 'auto',
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
    ...extra,
  };
}

describe('running pg_dump', () => {
  let db: string;
  beforeAll(async () => {
    db = await createDatabase(17, 'runner');
    await sql(17, db, 'CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000)');
  });

  it('never puts the password on any command line while a dump runs, and reports progress', async () => {
    const { password } = testbed();
    const lock = await lockTable(db);
    const progress: Progress[] = [];
    const to = path.join(scratch.dir, 'waiting.dump');
    const dump = dumpToPath(
      options(db, to, { onProgress: (p) => progress.push(p), progressIntervalMs: 100 }),
    );
    try {
      await waitFor(
        () => allCommandLines().some((c) => c.includes('pg_dump') && c.includes('waiting.dump')),
        'pg_dump',
      );
      const running = allCommandLines().filter((c) => c.includes('pg_dump'));
      expect(running.length).toBeGreaterThan(0);
      expect(allCommandLines().filter((c) => c.includes(password))).toEqual([]);
      await waitFor(() => progress.length >= 3, 'progress reports');
    } finally {
      await lock.query('ROLLBACK');
      await lock.end();
    }
    const result = await dump;
    expect(result.bytes).toBeGreaterThan(0);
    expect(existsSync(to)).toBe(true);
    const last = progress.at(-1);
    expect(last?.elapsedMs).toBeGreaterThanOrEqual(300);
    expect(last?.bytes).toBeGreaterThanOrEqual(0);
    expect(last?.bytesPerSecond).toBeGreaterThanOrEqual(0);
  });

  it('cancels a running dump and leaves no file behind', async () => {
    const lock = await lockTable(db);
    const to = path.join(scratch.dir, 'cancelled.dump');
    const controller = new AbortController();
    try {
      const dump = dumpToPath(options(db, to, { signal: controller.signal }));
      await waitFor(
        () => allCommandLines().some((c) => c.includes('pg_dump') && c.includes('cancelled.dump')),
        'pg_dump',
      );
      controller.abort(new Error('deadline reached'));
      const error = await failureOf(dump);
      expect(error.message).toBe('pg_dump was cancelled: deadline reached');
    } finally {
      await lock.query('ROLLBACK');
      await lock.end();
    }
    expect(readdirSync(scratch.dir).filter((f) => f.includes('cancelled'))).toEqual([]);
    expect(allCommandLines().filter((c) => c.includes('cancelled.dump'))).toEqual([]);
  });

  it('reports a failed dump with the tool’s own words and leaves no file', async () => {
    const to = path.join(scratch.dir, 'missing-table.dump');
    const error = await failureOf(dumpToPath(options(db, to, { tables: ['no_such_table'] })));
    expect(error.message).toMatch(/^pg_dump exited with code 1:\n.*no matching tables were found/s);
    expect(readdirSync(scratch.dir).filter((f) => f.includes('missing-table'))).toEqual([]);
  });
});

describe('progress of a copy', () => {
  it('reports at the interval asked for, not only every 10 s', async () => {
    const db = await createDatabase(17, 'runner_copy');
    await sql(17, db, 'CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000)');
    const target = await createDatabase(17, 'runner_copy_to');
    const lock = await lockTable(db);
    const progress: Progress[] = [];
    const log = new RecordingLogger();
    const copy = copyDatabase({
      from: parseConnection(connUrl(17, db), 'from', {}),
      to: parseConnection(connUrl(17, target), 'to', {}),
      jobs: 1,
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 100,
    });
    try {
      await waitFor(() => progress.length >= 3, 'progress reports of the copy');
    } finally {
      await lock.query('ROLLBACK');
      await lock.end();
    }
    await copy;
    expect(await sql(17, target, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 1000 }]);
  });
});
