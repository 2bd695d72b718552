import { createdObject, sqlStatements } from '../../core/pg/sql-statements.js';

/** A plain dump's statements, fed in chunks of `size` characters to attack every boundary. */
async function statements(text: string, size: number): Promise<string[]> {
  async function* chunks(): AsyncGenerator<string> {
    for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
  }
  const out: string[] = [];
  for await (const s of sqlStatements(chunks())) out.push(s.code);
  return out;
}

const SCRIPT = [
  '\\restrict abc123',
  '-- CREATE SCHEMA in_a_comment;',
  "SET search_path = '';",
  '/* nested /* CREATE SCHEMA in_block; */ still comment */',
  'CREATE SCHEMA "my schema" AUTHORIZATION "own""er x";',
  'CREATE SCHEMA "line',
  'break";',
  'CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $body$',
  'BEGIN',
  "  EXECUTE 'CREATE SCHEMA in_a_body;';",
  'END $body$;',
  "CREATE TABLE public.t (v text DEFAULT E'it\\'s; CREATE SCHEMA in_a_literal;');",
  'COPY public.t (v) FROM stdin;',
  'CREATE SCHEMA in_copy_data;',
  '\\\\.not the end',
  '\\.',
  'CREATE PUBLICATION "pub; x" FOR ALL TABLES;',
  'CREATE SERVER "srv" FOREIGN DATA WRAPPER "my fdw";',
  'CREATE USER MAPPING FOR "role b" SERVER "srv" OPTIONS (user \'x\');',
  'CREATE TRANSFORM FOR public.hstore LANGUAGE plpgsql (FROM SQL WITH FUNCTION f(internal));',
  'CREATE EVENT TRIGGER "et" ON ddl_command_start EXECUTE FUNCTION public.f();',
  'CREATE ACCESS METHOD "heap2" TYPE TABLE HANDLER heap_tableam_handler;',
  'CREATE FOREIGN DATA WRAPPER "my fdw";',
  'CREATE SCHEMA select_;',
].join('\n');

describe('plain-dump statements', () => {
  it.each([1, 2, 3, 7, 64, 100_000])('split alike in chunks of %i characters', async (size) => {
    const found = (await statements(SCRIPT, size)).map((code) => createdObject({ code })).filter(Boolean);
    expect(found).toEqual([
      { kind: 'SCHEMA', name: 'my schema' },
      { kind: 'SCHEMA', name: 'line\nbreak' },
      { kind: 'PUBLICATION', name: 'pub; x', drop: 'DROP PUBLICATION IF EXISTS "pub; x";' },
      { kind: 'SERVER', name: 'srv', drop: 'DROP SERVER IF EXISTS "srv";' },
      {
        kind: 'USER MAPPING',
        name: 'role b srv',
        drop: 'DROP USER MAPPING IF EXISTS FOR "role b" SERVER "srv";',
      },
      {
        kind: 'TRANSFORM',
        name: 'public . hstore plpgsql',
        drop: 'DROP TRANSFORM IF EXISTS FOR public . hstore LANGUAGE plpgsql;',
      },
      { kind: 'EVENT TRIGGER', name: 'et', drop: 'DROP EVENT TRIGGER IF EXISTS "et";' },
      { kind: 'ACCESS METHOD', name: 'heap2', drop: 'DROP ACCESS METHOD IF EXISTS "heap2";' },
      {
        kind: 'FOREIGN DATA WRAPPER',
        name: 'my fdw',
        drop: 'DROP FOREIGN DATA WRAPPER IF EXISTS "my fdw";',
      },
      { kind: 'SCHEMA', name: 'select_' },
    ]);
  });

  it('never takes literal, body, comment or COPY text for a statement', async () => {
    const all = (await statements(SCRIPT, 5)).join('\n');
    for (const hidden of ['in_a_comment', 'in_block', 'in_a_body', 'in_a_literal', 'in_copy_data'])
      expect(all).not.toContain(hidden);
  });
});
