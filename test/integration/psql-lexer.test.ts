import { spawnSync } from 'node:child_process';
import { PsqlLexer } from '../../core/pg/psql-lexer.js';
import { toolPath, type ClientTools } from '../../core/pg/clients/tools.js';
import { catalog } from '../harness/engine.js';
import { connUrl } from '../harness/testbed.js';

/**
 * The script filter is only as safe as its agreement with psql on where statements end. These tests
 * make real psql (17 and 18, against real servers) echo every query it sends and compare that with
 * the statements the lexer finds, for scripts written to make the two disagree.
 */

/**
 * Statements as the lexer sees them, fed in chunks of `chunk` bytes; the lexer is told what each
 * `SET standard_conforming_strings` did, as the script filter tells it.
 */
function lexed(script: string, chunk: number): string[] {
  const bytes = Buffer.from(script, 'utf8');
  const found: string[] = [];
  let start = -1;
  const lexer: PsqlLexer = new PsqlLexer({
    statementStart: (offset) => {
      start = offset;
    },
    word: () => {},
    statementEnd: (end) => {
      const text = bytes.subarray(start, end).toString('utf8');
      found.push(text);
      const m = /^SET standard_conforming_strings = (on|off);$/.exec(text);
      if (m) lexer.setStandardStrings(m[1] === 'on');
    },
    metaStart: () => {},
    meta: () => {},
    variable: () => {},
    afterCopy: () => {},
    copyEnd: () => {},
  });
  for (let i = 0; i < bytes.length; i += chunk) lexer.write(bytes.subarray(i, i + chunk));
  return found;
}

/** What psql sends: `--echo-queries` prints each query, results go nowhere. */
function psqlSends(tools: ClientTools, major: 17 | 18, script: string): string {
  const run = spawnSync(
    toolPath(tools, 'psql'),
    [
      '--no-psqlrc',
      '--echo-queries',
      '--output=/dev/null',
      '--quiet',
      `--dbname=${connUrl(major)}`,
      '--file=-',
    ],
    { input: script, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', PGCONNECT_TIMEOUT: '10' } },
  );
  if (run.error) throw run.error;
  return run.stdout;
}

const SCRIPTS: Record<string, string> = {
  'semicolons in literals, identifiers and dollar quotes': [
    "SELECT 'a;b', 'it''s; fine';",
    'SELECT 1 AS "x;""y";',
    'SELECT $$ ; $$, $tag$ $$ ; $tag$, $a$ $ab$ ; $$ ; $a$;',
    'SELECT 2;',
  ].join('\n'),
  'escape strings and quote continuation': [
    "SELECT E'\\'; still inside', E'a\\\\';",
    "SELECT 'one'",
    "  '; two';",
    "SELECT E'x'",
    '-- a comment between',
    // psql never sees that line break, so this is a new literal and the semicolon ends the query.
    "'\\'; SELECT 'so this is a statement of its own';",
    // A CR is the only line break psql's scanner sees inside a line: these continue the literal.
    "SELECT E'y'\r'\\'; continued';",
    "SELECT E'y' -- c\r  '\\'; continued';",
    "SELECT E'z'",
    "\r'\\'; continued from the line before';",
    "SELECT 'w'",
    "'' ; SELECT 'not a doubled quote';",
    "SELECT 'no' 'continuation without a newline';",
    'SELECT 3;',
  ].join('\n'),
  'comments: nested, and -- ended by a carriage return': [
    'SELECT /* a /* b ; */ ; */ 1;',
    '-- leading comment ; \rSELECT 4;',
    'SELECT 5 -- trailing ; \r, 6;',
    'SELECT 7;',
  ].join('\n'),
  'parentheses and SQL-standard bodies': [
    'SELECT (1; 2);',
    'CREATE OR REPLACE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql',
    'BEGIN ATOMIC',
    '  SELECT CASE WHEN true THEN 1 ELSE 2 END;',
    '  SELECT 2;',
    'END;',
    'CREATE PROCEDURE pg_temp.p() LANGUAGE sql BEGIN ATOMIC SELECT 1; END;',
    'SELECT 8;',
  ].join('\n'),
  'dollar signs that are not quotes': [
    'SELECT 1 AS a$b$;',
    'SELECT 1$x$ ; $x$;',
    'PREPARE q AS SELECT $1::int; EXECUTE q(9);',
    "SELECT U&'d\\0061t\\+000061' ;",
    'SELECT 10;',
  ].join('\n'),
  'standard_conforming_strings, read once per line': [
    'SET standard_conforming_strings = off;',
    "SELECT 'a\\'; still inside';",
    "SELECT U&'\\0041'; SELECT 11;",
    "SET standard_conforming_strings = on; SELECT 'b\\'; SELECT 12; --';",
    "SELECT 'c\\'; SELECT 13;",
  ].join('\n'),
  'COPY data is not SQL': [
    'CREATE TEMP TABLE c (a text);',
    'COPY c FROM stdin;',
    "x'; SELECT 'not a statement",
    '\\.x',
    '\\.',
    'COPY (SELECT 1) TO STDOUT;',
    'SELECT 14;',
  ].join('\n'),
};

describe.each([17, 18] as const)('the lexer agrees with psql %i on statement boundaries', (major) => {
  let tools: ClientTools;
  beforeAll(async () => {
    tools = await catalog().provide({ major });
  });

  it.each(Object.keys(SCRIPTS))('%s', (name) => {
    const script = `${SCRIPTS[name] ?? ''}\n`;
    const sent = psqlSends(tools, major, script);
    expect(sent.length).toBeGreaterThan(0);
    const expected = lexed(script, script.length)
      .map((s) => `${s}\n`)
      .join('');
    expect(sent).toBe(expected);
    for (const chunk of [1, 2, 3, 7]) expect(lexed(script, chunk)).toEqual(lexed(script, script.length));
  });
});

describe('the lexer without psql', () => {
  it('keeps COPY data out of the statements, however it is chunked', () => {
    const script = 'COPY t FROM stdin;\nSELECT 1;\n\\.\nSELECT 2;\n';
    for (const chunk of [1, 4, 100])
      expect(lexed(script, chunk)).toEqual(['COPY t FROM stdin;', 'SELECT 2;']);
  });
});
