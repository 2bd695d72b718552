import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { psqlKnowsRestrict, ScriptFilter, type ScriptFilterRules } from '../../core/pg/script-filter.js';

function rules(targetMajor: number, knowsRestrict = true): ScriptFilterRules {
  return { targetServer: { major: targetMajor }, psqlKnowsRestrict: knowsRestrict };
}

/** Runs `input` through a fresh filter in chunks of `chunkSize` bytes (default: one chunk). */
async function runFilter(
  input: Buffer | string,
  filterRules: ScriptFilterRules,
  chunkSize?: number,
): Promise<{ output: Buffer; filter: ScriptFilter }> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const size = chunkSize ?? Math.max(bytes.length, 1);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const filter = new ScriptFilter(filterRules);
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), filter, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) out.push(chunk);
  });
  return { output: Buffer.concat(out), filter };
}

async function filterText(input: string, filterRules: ScriptFilterRules): Promise<string> {
  return (await runFilter(input, filterRules)).output.toString('utf8');
}

const lines = (...l: string[]): string => l.map((x) => `${x}\n`).join('');

const HEADER = lines(
  'SET statement_timeout = 0;',
  'SET lock_timeout = 0;',
  'SET idle_in_transaction_session_timeout = 0;',
  'SET transaction_timeout = 0;',
  "SET client_encoding = 'UTF8';",
  "SELECT pg_catalog.set_config('search_path', '', false);",
);

describe('ScriptFilter: session settings', () => {
  it('drops SET transaction_timeout for a 16 target and counts it', async () => {
    const { output, filter } = await runFilter(HEADER, rules(16));
    expect(output.toString()).toBe(
      lines(
        'SET statement_timeout = 0;',
        'SET lock_timeout = 0;',
        'SET idle_in_transaction_session_timeout = 0;',
        '-- pgferry filtered: transaction_timeout',
        "SET client_encoding = 'UTF8';",
        "SELECT pg_catalog.set_config('search_path', '', false);",
      ),
    );
    expect([...filter.filtered]).toEqual([['transaction_timeout', 1]]);
    expect(filter.summary()).toEqual(['transaction_timeout (1×: line 4)']);
  });

  it('keeps it for a 17 target (and 18)', async () => {
    for (const major of [17, 18]) {
      const { output, filter } = await runFilter(HEADER, rules(major));
      expect(output.toString()).toBe(HEADER);
      expect(filter.filtered.size).toBe(0);
      expect(filter.summary()).toEqual([]);
    }
  });

  it('drops the set_config form and the TO form', async () => {
    const input = lines(
      "SELECT pg_catalog.set_config('transaction_timeout', '0', false);",
      'SET transaction_timeout TO 0;',
      'SET TRANSACTION_TIMEOUT = 0;',
    );
    const { output, filter } = await runFilter(input, rules(16));
    expect(output.toString()).toBe(
      lines(
        '-- pgferry filtered: transaction_timeout',
        '-- pgferry filtered: transaction_timeout',
        '-- pgferry filtered: transaction_timeout',
      ),
    );
    expect(filter.filtered.get('transaction_timeout')).toBe(3);
    expect(filter.summary()).toEqual(['transaction_timeout (3×: lines 1, 2, 3)']);
    expect(await filterText(input, rules(17))).toBe(input);
  });

  it('drops default_toast_compression for a 13 target only', async () => {
    const input = lines("SET default_toast_compression = 'lz4';", 'SET default_table_access_method = heap;');
    const { output, filter } = await runFilter(input, rules(13));
    expect(output.toString()).toBe(
      lines('-- pgferry filtered: default_toast_compression', 'SET default_table_access_method = heap;'),
    );
    expect(filter.summary()).toEqual(['default_toast_compression (1×: line 1)']);
    expect(await filterText(input, rules(14))).toBe(input);
    expect(await filterText(input, rules(12))).toBe(
      lines('-- pgferry filtered: default_toast_compression', 'SET default_table_access_method = heap;'),
    );
  });

  // Statements, not lines: an indented SET is the same session statement (and fails the same way on
  // the target), while a comment, a role's setting or a literal that merely mentions one is not.
  it('drops the session statements wherever they stand, and nothing that only mentions them', async () => {
    const keep = lines(
      'SET search_path = public;',
      '-- SET transaction_timeout = 0;',
      'ALTER ROLE app SET transaction_timeout = 0;',
      "COMMENT ON TABLE t IS '",
      "SET transaction_timeout = 0;';",
      'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$',
      'BEGIN',
      '  SET transaction_timeout = 0;',
      'END $$;',
    );
    const { output, filter } = await runFilter(keep, rules(15));
    expect(output.toString()).toBe(keep);
    expect(filter.filtered.size).toBe(0);
    const drop = lines(
      '    SET transaction_timeout = 0;',
      "SELECT set_config('transaction_timeout', '0', false);",
    );
    const dropped = await runFilter(drop, rules(15));
    expect(dropped.output.toString()).toBe(
      lines('    -- pgferry filtered: transaction_timeout', '-- pgferry filtered: transaction_timeout'),
    );
  });

  it('reports several settings with their counts', async () => {
    const input = lines(
      'SET transaction_timeout = 0;',
      "SET default_toast_compression = 'pglz';",
      'SET transaction_timeout = 0;',
    );
    const { filter } = await runFilter(input, rules(13));
    expect(filter.summary()).toEqual([
      'transaction_timeout (2×: lines 1, 3)',
      'default_toast_compression (1×: line 2)',
    ]);
  });
});

