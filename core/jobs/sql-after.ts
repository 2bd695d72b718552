import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError, PgferryError } from '../errors.js';
import { ScriptFilter } from '../pg/script-filter.js';
import { psqlArgs } from '../pg/args.js';
import { toolPath, type ClientTools } from '../pg/clients/tools.js';
import { connectionEnv, secretsOf, type ConnectionSpec } from '../pg/connection.js';
import { runTool } from '../pg/run.js';

/**
 * Reads a SQL file the way psql will and refuses what could end the surrounding transaction early
 * (`COMMIT`, `ROLLBACK`, …) or leave SQL (`\!`, `\connect`, any meta-command), naming its line.
 */
async function checkScript(file: string, input: string): Promise<void> {
  const filter = new ScriptFilter(
    {
      targetServer: { major: Number.MAX_SAFE_INTEGER },
      psqlKnowsRestrict: true,
      singleTransaction: true,
      refuseAllTransactionControl: true,
    },
    file,
  );
  const discard = new Writable({ write: (_chunk, _enc, done) => done() });
  await pipeline(createReadStream(file), filter, discard).catch((error: unknown) => {
    if (error instanceof PgferryError) throw new InputError(input, error.message);
    throw error;
  });
}

/** Fails before any work starts when a `sql-after` file cannot be read or holds what is refused. */
export async function checkSqlAfterFiles(files: readonly string[], input = 'sql-after'): Promise<void> {
  for (const file of files) {
    await access(file).catch(() => {
      throw new InputError(input, `${file} cannot be read; expected paths of SQL files`);
    });
    await checkScript(file, input);
  }
}

/** What a failure of SQL run on the database a swap builds means for the target. */
export const BEFORE_SWAP =
  'nothing was committed to the target (the new contents were built beside it and dropped)';

/**
 * psql names the file and line that failed (`psql:<file>:<line>: ERROR: …`): said the way the user
 * reads it, `<file>, line <n>: ERROR: …`, with what the failure means.
 */
function failureInUsersTerms(
  error: unknown,
  files: readonly string[],
  input: string,
  outcome: string,
): Error {
  const message = (error as Error).message;
  for (const file of files) {
    const at = message.indexOf(`psql:${file}:`);
    const m = at < 0 ? null : /^(\d+): /.exec(message.slice(at + file.length + 6));
    if (m) {
      const detail = message.slice(at + file.length + 6 + m[0].length).trim();
      return new InputError(input, `${file}, line ${m[1]}: ${detail}; ${outcome}`);
    }
  }
  return new InputError(input, `failed, and ${outcome}: ${message}`);
}

/**
 * Runs the `sql-after` files (anonymisation, grants) on the target, all in one transaction: if any
 * statement fails, none of their changes stay (checkSqlAfterFiles has made sure no statement in them
 * can end that transaction).
 */
export async function runSqlAfter(
  client: ClientTools,
  target: ConnectionSpec,
  files: readonly string[],
  signal?: AbortSignal,
  input = 'sql-after',
  outcome = 'its changes were rolled back',
): Promise<void> {
  if (files.length === 0) return;
  await runTool({
    file: toolPath(client, 'psql'),
    args: psqlArgs({ files: [...files], onErrorStop: true, singleTransaction: true, quiet: true }),
    env: connectionEnv(target),
    secrets: secretsOf(target),
    stdout: 'ignore',
    signal,
  }).catch((error: unknown) => {
    throw failureInUsersTerms(error, files, input, outcome);
  });
}
