import { pgDumpallArgs, psqlArgs } from '../pg/args.js';
import { toolPath, type ClientTools } from '../pg/clients/tools.js';
import { connectionEnv, secretsOf, withDatabase, type ConnectionSpec } from '../pg/connection.js';
import { runTool } from '../pg/run.js';
import { ScriptFilter, psqlKnowsRestrict } from '../pg/script-filter.js';
import { withClient } from '../pg/server.js';
import type { PgVersion } from '../pg/version.js';
import { Readable } from 'node:stream';

/** Roles and tablespaces of the source cluster, without password hashes. */
export async function dumpGlobals(
  client: ClientTools,
  source: ConnectionSpec,
  signal?: AbortSignal,
): Promise<string> {
  const { stdout } = await runTool({
    file: toolPath(client, 'pg_dumpall'),
    args: pgDumpallArgs({ clientMajor: client.version.major, globalsOnly: true, noRolePasswords: true }),
    env: connectionEnv(source),
    secrets: secretsOf(source),
    stdout: 'capture',
    signal,
  });
  return stdout;
}

const CREATE_ROLE = /^CREATE ROLE ("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*);\s*$/i;
const CREATE_TABLESPACE = /^CREATE TABLESPACE ("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*) /i;

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name.toLowerCase();
}

/**
 * Leaves out the CREATE statements of roles and tablespaces the target already has (its own
 * superuser, roles an earlier copy created): their ALTER and GRANT statements still apply.
 */
export function withoutExisting(
  sql: string,
  roles: ReadonlySet<string>,
  tablespaces: ReadonlySet<string>,
): string {
  return sql
    .split('\n')
    .map((line) => {
      const role = CREATE_ROLE.exec(line)?.[1];
      if (role && roles.has(unquote(role))) return `-- pgferry: role ${unquote(role)} exists`;
      const space = CREATE_TABLESPACE.exec(line)?.[1];
      if (space && tablespaces.has(unquote(space))) return `-- pgferry: tablespace ${unquote(space)} exists`;
      return line;
    })
    .join('\n');
}

/** Applies a globals script to the target cluster, before the database itself is restored. */
export async function applyGlobals(
  client: ClientTools,
  target: ConnectionSpec,
  targetVersion: PgVersion,
  sql: string,
  signal?: AbortSignal,
): Promise<void> {
  const maintenance = withDatabase(target, 'postgres');
  const { roles, tablespaces } = await withClient(maintenance, 'to', async (c) => ({
    roles: new Set((await c.query<{ n: string }>('SELECT rolname AS n FROM pg_roles')).rows.map((r) => r.n)),
    tablespaces: new Set(
      (await c.query<{ n: string }>('SELECT spcname AS n FROM pg_tablespace')).rows.map((r) => r.n),
    ),
  }));
  const script = withoutExisting(sql, roles, tablespaces);
  // CREATE TABLESPACE cannot run inside a transaction block.
  const single = !/^CREATE TABLESPACE /m.test(script);
  const filter = new ScriptFilter({
    targetServer: targetVersion,
    psqlKnowsRestrict: psqlKnowsRestrict(client.version),
  });
  await runTool({
    file: toolPath(client, 'psql'),
    args: psqlArgs({ file: '-', onErrorStop: true, singleTransaction: single, quiet: true }),
    env: connectionEnv(maintenance),
    secrets: secretsOf(target),
    stdin: Readable.from([Buffer.from(script)]).pipe(filter),
    stdout: 'ignore',
    signal,
  });
}

/** A dump's roles and tablespaces travel beside it, and a restore applies them first. */
export function globalsPath(archive: string): string {
  return `${archive}.globals.sql`;
}
