import { decodeCopyLine, encodeCopyLine, parseCopyHeader } from '../../core/masking/copy-text.js';
import { checkRulesAgainst, parseMaskingRules, tableKey } from '../../core/masking/rules.js';
import { makeTransform, permuteInteger } from '../../core/masking/transformers.js';

const KEY = 'test-key';
const key = Buffer.from(KEY);

describe('COPY text codec', () => {
  test('decodes escapes and NULL, and encodes them back byte for byte', () => {
    const line = 'a\\tb\t\\N\tback\\\\slash\tnew\\nline\\r\t\\b\\f\\v\t';
    const row = decodeCopyLine(line);
    expect(row).toEqual(['a\tb', null, 'back\\slash', 'new\nline\r', '\b\f\v', '']);
    expect(encodeCopyLine(row)).toBe(line);
  });
  test('reads octal and hex escapes as the server does', () => {
    expect(decodeCopyLine('\\101\\x42\\q')).toEqual(['ABq']);
  });
  test('a literal "\\N" text is not NULL', () => {
    expect(decodeCopyLine('\\\\N')).toEqual(['\\N']);
    expect(encodeCopyLine(['\\N'])).toBe('\\\\N');
  });
  test('parses hostile COPY headers', () => {
    expect(parseCopyHeader('COPY "my ""s""".t (id, "e-mail", "Ünï", "select") FROM stdin;')).toEqual({
      schema: 'my "s"',
      table: 't',
      columns: ['id', 'e-mail', 'Ünï', 'select'],
    });
    expect(parseCopyHeader('COPY public.users (id, "a, b") FROM stdin;')?.columns).toEqual(['id', 'a, b']);
    expect(parseCopyHeader('SELECT 1;')).toBeUndefined();
  });
});

