import { Readable } from 'node:stream';
import { MaskingStream } from '../../core/masking/copy-stream.js';
import { parseMaskingRules } from '../../core/masking/rules.js';

const rules = () =>
  parseMaskingRules(
    'columns:\n  public.u.email: { constant: "x\\ty" }\n  public.u.id: { hash: { keep-format: true } }\ntables:\n  public.log: truncate\n',
    'r.yml',
    'k',
  );

const SCRIPT = [
  "SET client_encoding = 'UTF8';",
  "CREATE FUNCTION f() RETURNS text AS $$ SELECT 'COPY public.u (email) FROM stdin;' $$ LANGUAGE sql;",
  'COPY public.other (a) FROM stdin;',
  'COPY public.u (id, email) FROM stdin;',
  '\\.',
  'COPY public.u (id, email, note) FROM stdin;',
  '1\treal@corp.test\tnote\\\\with\\ttab',
  '2\t\\N\t\\N',
  '\\.',
  'COPY public.log (at) FROM stdin;',
  'secret log line',
  '\\.',
  '',
].join('\n');

async function run(chunks: Buffer[], stream = new MaskingStream(rules())): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(stream)) out.push(c as Buffer);
  return Buffer.concat(out).toString('utf8');
}

test('rewrites only ruled columns of ruled tables, whatever the chunking', async () => {
  const whole = await run([Buffer.from(SCRIPT)]);
  const lines = whole.split('\n');
  // The data of public.other (a line that looks like a COPY header) is passed as data.
  expect(lines[3]).toBe('COPY public.u (id, email) FROM stdin;');
  expect(lines[4]).toBe('\\.');
  expect(lines[6]).toMatch(/^\d+\tx\\ty\tnote\\\\with\\ttab$/);
  expect(lines[6]?.split('\t')[0]).not.toBe('1');
  expect(lines[7]).toMatch(/^\d+\t\\N\t\\N$/);
  expect(whole).not.toContain('real@corp.test');
  expect(whole).not.toContain('secret log line');
  const bytes = Buffer.from(SCRIPT);
  const byByte = [...bytes].map((b) => Buffer.from([b]));
  expect(await run(byByte)).toBe(whole);
});

test('refuses a script that ends inside ruled data, and a row with the wrong field count', async () => {
  await expect(run([Buffer.from('COPY public.u (id, email) FROM stdin;\n1\ta\n')])).rejects.toThrow(
    /ends inside the data of public\.u/,
  );
  await expect(run([Buffer.from('COPY public.u (id, email) FROM stdin;\n1\n\\.\n')])).rejects.toThrow(
    /a row of public\.u has 1 fields, its COPY names 2 columns/,
  );
});

test('refuses to mask a dump in an encoding it does not read', async () => {
  const script = "SET client_encoding = 'EUC_JP';\nCOPY public.u (id, email) FROM stdin;\n1\ta\n\\.\n";
  await expect(run([Buffer.from(script)])).rejects.toThrow(/encoding is EUC_JP/);
});

test('a row with too many fields is refused too; unruled fields pass byte for byte, invalid UTF-8 included', async () => {
  await expect(run([Buffer.from('COPY public.u (id, email) FROM stdin;\n1\ta\tb\n\\.\n')])).rejects.toThrow(
    /a row of public\.u has 3 fields, its COPY names 2 columns/,
  );
  // A byte that is no UTF-8 (0xff) in the unruled column, and a multibyte character beside it.
  const row = Buffer.concat([Buffer.from('7\treal@corp.test\tné '), Buffer.from([0xff]), Buffer.from('\n')]);
  const input = Buffer.concat([
    Buffer.from('COPY public.u (id, email, note) FROM stdin;\n'),
    row,
    Buffer.from('\\.\n'),
  ]);
  const out: Buffer[] = [];
  for await (const c of Readable.from([input]).pipe(new MaskingStream(rules()))) out.push(c as Buffer);
  const line = Buffer.concat(out).subarray(input.indexOf(10) + 1);
  const fields = line.subarray(0, line.indexOf(10));
  const note = fields.subarray(fields.lastIndexOf(9) + 1);
  expect(note).toEqual(Buffer.concat([Buffer.from('né '), Buffer.from([0xff])]));
  expect(fields.subarray(fields.indexOf(9) + 1, fields.lastIndexOf(9)).toString()).toBe('x\\ty');
});
