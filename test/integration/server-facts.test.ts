import { parseConnection } from '../../core/pg/connection.js';
import { serverFacts } from '../../core/pg/server.js';
import { SERVER_MAJORS } from '../harness/paths.js';
import { conn, connUrl, createDatabase, server, sql } from '../harness/testbed.js';
import { freePort } from '../harness/servers.js';
import { failureOf } from '../harness/failure.js';

describe('server facts on real servers', () => {
  it.each(SERVER_MAJORS)('detects the version of server %i', async (major) => {
    const facts = await serverFacts(conn(major));
    expect(facts.version.major).toBe(major);
    expect(facts.versionText.startsWith(`${major}.`)).toBe(true);
    expect(facts.database).toBe('postgres');
    expect(facts.sizeBytes).toBeGreaterThan(1_000_000);
    expect(facts.hasUserTables).toBe(false);
  });

  it('tells whether a database has user tables', async () => {
    const db = await createDatabase(17, 'facts');
    expect((await serverFacts(conn(17, db))).hasUserTables).toBe(false);
    await sql(17, db, 'CREATE SCHEMA app; CREATE TABLE app.t (id int)');
    expect((await serverFacts(conn(17, db))).hasUserTables).toBe(true);
  });

  it('says authentication failed on a wrong password, without the password', async () => {
    const wrong = 'not-the-Secret-42';
    const spec = parseConnection(connUrl(16, 'postgres', wrong), 'from', {});
    const error = await failureOf(serverFacts(spec, 'from'));
    expect(error.message).toMatch(
      /^from postgres@127\.0\.0\.1:\d+\/postgres: authentication failed for user "postgres"/,
    );
    expect(error.message).not.toContain(wrong);
  });

  it('fails fast on an unreachable host, naming host:port', async () => {
    const port = await freePort();
    const spec = parseConnection(`postgres://postgres:secret@127.0.0.1:${port}/postgres`, 'to', {});
    const started = Date.now();
    const error = await failureOf(serverFacts(spec, 'to'));
    expect(error.message).toBe(
      `to postgres@127.0.0.1:${port}/postgres: cannot connect to 127.0.0.1:${port}: connection refused`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server(16).port).not.toBe(port);
  });
});
