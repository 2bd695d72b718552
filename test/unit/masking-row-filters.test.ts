import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { MaskingStream, type MaskTap } from '../../core/masking/copy-stream.js';
import { encodeCopyLine } from '../../core/masking/copy-text.js';
import { maskingLines } from '../../core/masking/for-job.js';
import { compareCopyText, sampler } from '../../core/masking/row-filters.js';
import {
  checkRulesAgainst,
  parseMaskingRules,
  tableKey,
  type MaskingRules,
} from '../../core/masking/rules.js';
import { REPO_ROOT } from '../harness/paths.js';

const KEY = 'row-filter-key';
const parse = (text: string, key = KEY) => parseMaskingRules(text, 'r.yml', key);

async function run(
  rules: MaskingRules,
  script: string,
  tap?: MaskTap,
  chunk = 0,
): Promise<[string, MaskingStream]> {
  const stream = new MaskingStream(rules, tap);
  const bytes = Buffer.from(script);
  const chunks = chunk
    ? [...Array(Math.ceil(bytes.length / chunk)).keys()].map((i) =>
        bytes.subarray(i * chunk, (i + 1) * chunk),
      )
    : [bytes];
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(stream)) out.push(c as Buffer);
  return [Buffer.concat(out).toString('utf8'), stream];
}

const copy = (table: string, columns: string, rows: (string | null)[][]): string =>
  [`COPY ${table} (${columns}) FROM stdin;`, ...rows.map(encodeCopyLine), '\\.', ''].join('\n');

/** The data lines of one table in a script, decoded back to fields. */
function dataOf(script: string, table: string): string[] {
  const lines = script.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`COPY ${table} `));
  const end = lines.indexOf('\\.', start);
  return lines.slice(start + 1, end);
}

describe('comparing COPY text', () => {
  test.each([
    ['10', '9', 1],
    ['1.50', '1.5', 0],
    ['-0', '0', 0],
    ['-2', '-10', 1],
    ['0.001', '.0010', 0],
    ['9007199254740993', '9007199254740992', 1],
    ['-9007199254740993', '-9007199254740992', -1],
    ['1e3', '1000', 0],
    ['2.5e-1', '0.3', -1],
    ['2026-01-01', '2026-01-01', 0],
    ['2026-01-01 00:00:00', '2026-01-01', 1],
    ['2025-12-31 23:59:59.999999+00', '2026-01-01', -1],
    ['2026-01-01T10:00', '2026-01-01 09:59:59', 1],
    ['2026-01-01 10:00:00+01', '2026-01-01 10:00:00+00', 1],
    ['abc', 'abd', -1],
    ['10', 'abc', -1],
    ['Z', 'a', -1],
    ['é', 'z', 1],
    // By code point: U+1F600 sorts after U+FFFD, although its first UTF-16 unit does not.
    ['\u{1F600}', '\uFFFD', 1],
    ['a\tb', 'a\\tb', -1],
    ['ab', 'a', 1],
    ['\uE000', '\u{10000}', -1],
    ['\u{1F600}x', '\u{1F601}', -1],
  ])('%j against %j: %d', (a, b, sign) => {
    expect(compareCopyText(a, b)).toBe(sign);
    expect(compareCopyText(b, a)).toBe(-sign || 0);
  });
});

test('text compares as UTF-8 bytes do (code point order), for random strings', () => {
  const pick = [0x41, 0x7a, 0xe9, 0xd7ff, 0xe000, 0xfffd, 0x10000, 0x1f600, 0x10ffff];
  const random = () =>
    String.fromCodePoint(
      ...Array.from(
        { length: 1 + Math.floor(Math.random() * 3) },
        () => pick[Math.floor(Math.random() * pick.length)] as number,
      ),
    );
  for (let i = 0; i < 5000; i++) {
    const [a, b] = [`x${random()}`, `x${random()}`];
    expect([a, b, compareCopyText(a, b)]).toEqual([
      a,
      b,
      Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))),
    ]);
  }
});