describe('ScriptFilter: \\restrict', () => {
  const input = lines(
    '\\restrict q8XnV2bT0aLkC5eQ',
    'SET transaction_timeout = 0;',
    'CREATE TABLE t (id int);',
    '\\unrestrict q8XnV2bT0aLkC5eQ',
  );

  it('drops \\restrict and \\unrestrict when the psql does not know them', async () => {
    const { output, filter } = await runFilter(input, rules(17, false));
    expect(output.toString()).toBe(
      lines(
        '-- pgferry filtered: \\restrict',
        'SET transaction_timeout = 0;',
        'CREATE TABLE t (id int);',
        '-- pgferry filtered: \\restrict',
      ),
    );
    expect(filter.summary()).toEqual(['\\restrict (2×: lines 1, 4)']);
  });

  it('keeps them when the psql knows them', async () => {
    const { output, filter } = await runFilter(input, rules(17, true));
    expect(output.toString()).toBe(input);
    expect(filter.filtered.size).toBe(0);
  });

  it('refuses any other meta-command, a longer name included, naming its line', async () => {
    for (const other of [
      '\\restricted',
      '\\unrestricting now',
      '\\! rm -rf /',
      '\\connect other',
      '\\set ON_ERROR_STOP off',
    ]) {
      const name = /^\\\S*/.exec(other)?.[0] ?? '';
      await expect(runFilter(lines('SELECT 1;', other), rules(17, false))).rejects.toThrow(
        `the script, line 2: the psql meta-command ${name} is not allowed`,
      );
    }
  });
});

describe('ScriptFilter: COPY data', () => {
  // Rows of a one-column text table can look exactly like the lines the filter drops. (`\r` in COPY
  // text is an escape for a carriage return, so `\restrict …` is a legal row too.)
  const rows = [
    'SET transaction_timeout = 0;',
    "SELECT pg_catalog.set_config('transaction_timeout', '0', false);",
    "SET default_toast_compression = 'lz4';",
    '\\restrict not-a-meta-command',
    'COPY public.other (x) FROM stdin;',
  ];

  it('never touches the lines of a COPY block, up to \\.', async () => {
    const input = lines(
      'SET transaction_timeout = 0;',
      'COPY public.snippets (body) FROM stdin;',
      ...rows,
      '\\.',
      'SET transaction_timeout = 0;',
      '\\restrict k',
    );
    const { output, filter } = await runFilter(input, rules(13, false));
    expect(output.toString()).toBe(
      lines(
        '-- pgferry filtered: transaction_timeout',
        'COPY public.snippets (body) FROM stdin;',
        ...rows,
        '\\.',
        '-- pgferry filtered: transaction_timeout',
        '-- pgferry filtered: \\restrict',
      ),
    );
    expect(filter.filtered.get('transaction_timeout')).toBe(2);
    expect(filter.filtered.get('\\restrict')).toBe(1);
    expect(filter.filtered.has('default_toast_compression')).toBe(false);
  });

  it('handles several COPY blocks, empty ones included', async () => {
    const input = lines(
      'COPY public.a (body) FROM stdin;',
      '\\.',
      'SET transaction_timeout = 0;',
      'COPY public.b (body) FROM stdin;',
      'SET transaction_timeout = 0;',
      '\\.',
      'SET transaction_timeout = 0;',
    );
    const { output, filter } = await runFilter(input, rules(16));
    expect(output.toString()).toBe(
      lines(
        'COPY public.a (body) FROM stdin;',
        '\\.',
        '-- pgferry filtered: transaction_timeout',
        'COPY public.b (body) FROM stdin;',
        'SET transaction_timeout = 0;',
        '\\.',
        '-- pgferry filtered: transaction_timeout',
      ),
    );
    expect(filter.filtered.get('transaction_timeout')).toBe(2);
  });

  it('tracks a COPY block whose statement is long (a wide table)', async () => {
    const columns = Array.from({ length: 40 }, (_, i) => `column_number_${i}`).join(', ');
    const copy = `COPY public.wide_table (${columns}) FROM stdin;`;
    expect(copy.length).toBeGreaterThan(200);
    const input = lines(copy, 'SET transaction_timeout = 0;', '\\.', 'SET transaction_timeout = 0;');
    const { output, filter } = await runFilter(input, rules(16));
    expect(output.toString()).toBe(
      lines(copy, 'SET transaction_timeout = 0;', '\\.', '-- pgferry filtered: transaction_timeout'),
    );
    expect(filter.filtered.get('transaction_timeout')).toBe(1);
  });

  it('passes long data rows through', async () => {
    const long = `SET transaction_timeout = 0; ${'x'.repeat(5000)}`;
    const input = lines('COPY public.t (body) FROM stdin;', long, '\\.');
    expect(await filterText(input, rules(16))).toBe(input);
  });
});

