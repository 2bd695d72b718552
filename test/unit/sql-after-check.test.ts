import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkSqlAfterFiles } from '../../core/jobs/sql-after.js';
import { InputError } from '../../core/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pgferry-sql-after-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const at = path.join(dir, name);
  writeFileSync(at, text);
  return at;
}

describe('sql-after and sanitize SQL are checked before anything runs', () => {
  it.each([
    ['COMMIT;', 'COMMIT is transaction control'],
    ['BEGIN;', 'BEGIN is transaction control'],
    ['rollback;', 'ROLLBACK is transaction control'],
    ['\\! curl http://127.0.0.1/', 'the psql meta-command \\! is not allowed'],
    ['\\connect production', 'the psql meta-command \\connect is not allowed'],
    ['\\set ON_ERROR_STOP off', 'the psql meta-command \\set is not allowed'],
  ])('refuses %s naming the input, the file and the line', async (statement, why) => {
    const sql = file('mask.sql', `UPDATE users SET email = 'x';\n-- a note\n${statement}\n`);
    const error = await checkSqlAfterFiles([sql], 'sanitize-sql').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    const message = (error as Error).message;
    expect(message.startsWith(`sanitize-sql: ${sql}, line 3: ${why}`)).toBe(true);
    expect(message).toMatch(/; refusing to run it$/);
  });

  it('accepts ordinary SQL, dollar-quoted bodies and comments that mention COMMIT', async () => {
    const sql = file(
      'ok.sql',
      "UPDATE users SET email = md5(email) || '@example.invalid';\n-- COMMIT;\nDO $$ BEGIN RAISE NOTICE 'COMMIT;'; END $$;\n",
    );
    await expect(checkSqlAfterFiles([sql])).resolves.toBeUndefined();
  });

  it('says which file cannot be read', async () => {
    await expect(checkSqlAfterFiles([path.join(dir, 'missing.sql')])).rejects.toThrow(
      /^sql-after: .*missing\.sql cannot be read; expected paths of SQL files$/,
    );
  });
});