describe('row filter rules', () => {
  test('parse keep, sample and their combination, and say what they keep', () => {
    const rules = parse(
      [
        'tables:',
        '  public.events: { keep: { column: created_at, from: "2026-01-01", until: 2026-02-01 } }',
        '  public.users:',
        '    keep:',
        '      - { column: status, in: [active, "on hold"] }',
        '      - { column: deleted_at, null: true }',
        '    sample: 10%',
        '    by: id',
        '  \'"My S"."t.x"\': { keep: { column: \'"e-mail"\', matches: "@corp\\\\.test$" } }',
        '  public.audit: truncate',
      ].join('\n'),
    );
    expect(rules.filters.get(tableKey('public', 'events'))?.describe).toBe(
      'keep created_at from 2026-01-01 until 2026-02-01',
    );
    expect(rules.filters.get(tableKey('public', 'users'))?.describe).toBe(
      'keep status in [active, on hold]; keep deleted_at null true; sample 10% by id',
    );
    expect(rules.filters.get(tableKey('My S', 't.x'))?.conditions.map((c) => c.column)).toEqual(['e-mail']);
    expect(rules.truncated.has(tableKey('public', 'audit'))).toBe(true);
    const json = parse(
      '{"tables": {"public.o": {"sample": "2.5%", "by": "user_id", "keep": [{"column": "n", "in": [1, "x"]}]}}}',
    );
    expect(json.filters.get(tableKey('public', 'o'))?.describe).toBe(
      'keep n in [1, x]; sample 2.5% by user_id',
    );
  });

  const bad: [string, string, RegExp][] = [
    [
      'an unknown table key',
      'tables:\n  public.e: { where: x }\n',
      /r\.yml, line 2 \(public\.e\): unknown key "where" in a table rule; expected keep, sample, by/,
    ],
    [
      'an unknown keep key',
      'tables:\n  public.e:\n    keep:\n      column: a\n      after: 1\n',
      /line 5 \(public\.e\): unknown key "after" in a keep condition/,
    ],
    [
      'a bare number as percent',
      'tables:\n  public.u: { sample: 10, by: id }\n',
      /line 2 \(public\.u\): sample must be a percentage more than 0% and at most 100%, written with %, e\.g\. 10% \(not "10"\)/,
    ],
    ['0%', 'tables:\n  public.u: { sample: 0%, by: id }\n', /line 2 .*sample must be a percentage/],
    [
      '150%',
      'tables:\n  public.u:\n    by: id\n    sample: 150%\n',
      /line 4 .*sample must be a percentage.*"150%"/,
    ],
    ['ten%', 'tables:\n  public.u: { sample: ten%, by: id }\n', /sample must be a percentage/],
    [
      'a regex that does not compile',
      'tables:\n  public.u:\n    keep:\n      column: a\n      matches: "(["\n',
      /line 5 \(public\.u\): the regex of matches does not compile/,
    ],
    ['a sample without by', 'tables:\n  public.u: { sample: 5% }\n', /line 2 .*sample needs by/],
    [
      'by without sample',
      'tables:\n  public.u: { by: id }\n',
      /line 2 .*by names the column a sample is decided on/,
    ],
    [
      'keep without column',
      'tables:\n  public.u: { keep: { from: 1 } }\n',
      /line 2 .*a keep condition needs column/,
    ],
    [
      'keep without a condition',
      'tables:\n  public.u: { keep: { column: a } }\n',
      /a keep condition needs one of from, until, equals, in, matches, null/,
    ],
    [
      'null that is not a boolean',
      'tables:\n  public.u: { keep: { column: a, null: maybe } }\n',
      /null must be true \(keep NULLs only\) or false/,
    ],
    [
      'null: true with a comparison',
      'tables:\n  public.u: { keep: { column: a, from: 1, null: true } }\n',
      /null: true keeps only NULLs/,
    ],
    [
      'an empty in',
      'tables:\n  public.u: { keep: { column: a, in: [] } }\n',
      /in needs a list of at least one value/,
    ],
    [
      'a NULL bound',
      'tables:\n  public.u: { keep: { column: a, equals: null } }\n',
      /equals must be a single value .*use null: true for NULL/,
    ],
    ['an empty rule', 'tables:\n  public.u: {}\n', /line 2 .*expected `truncate`, or a row filter/],
    [
      'an unknown scalar',
      'tables:\n  public.u: drop\n',
      /line 2 \(public\.u\): a table rule is `truncate` .* or a row filter/,
    ],
    [
      'two rules for one table',
      'tables:\n  public.u: truncate\n  \'"public".u\': { sample: 1%, by: id }\n',
      /line 3 \("public"\.u\): a second rule for the same table/,
    ],
  ];
  test.each(bad)('refuses %s, naming file, line and rule', (_, text, message) => {
    expect(() => parse(text)).toThrow(message);
  });

  test('refuses a sample without a key, and needs none for keep', () => {
    expect(() =>
      parseMaskingRules('tables:\n\n  public.u: { sample: 10%, by: id }\n', 'r.yml', undefined),
    ).toThrow(
      /r\.yml, line 3 \(public\.u\): a sample needs a secret key in the environment variable PGFERRY_MASKING_KEY/,
    );
    expect(
      parseMaskingRules('tables:\n  public.u: { keep: { column: a, null: false } }\n', 'r.yml', undefined)
        .filters.size,
    ).toBe(1);
  });

  test('refuses a filter column the archive does not have, before anything runs', () => {
    const rules = parse(
      'tables:\n  public.u: { keep: { column: a, from: 1 } }\n  public.o: { sample: 1%, by: user_id }\n',
    );
    const tables = new Map([
      [tableKey('public', 'u'), ['a', 'b']],
      [tableKey('public', 'o'), ['id', 'user']],
    ]);
    expect(() => checkRulesAgainst(rules, tables)).toThrow(
      /r\.yml, line 3 \(public\.o\): the table public\.o has no column user_id \(it has id, user\)/,
    );
    expect(() => checkRulesAgainst(rules, new Map())).toThrow(
      /line 2 \(public\.u\): the table public\.u is not in the archive/,
    );
    const truncating = parse('tables:\n  public.gone: truncate\n');
    expect(() => checkRulesAgainst(truncating, new Map())).toThrow(
      /r\.yml, line 2 \(public\.gone\): this table is not in the archive/,
    );
  });
});