describe('ScriptFilter: bytes', () => {
  it('passes bytes that are not UTF-8 through unchanged', async () => {
    const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
    const input = Buffer.concat([
      latin1("SET client_encoding = 'LATIN1';\n"),
      latin1("COMMENT ON TABLE public.menu IS 'caf\u00e9 cr\u00e8me';\n"),
      latin1('SET transaction_timeout = 0;\n'),
      latin1('COPY public.menu (name) FROM stdin;\n'),
      Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), // café in latin1
      Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0a]), // invalid UTF-8, a NUL
      latin1('\\.\n-- '),
      Buffer.from([0xe9, 0xe8, 0x0a]),
      latin1('-- no newline at the end \u00e9'),
    ]);
    const expected = Buffer.concat([
      latin1("SET client_encoding = 'LATIN1';\n"),
      latin1("COMMENT ON TABLE public.menu IS 'caf\u00e9 cr\u00e8me';\n"),
      latin1('-- pgferry filtered: transaction_timeout\n'),
      latin1('COPY public.menu (name) FROM stdin;\n'),
      Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]),
      Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0a]),
      latin1('\\.\n-- '),
      Buffer.from([0xe9, 0xe8, 0x0a]),
      latin1('-- no newline at the end \u00e9'),
    ]);
    for (const chunkSize of [undefined, 1, 3]) {
      const { output } = await runFilter(input, rules(16), chunkSize);
      expect(output.equals(expected)).toBe(true);
    }
  });

  it('refuses a script that ends inside a statement, a literal, a body or COPY data', async () => {
    const cases: [string, string][] = [
      ['SELECT 1;\nCREATE TABLE t (a int)', 'a statement without its semicolon'],
      ["COMMENT ON TABLE t IS 'cut", 'a string literal'],
      ['CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1;', 'a dollar-quoted string'],
      ['COPY t (a) FROM stdin;\n1\n2\n', 'COPY data (no \\. line)'],
      ['SELECT 1; /* open', 'a comment'],
    ];
    for (const [script, open] of cases)
      await expect(runFilter(script, rules(17))).rejects.toThrow(`ends inside ${open}: it is incomplete`);
  });

  it('keeps CRLF line endings of lines it does not drop', async () => {
    const input = 'SET statement_timeout = 0;\r\nCOPY public.t (a) FROM stdin;\r\nx\r\n\\.\r\nSELECT 1;\r\n';
    expect(await filterText(input, rules(16))).toBe(input);
  });

  it('handles a last line without a newline', async () => {
    expect(await filterText('SELECT 1;\nSET transaction_timeout = 0;', rules(16))).toBe(
      'SELECT 1;\n-- pgferry filtered: transaction_timeout',
    );
    expect(await filterText('SELECT 1;', rules(16))).toBe('SELECT 1;');
    expect(await filterText('', rules(16))).toBe('');
  });

  it('gives the same output and counts whatever the chunking', async () => {
    const script = Buffer.concat([
      Buffer.from(
        lines(
          '\\restrict AbC123',
          ...HEADER.trimEnd().split('\n'),
          "SET default_toast_compression = 'lz4';",
          'CREATE TABLE public.snippets (body text);',
          'COPY public.snippets (body) FROM stdin;',
          'SET transaction_timeout = 0;',
          'ordinary row',
        ),
      ),
      Buffer.from([0xe9, 0xff, 0x0a]),
      Buffer.from(lines('\\.', '', "SELECT pg_catalog.set_config('transaction_timeout', '0', false);")),
      Buffer.from('\\unrestrict AbC123'),
    ]);
    const whole = await runFilter(script, rules(13, false));
    expect(whole.filter.summary()).toEqual([
      '\\restrict (2×: lines 1, 17)',
      'transaction_timeout (2×: lines 5, 16)',
      'default_toast_compression (1×: line 8)',
    ]);
    for (const chunkSize of [1, 2, 5, 17, 64]) {
      const chunked = await runFilter(script, rules(13, false), chunkSize);
      expect(chunked.output.equals(whole.output)).toBe(true);
      expect(chunked.filter.summary()).toEqual(whole.filter.summary());
    }
  });
});

