import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toolPath, type ClientTools } from '../../core/pg/clients/tools.js';
import type { ServerMajor } from './paths.js';
import { connUrl, sql } from './testbed.js';

/**
 * PostgreSQL's regression database — almost every object kind there is — built the way pg_regress
 * leaves it, from a `src/test/regress` directory (see ../shared/TESTING.md for where one comes from;
 * it is never part of this repository). `PG_REGRESS_DIR` names it; without it the suites that
 * need it do not run.
 */
export const REGRESS_DIR = process.env.PG_REGRESS_DIR;

/** Tests that need what a server here cannot give (a tablespace directory, other databases). */
const SKIPPED = new Set(['tablespace', 'database']);

function schedule(dir: string): string[] {
  return readFileSync(path.join(dir, 'parallel_schedule'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('test:'))
    .flatMap((line) => line.slice(5).trim().split(/\s+/))
    .filter((name) => name && !SKIPPED.has(name));
}

function runPsql(tools: ClientTools, url: string, file: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      toolPath(tools, 'psql'),
      [
        '-X',
        '-a',
        '-q',
        '-v',
        'HIDE_TABLEAM=on',
        '-v',
        'HIDE_TOAST_COMPRESSION=on',
        `--dbname=${url}`,
        '-f',
        file,
      ],
      {
        cwd,
        stdio: ['ignore', 'ignore', 'ignore'],
        env: {
          PATH: process.env.PATH ?? '',
          PG_ABS_SRCDIR: cwd,
          PG_ABS_BUILDDIR: cwd,
          PG_LIBDIR: path.join(os.tmpdir(), 'pgferry-no-regress-lib'),
          PG_DLSUFFIX: '.so',
          PGTZ: 'America/Los_Angeles',
          PGDATESTYLE: 'Postgres, MDY',
        },
      },
    );
    // A test written for a newer psql can wait forever on an older one (psql_pipeline on 17).
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Creates `db` on the server and runs every test of the schedule into it, one psql each, in order,
 * without ON_ERROR_STOP (tests that need regress.so fail in part, as they would anywhere without it).
 */
export async function buildRegressionDatabase(
  tools: ClientTools,
  major: ServerMajor,
  db: string,
  dir: string,
): Promise<void> {
  await sql(major, 'postgres', `CREATE DATABASE ${db} TEMPLATE template0`);
  const settings = {
    lc_messages: 'C',
    lc_monetary: 'C',
    lc_numeric: 'C',
    lc_time: 'C',
    bytea_output: 'hex',
    timezone_abbreviations: 'Default',
  };
  for (const [name, value] of Object.entries(settings))
    await sql(major, 'postgres', `ALTER DATABASE ${db} SET ${name} TO '${value}'`);
  const url = connUrl(major, db);
  for (const test of schedule(dir)) {
    let file = path.join(dir, 'sql', `${test}.sql`);
    if (test === 'subselect' && major < 18) {
      // A statement there crashes servers older than 18.1.
      const text = readFileSync(file, 'utf8').replace(/^SELECT \(array\[1,2\]\)\[\(SELECT g\.i\).*$/gm, '');
      file = path.join(os.tmpdir(), `pgferry-subselect-${process.pid}.sql`);
      writeFileSync(file, text);
    }
    await runPsql(tools, url, file, dir);
  }
  if (major < 18)
    // The 18 suite comments on a NOT VALID domain constraint; pg_dump 17 writes that comment before
    // the constraint, so no restore of its dump (the raw tools' included) gets past it.
    await sql(
      major,
      db,
      `DO $$ BEGIN
         IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'inv_ck' AND contypid = 'public.constraint_comments_dom'::regtype) THEN
           COMMENT ON CONSTRAINT inv_ck ON DOMAIN public.constraint_comments_dom IS NULL;
         END IF;
       END $$`,
    );
}