describe('row filters in the stream', () => {
  test('keep reads decoded source values: tabs, backslashes, unicode, NULL and the text \\N', async () => {
    const rules = parse(
      [
        'tables:',
        '  public.t:',
        '    keep:',
        '      - { column: v, in: ["a\\tb", "back\\\\slash", "\\\\N", "ünï 😀"] }',
      ].join('\n'),
    );
    const rows = [
      ['1', 'a\tb'],
      ['2', 'a\\tb'],
      ['3', 'back\\slash'],
      ['4', null],
      ['5', '\\N'],
      ['6', 'ünï 😀'],
      ['7', 'ünï'],
    ];
    const script = "SET client_encoding = 'UTF8';\n" + copy('public.t', 'id, v', rows);
    const [whole, stream] = await run(rules, script);
    expect(dataOf(whole, 'public.t')).toEqual(
      [
        ['1', 'a\tb'],
        ['3', 'back\\slash'],
        ['5', '\\N'],
        ['6', 'ünï 😀'],
      ].map(encodeCopyLine),
    );
    expect(stream.rows.get('public.t')).toStrictEqual({
      masked: 0,
      truncated: 0,
      kept: 4,
      filtered: 3,
      filter: 'keep v in ["a\\tb", back\\slash, \\N, ünï 😀]',
    });
    // Kept rows of a table without column rules pass byte for byte, whatever the chunking.
    for (const size of [1, 7, 64]) expect((await run(rules, script, undefined, size))[0]).toBe(whole);
  });

  test('NULL: left out by every comparison and by a sample, kept only by null: true', async () => {
    const rows = [
      ['1', null],
      ['2', '2026-01-05'],
      ['3', '2025-12-31 23:59:59'],
      ['4', '2026-02-01'],
      ['5', '2026-01-31 23:59:59.5+01'],
    ];
    const kept = async (rule: string) => {
      const [out] = await run(parse(`tables:\n  public.e: ${rule}\n`), copy('public.e', 'id, at', rows));
      return dataOf(out, 'public.e').map((l) => l.split('\t')[0]);
    };
    expect(await kept('{ keep: { column: at, from: "2026-01-01", until: "2026-02-01" } }')).toEqual([
      '2',
      '5',
    ]);
    expect(await kept('{ keep: { column: at, until: 2026-01-01 } }')).toEqual(['3']);
    expect(await kept('{ keep: { column: at, matches: "^2026" } }')).toEqual(['2', '4', '5']);
    expect(await kept('{ keep: { column: at, null: true } }')).toEqual(['1']);
    expect(await kept('{ keep: { column: at, null: false } }')).toEqual(['2', '3', '4', '5']);
    expect(await kept('{ keep: { column: at, equals: "2026-02-01" } }')).toEqual(['4']);
    expect(await kept('{ sample: 100%, by: at }')).toEqual(['2', '3', '4', '5']);
    // Both conditions of a list must hold.
    expect(
      await kept('{ keep: [{ column: at, from: "2026-01-01" }, { column: id, in: [1, 4, 5] }] }'),
    ).toEqual(['4', '5']);
  });

  test('numbers compare as numbers, and a bound keeps the text it was written with', async () => {
    const rows = [['9'], ['10'], ['007'], ['1.50'], ['-3'], ['12345678901234567890']];
    const kept = async (rule: string) => {
      const [out] = await run(parse(`tables:\n  public.n: { keep: ${rule} }\n`), copy('public.n', 'n', rows));
      return dataOf(out, 'public.n');
    };
    expect(await kept('{ column: n, from: 9.5 }')).toEqual(['10', '12345678901234567890']);
    expect(await kept('{ column: n, equals: 7 }')).toEqual(['007']);
    expect(await kept('{ column: n, equals: 1.5 }')).toEqual(['1.50']);
    expect(await kept('{ column: n, until: 0 }')).toEqual(['-3']);
    expect(await kept('{ column: n, from: 12345678901234567891 }')).toEqual([]);
  });

  test('a sample keeps exactly the children of the kept parents, per key, and about its share', async () => {
    const rules = parse(
      'tables:\n  public.users: { sample: 10%, by: id }\n  public.orders: { sample: 10%, by: user_id }\n',
    );
    const users = [...Array(5000).keys()].map((i) => [String(i + 1), `u${i}`]);
    const orders: (string | null)[][] = [...Array(15000).keys()].map((i) => [
      String(i + 1),
      String((i % 5000) + 1),
    ]);
    orders.push(['15001', null]);
    const script = copy('public.users', 'id, name', users) + copy('public.orders', 'id, user_id', orders);
    const [out, stream] = await run(rules, script);
    const keptUsers = new Set(dataOf(out, 'public.users').map((l) => l.split('\t')[0]));
    const keptOrders = dataOf(out, 'public.orders').map((l) => l.split('\t'));
    expect(keptUsers.size).toBeGreaterThan(400);
    expect(keptUsers.size).toBeLessThan(600);
    // Exactly: every order of a kept user, no other (the NULL one belongs to none).
    const expected = orders.filter(([, u]) => u !== null && keptUsers.has(u as string)).map(([id]) => id);
    expect(keptOrders.map(([id]) => id)).toEqual(expected);
    expect(stream.rows.get('public.orders')).toMatchObject({
      kept: expected.length,
      filtered: 15001 - expected.length,
    });
    // Another key keeps another sample; a smaller share keeps a subset.
    const [other] = await run(
      parse('tables:\n  public.users: { sample: 10%, by: id }\n', 'other-key'),
      script,
    );
    const otherUsers = new Set(dataOf(other, 'public.users').map((l) => l.split('\t')[0]));
    expect([...otherUsers].filter((u) => keptUsers.has(u)).length).toBeLessThan(keptUsers.size / 2);
    const five = sampler(Buffer.from(KEY), 5);
    const ten = sampler(Buffer.from(KEY), 10);
    const fives = users.map(([id]) => id as string).filter((id) => five(id));
    expect(fives.length).toBeGreaterThan(150);
    expect(fives.every((id) => ten(id) && keptUsers.has(id))).toBe(true);
  });

  test('filters read the source value before masking, and the leak check sees only kept rows', async () => {
    const rules = parse(
      [
        'columns:',
        '  public.u.email: email',
        '  public.u.id: { hash: { keep-format: true } }',
        'tables:',
        '  public.u: { keep: { column: email, matches: "@keep\\\\.test$" }, sample: 50%, by: id }',
      ].join('\n'),
    );
    const rows = [...Array(200).keys()].map((i) => [String(i + 1), `p${i}@${i % 2 ? 'keep' : 'drop'}.test`]);
    const tapped: string[] = [];
    const [out, stream] = await run(rules, copy('public.u', 'id, email', rows), (rule, source) => {
      if (rule.column === 'email') tapped.push(source as string);
    });
    const half = sampler(Buffer.from(KEY), 50);
    const expected = rows.filter(([id, email]) => email?.endsWith('@keep.test') && half(id as string));
    const data = dataOf(out, 'public.u');
    expect(data).toHaveLength(expected.length);
    expect(data.every((l) => /^\d+\tu[0-9a-f]{16}@example\.com$/.test(l))).toBe(true);
    expect(data.map((l) => l.split('\t')[0])).not.toContain(expected[0]?.[0]);
    expect(tapped).toEqual(expected.map(([, email]) => email));
    expect(stream.rows.get('public.u')).toStrictEqual({
      masked: expected.length,
      truncated: 0,
      kept: expected.length,
      filtered: 200 - expected.length,
      filter: 'keep email matches @keep\\.test$; sample 50% by id',
    });
    expect(maskingLines({ masked: stream.rows })).toEqual([
      `public.u: ${expected.length} row(s) kept, ${200 - expected.length} left out (keep email matches @keep\\.test$; sample 50% by id), ${expected.length} masked`,
    ]);
  });

  test('refuses data without the filter column, or with the wrong field count', async () => {
    const rules = parse('tables:\n  public.o: { sample: 10%, by: user_id }\n');
    await expect(run(rules, copy('public.o', 'id, "user"', [['1', '2']]))).rejects.toThrow(
      /masking-rules: r\.yml, line 2 \(public\.o\): the data of public\.o has no column user_id \(it has id, user\)/,
    );
    await expect(run(rules, 'COPY public.o (id, user_id) FROM stdin;\n1\t2\t3\n\\.\n')).rejects.toThrow(
      /a row of public\.o has 3 fields, its COPY names 2 columns/,
    );
    await expect(
      run(rules, "SET client_encoding = 'EUC_JP';\n" + copy('public.o', 'id, user_id', [])),
    ).rejects.toThrow(/encoding is EUC_JP/);
  });
});

test("the README's rules example is a valid rules file", () => {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Masking rules: keep only some rows'));
  const block = /```text\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const rules = parseMaskingRules(block, 'README.md', KEY);
  expect([...rules.filters.values()].map((f) => f.describe)).toEqual([
    'keep created_at from 2026-01-01 until 2026-07-01',
    'sample 10% by id',
    'sample 10% by user_id',
  ]);
  expect(rules.truncated.size).toBe(1);
});
