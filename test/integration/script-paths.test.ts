import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { parseConnection } from '../../core/pg/connection.js';
import type { ServerMajor } from '../harness/paths.js';
import { catalog, dumpFile, scratchDir } from '../harness/engine.js';
import { failureOf } from '../harness/failure.js';
import { rowHashes } from '../harness/compare.js';
import { connUrl, createDatabase, sql, uniqueName } from '../harness/testbed.js';

/**
 * The script paths (plain dumps through psql; pg_restore → filter → psql for a downgrade) are
 * faithful: a body that holds lines looking exactly like what the filter drops arrives byte for
 * byte, and a script cannot commit before pgferry does.
 */

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

/** What a plain script needs at its top for pgferry to take it as pg_dump's. */
const PLAIN_HEADER = '--\n-- PostgreSQL database dump\n--\n\n';

/** A procedure and a function whose bodies hold bare `BEGIN;`, `COMMIT;` and SET lines. */
const TRICKY_BODIES = `
CREATE PROCEDURE public.batch() LANGUAGE plpgsql AS $body$
BEGIN
COMMIT;
SET transaction_timeout = 0;
END
$body$;
CREATE FUNCTION public.quoted() RETURNS text LANGUAGE sql AS 'SELECT ''
BEGIN;
COMMIT;
''::text';
COMMENT ON PROCEDURE public.batch() IS '
BEGIN;
COMMIT;';
CREATE TABLE public.notes (id int PRIMARY KEY, body text);
INSERT INTO public.notes VALUES (1, E'COMMIT;\\nBEGIN;'), (2, 'SET transaction_timeout = 0;');
`;

async function bodies(major: ServerMajor, db: string): Promise<unknown[]> {
  return sql(
    major,
    db,
    `SELECT p.proname, p.prosrc, obj_description(p.oid, 'pg_proc') AS comment
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' ORDER BY 1`,
  );
}

function dump(major: ServerMajor, db: string, format: 'plain' | 'custom'): Promise<string> {
  const file = path.join(scratch.dir, `${db}.${format === 'plain' ? 'sql' : 'dump'}`);
  return dumpFile(major, db, file, format, { algorithm: 'none' });
}

function restore(
  file: string,
  major: ServerMajor,
  target: string,
  extra: { allowDowngrade?: boolean; confirm?: string } = {},
) {
  const log = new RecordingLogger();
  return restoreFromPath({
    from: file,
    to: parseConnection(connUrl(major, target), 'to', {}),
    jobs: 1,
    postgresVersion: { kind: 'auto' },
    catalog: catalog(log),
    log,
    ...extra,
  });
}

describe('bodies that look like what the filter drops arrive byte for byte', () => {
  it.each([
    ['a plain dump through psql (17 → 17)', 'plain', 17],
    ['a downgrade through pg_restore → filter → psql (17 → 16)', 'custom', 16],
    ['a plain dump downgraded through the filter (17 → 15)', 'plain', 15],
  ] as const)('%s', async (_name, format, targetMajor) => {
    const source = await createDatabase(17, 'bodies');
    await sql(17, source, TRICKY_BODIES);
    const file = await dump(17, source, format);
    const target = uniqueName('bodies_dst');
    const result = await restore(file, targetMajor, target, { allowDowngrade: targetMajor < 17 });
    expect(result.path).toBe(format === 'plain' ? 'psql' : 'script');
    expect(await bodies(targetMajor, target)).toEqual(await bodies(17, source));
    expect(await sql(targetMajor, target, 'SELECT id, body FROM public.notes ORDER BY id')).toEqual(
      await sql(17, source, 'SELECT id, body FROM public.notes ORDER BY id'),
    );
    if (targetMajor === 16) expect(result.filtered.join()).toMatch(/^transaction_timeout \(1×: line \d+\)$/);
  });
});

describe('a plain script cannot commit before pgferry does', () => {
  async function existingTarget(): Promise<{ db: string; before: Record<string, string> }> {
    const db = await createDatabase(17, 'early');
    await sql(17, db, `CREATE TABLE keep (id int); INSERT INTO keep SELECT generate_series(1, 5)`);
    return { db, before: await rowHashes(17, db) };
  }

  it('leaves its own COMMIT out, so a later failure rolls everything back', async () => {
    const file = path.join(scratch.dir, 'early-commit.sql');
    writeFileSync(
      file,
      PLAIN_HEADER +
        'CREATE TABLE a (id int);\nINSERT INTO keep VALUES (6);\nCOMMIT;\nCREATE TABLE b (id int);\nSELECT 1/0;\n',
    );
    const { db, before } = await existingTarget();
    const error = await failureOf(restore(file, 17, db, { confirm: db }));
    expect(error.message).toMatch(/division by zero/);
    expect(await rowHashes(17, db)).toEqual(before);
  });

  it.each([
    ['ROLLBACK;', 'ROLLBACK is transaction control'],
    ['COMMIT AND CHAIN;', 'COMMIT AND is transaction control'],
    ['\\! touch pwned', 'the psql meta-command \\! is not allowed'],
    ['\\connect postgres', 'the psql meta-command \\connect is not allowed'],
  ])('refuses %s with its line, and nothing before it stays', async (statement, why) => {
    const file = path.join(scratch.dir, `refused-${uniqueName('s')}.sql`);
    writeFileSync(
      file,
      `${PLAIN_HEADER}CREATE TABLE a (id int);\nINSERT INTO keep VALUES (6);\n${statement}\nCREATE TABLE b (id int);\n`,
    );
    const { db, before } = await existingTarget();
    const error = await failureOf(restore(file, 17, db, { confirm: db }));
    expect(error.message).toContain(`line 7: ${why}`);
    expect(await rowHashes(17, db)).toEqual(before);
  });
});

describe('a failure on a script path names the object, not a line of a script the user never saw', () => {
  it.each([
    ['a plain dump', 'plain', 17],
    ['a downgrade', 'custom', 16],
  ] as const)('%s', async (_name, format, targetMajor) => {
    const source = await createDatabase(17, 'named');
    await sql(17, source, TRICKY_BODIES);
    const file = await dump(17, source, format);
    const target = await createDatabase(targetMajor, 'named_dst');
    await sql(targetMajor, target, 'CREATE TABLE public.notes (other int)');
    const error = await failureOf(
      restore(file, targetMajor, target, { confirm: target, allowDowngrade: true }),
    );
    expect(error.message).toMatch(
      /psql:<stdin>:\d+: restoring TABLE public\.notes: ERROR: +relation "notes" already exists/,
    );
  });
});