describe('psqlKnowsRestrict', () => {
  it.each([
    [15, 13, false],
    [15, 14, true],
    [17, 5, false],
    [17, 6, true],
    [18, 0, true],
    [18, 3, true],
    [13, 21, false],
    [13, 22, true],
    [14, 18, false],
    [14, 19, true],
    [16, 9, false],
    [16, 10, true],
    [12, 22, false],
    [19, 0, true],
  ])('psql %i.%i → %p', (major, minor, knows) => {
    expect(psqlKnowsRestrict({ major, minor })).toBe(knows);
  });

  it('assumes an unknown minor does not know it (18beta1 parses as plain 18)', () => {
    expect(psqlKnowsRestrict({ major: 17 })).toBe(false);
    expect(psqlKnowsRestrict({ major: 18 })).toBe(false);
    expect(psqlKnowsRestrict({ major: 19 })).toBe(true);
  });
});

describe('ScriptFilter: long lines', () => {
  it('passes a long row on before its newline arrives, instead of buffering it', () => {
    const filter = new ScriptFilter({ targetServer: { major: 16 }, psqlKnowsRestrict: true });
    const out: Buffer[] = [];
    filter.on('data', (chunk: Buffer) => out.push(chunk));
    filter.write(Buffer.from('COPY public.blobs (id, data) FROM stdin;\n1\t'));
    const row = Buffer.alloc(4 * 1024 * 1024, 0x61);
    for (let i = 0; i < row.length; i += 65536) filter.write(row.subarray(i, i + 65536));
    const emitted = Buffer.concat(out).length;
    expect(emitted).toBeGreaterThanOrEqual(row.length);
  });

  it('keeps a 32 MiB row byte-identical', async () => {
    const head = Buffer.from('COPY public.blobs (id, data) FROM stdin;\n2\t');
    const row = Buffer.alloc(32 * 1024 * 1024, 0x62);
    const tail = Buffer.from('\n\\.\nSET transaction_timeout = 0;\n');
    const { output } = await runFilter(Buffer.concat([head, row, tail]), rules(16), 65536);
    expect(output.subarray(head.length, head.length + row.length).equals(row)).toBe(true);
    expect(output.subarray(head.length + row.length).toString('latin1')).toBe(
      '\n\\.\n-- pgferry filtered: transaction_timeout\n',
    );
  });
});

describe('ScriptFilter: one transaction', () => {
  it("neutralises pg_dump's own BEGIN/COMMIT around large objects, without reporting them", async () => {
    const script = lines(
      'SELECT pg_catalog.lo_create(16400);',
      'BEGIN;',
      "SELECT pg_catalog.lo_open('16400', 131072);",
      'COMMIT;',
    );
    const { output, filter } = await runFilter(script, { ...rules(17), singleTransaction: true });
    expect(output.toString()).not.toMatch(/^(BEGIN|COMMIT);$/m);
    expect(output.toString()).toContain("SELECT pg_catalog.lo_open('16400', 131072);");
    expect(filter.transactionLines).toBe(2);
    expect(filter.summary()).toEqual([]);
  });

  it('keeps them when the script does not run in one transaction, and inside COPY data', async () => {
    expect(await filterText(lines('BEGIN;', 'COMMIT;'), rules(17))).toBe(lines('BEGIN;', 'COMMIT;'));
    const copy = lines('COPY t (x) FROM stdin;', 'BEGIN;', '\\.');
    expect(await filterText(copy, { ...rules(17), singleTransaction: true })).toBe(copy);
  });
});