describe('transformers', () => {
  const t = (spec: Parameters<typeof makeTransform>[0]) => makeTransform(spec, key);
  test('are deterministic and keyed', () => {
    const email = t({ name: 'email' });
    expect(email('ann@corp.test')).toBe(email('ann@corp.test'));
    expect(email('ann@corp.test')).not.toBe(email('bob@corp.test'));
    expect(makeTransform({ name: 'email' }, Buffer.from('other'))('ann@corp.test')).not.toBe(
      email('ann@corp.test'),
    );
    expect(email('ann@corp.test')).toMatch(/^u[0-9a-f]{16}@example\.com$/);
  });
  test('keep NULL as NULL, null makes NULL', () => {
    expect(t({ name: 'email' })(null)).toBeNull();
    expect(t({ name: 'null' })('x')).toBeNull();
    expect(t({ name: 'keep' })('x')).toBe('x');
    expect(t({ name: 'constant', value: 'redacted' })('x')).toBe('redacted');
  });
  test('phone and hash keep-format keep the shape', () => {
    const phone = t({ name: 'phone' })('+49 (30) 123-4567') as string;
    expect(phone).toMatch(/^\+\d\d \(\d\d\) \d{3}-\d{4}$/);
    expect(phone).not.toBe('+49 (30) 123-4567');
    expect(t({ name: 'hash', keepFormat: true })('Ab-12')).toMatch(/^[A-Z][a-z]-\d\d$/);
    expect(t({ name: 'hash', length: 10 })('x')).toMatch(/^[0-9a-f]{10}$/);
  });
  test('integer ids are permuted: unique, in range, sign kept', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const p = permuteInteger(key, String(i));
      expect(Number(p)).toBeLessThan(2 ** 31);
      seen.add(p);
    }
    expect(seen.size).toBe(5000);
    expect(permuteInteger(key, '-7')).toMatch(/^-\d+$/);
    expect(BigInt(permuteInteger(key, '9000000000'))).toBeLessThan(2n ** 62n);
  });
  test('uuid, name, shift, range, regex', () => {
    expect(t({ name: 'uuid' })('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toBe(
      t({ name: 'uuid' })('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
    );
    expect(t({ name: 'uuid' })('x')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(t({ name: 'name' })('Jane Q. Doe')).toMatch(/^\S+ \S+$/);
    const shifted = t({ name: 'shift', by: 30 })('2020-02-15 10:00:00+00') as string;
    expect(shifted.slice(10)).toBe(' 10:00:00+00');
    expect(Math.abs(Date.parse(shifted.slice(0, 10)) - Date.parse('2020-02-15')) / 864e5).toBeLessThanOrEqual(
      30,
    );
    expect(Math.abs(Number(t({ name: 'shift', by: 5 })('100')) - 100)).toBeLessThanOrEqual(5);
    const r = Number(t({ name: 'range', min: '10', max: '20' })('999'));
    expect(r >= 10 && r <= 20 && Number.isInteger(r)).toBe(true);
    expect(t({ name: 'range', min: '2000-01-01', max: '2000-01-31' })('1990-05-05')).toMatch(
      /^2000-01-\d\d$/,
    );
    expect(t({ name: 'regex', pattern: /\d/g, replace: '#' })('a1b22')).toBe('a#b##');
  });
});

describe('rules file', () => {
  test('the smallest file works, YAML and JSON', () => {
    const yml =
      'columns: { public.users.email: email, public.users.full_name: name, public.users.phone: phone }';
    const rules = parseMaskingRules(yml, 'r.yml', KEY);
    expect(rules.tables.get(tableKey('public', 'users'))?.map((r) => r.column)).toEqual([
      'email',
      'full_name',
      'phone',
    ]);
    const json = parseMaskingRules(
      '{"columns": {"s.t.c": {"constant": "x"}}, "tables": {"s.log": "truncate"}}',
      'r.json',
      undefined,
    );
    expect(json.truncated.has(tableKey('s', 'log'))).toBe(true);
  });
  test('quoted identifiers', () => {
    const rules = parseMaskingRules('columns:\n  \'"My S"."t.x"."e-mail"\': email\n', 'r.yml', KEY);
    expect(rules.tables.get(tableKey('My S', 't.x'))?.[0]?.column).toBe('e-mail');
  });
  const bad: [string, string, RegExp][] = [
    [
      'unknown transformer',
      'columns:\n  public.u.a: email\n  public.u.b: scramble\n',
      /r\.yml, line 3 \(public\.u\.b\): unknown transformer "scramble"/,
    ],
    [
      'bad regex',
      'columns:\n  public.u.a:\n    regex: { pattern: "(", replace: x }\n',
      /line 2 \(public\.u\.a\): the regex does not compile/,
    ],
    [
      'missing key',
      'columns:\n\n  public.u.a: { hash: { length: 8 } }\n',
      /line 3 \(public\.u\.a\): the hash transformer needs a secret key in the environment variable PGFERRY_MASKING_KEY/,
    ],
    [
      'two-part column name',
      'columns:\n  users.email: email\n',
      /line 2 \(users\.email\): expected schema\.table\.column/,
    ],
    ['bad option', 'columns:\n  a.b.c: { shift: { by: -1 } }\n', /line 2 \(a\.b\.c\): by must be a number/],
    [
      'unknown option',
      'columns:\n  a.b.c: { hash: { colour: 1 } }\n',
      /line 2 \(a\.b\.c\): hash takes keep-format, length, not colour/,
    ],
    [
      'bad table rule',
      'tables:\n  a.b: { where: x }\n',
      /line 2 \(a\.b\): unknown key "where" in a table rule; expected keep, sample, by/,
    ],
    ['unknown section', 'colums:\n  a.b.c: email\n', /line 1 \(colums\): unknown section/],
    ['broken YAML', 'columns:\n  a.b.c: [email\n', /r\.yml, line \d: not valid YAML or JSON/],
    [
      'duplicate',
      'columns:\n  a.b.c: email\n  a.b.c: name\n',
      /line 3: not valid YAML or JSON: Map keys must be unique/,
    ],
  ];
  test.each(bad)('refuses %s, naming file, line and rule', (_, text, message) => {
    expect(() => parseMaskingRules(text, 'r.yml', text.includes('hash: { length') ? undefined : KEY)).toThrow(
      message,
    );
  });
  test('a column not in the archive is refused with its line', () => {
    const rules = parseMaskingRules(
      'columns:\n  public.users.email: email\n  public.users.mail: email\n',
      'r.yml',
      KEY,
    );
    const archive = new Map([[tableKey('public', 'users'), ['id', 'email']]]);
    expect(() => checkRulesAgainst(rules, archive)).toThrow(
      /r\.yml, line 3 \(public\.users\.mail\): the table public\.users has no column mail/,
    );
    expect(() => checkRulesAgainst(rules, new Map())).toThrow(/line 2 .*not in the archive/);
  });
});
