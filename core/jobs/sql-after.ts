import { access } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { psqlArgs } from '../pg/args.js';
import { toolPath, type ClientTools } from '../pg/client-tools.js';
import { connectionEnv, secretsOf, type ConnectionSpec } from '../pg/connection.js';
import { runTool } from '../pg/run.js';

/** Fails before any work starts when a `sql-after` file cannot be read. */
export async function checkSqlAfterFiles(files: readonly string[], input = 'sql-after'): Promise<void> {
  for (const file of files) {
    await access(file).catch(() => {
      throw new InputError(input, `${file} cannot be read; expected paths of SQL files`);
    });
  }
}

/**
 * Runs the `sql-after` files (anonymisation, grants) on the target, all in one transaction: if any
 * statement fails, none of their changes stay.
 */
export async function runSqlAfter(
  client: ClientTools,
  target: ConnectionSpec,
  files: readonly string[],
  signal?: AbortSignal,
  input = 'sql-after',
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
    throw new InputError(input, `failed, and its changes were rolled back: ${(error as Error).message}`);
  });
}