describe('ScriptFilter: nothing in the script can end pgferry’s transaction', () => {
  const owned = { ...rules(17), singleTransaction: true };

  it.each([
    ['ROLLBACK;', 'ROLLBACK'],
    ['COMMIT AND CHAIN;', 'COMMIT AND'],
    ['END TRANSACTION AND NO CHAIN;', 'END TRANSACTION'],
    ['ABORT;', 'ABORT'],
    ['START TRANSACTION ISOLATION LEVEL SERIALIZABLE;', 'START TRANSACTION'],
    ['SAVEPOINT s;', 'SAVEPOINT S'],
    ["PREPARE TRANSACTION 'x';", 'PREPARE TRANSACTION'],
    ["COMMIT PREPARED 'x';", 'COMMIT PREPARED'],
    ['begin isolation level read committed;', 'BEGIN ISOLATION'],
    ['/* hidden */ COMMIT /* still */ WORK AND CHAIN;', 'COMMIT WORK'],
  ])('refuses %s, naming its line', async (statement, named) => {
    await expect(runFilter(lines('SELECT 1;', 'SELECT 2;', statement), owned)).rejects.toThrow(
      `the script, line 3: ${named} is transaction control`,
    );
  });

  it('refuses tricks that would make psql see what the filter does not', async () => {
    const tricks: [string, string][] = [
      ['COPY t FROM stdin; COMMIT;\n\\.\n', 'a statement follows COPY … FROM stdin on the same line'],
      ['SELECT 1 \\; COMMIT;', 'the psql meta-command \\;'],
      ["SET client_encoding = 'SJIS';", 'client_encoding SJIS is a client-only encoding'],
      ['RESET ALL;', 'changes how psql reads the rest of the script'],
      // A literal value is tracked like SET; one the filter cannot read is refused.
      [
        "SELECT set_config('standard_conforming_strings', current_setting('x'), false);",
        'standard_conforming_strings',
      ],
      ['SELECT :DBNAME;', ':DBNAME would be replaced by psql'],
      [`COMMIT${' '.repeat(20000)};`, 'a COMMIT statement longer than 8192 bytes'],
    ];
    // In one piece and in 1 KiB chunks: a long statement is decided before its end has arrived.
    for (const [script, why] of tricks) {
      for (const chunk of [undefined, 1024]) {
        const outcome = await runFilter(script, owned, chunk).then(
          () => `passed: ${script.slice(0, 40)}`,
          (e: Error) => e.message,
        );
        if (chunk || !script.startsWith('COMMIT ')) expect(outcome).toContain(why);
        else expect(outcome).toMatch(/^passed/); // whole, it is a bare COMMIT, left out
      }
    }
  });

  it('passes what only looks like transaction control, byte for byte', async () => {
    const script = lines(
      'CREATE PROCEDURE public.p() LANGUAGE plpgsql AS $$',
      'BEGIN',
      'COMMIT;',
      'ROLLBACK;',
      'END',
      '$$;',
      "COMMENT ON PROCEDURE public.p() IS '",
      "COMMIT;';",
      'CREATE FUNCTION public.f() RETURNS int LANGUAGE sql',
      'BEGIN ATOMIC',
      '  SELECT 1;',
      'END;',
      '-- COMMIT;',
      "SELECT E'\\'; COMMIT; \\'';",
      'COPY public.t (a) FROM stdin;',
      'COMMIT;',
      '\\.',
    );
    const { output, filter } = await runFilter(script, owned);
    expect(output.toString()).toBe(script);
    expect(filter.transactionLines).toBe(0);
  });

  it('refuses even a bare BEGIN; / COMMIT; in a user’s own SQL', async () => {
    await expect(
      runFilter(lines('UPDATE t SET a = 1;', 'COMMIT;'), { ...owned, refuseAllTransactionControl: true }),
    ).rejects.toThrow('line 2: COMMIT is transaction control');
  });
});
