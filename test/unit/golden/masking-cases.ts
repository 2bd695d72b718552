import type { TransformerSpec } from '../../../core/masking/transformers.js';

/**
 * The inputs of the masking golden test (masking-golden.test.ts): every transformer, under one
 * fixed key, over hostile values. The expected outputs (masking-golden.json) were computed with
 * the code before issue 18's speed-ups; masked values must never change, or staging databases
 * seeded earlier stop matching.
 */
export const GOLDEN_KEY = 'golden-key ü \t 🐘';

export const GOLDEN_SPECS: Record<string, TransformerSpec> = {
  null: { name: 'null' },
  keep: { name: 'keep' },
  constant: { name: 'constant', value: 'x\ty' },
  hash: { name: 'hash' },
  'hash length 8': { name: 'hash', length: 8 },
  'hash length 64': { name: 'hash', length: 64 },
  'hash keep-format': { name: 'hash', keepFormat: true },
  email: { name: 'email' },
  name: { name: 'name' },
  phone: { name: 'phone' },
  uuid: { name: 'uuid' },
  'shift by 10': { name: 'shift', by: 10 },
  'shift by 0': { name: 'shift', by: 0 },
  'range int': { name: 'range', min: '-5', max: '1000' },
  'range decimal': { name: 'range', min: '0.5', max: '99.5' },
  'range date': { name: 'range', min: '2020-01-01', max: '2024-12-31' },
  regex: { name: 'regex', pattern: /[aeiou]/g, replace: '*' },
};

const long = 'The quick brown fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMNOP abcdefghij';

export const GOLDEN_VALUES: (string | null)[] = [
  null,
  '',
  ' ',
  'a',
  'real@corp.test',
  'Jane Q. Public',
  '  padded name  ',
  'O\'Brien "quoted"',
  'tab\there\nnewline\\backslash\r\b\f\v',
  '\\N',
  'Zoë 日本語 🐘 Ω',
  'x'.repeat(63),
  'é'.repeat(40),
  long,
  long + long + long,
  '0',
  '1',
  '7',
  '-7',
  '-0',
  '000123',
  '-000123',
  '2147483646',
  '2147483647',
  '2147483648',
  '-2147483648',
  '4294967296',
  '999999999999999999',
  '-999999999999999999',
  '1000000000000000000',
  '12.50',
  '-3.14159',
  '1e10',
  'NaN',
  '2024-02-29',
  '2024-02-29 23:59:59.123+02',
  '1999-12-31T00:00:00Z',
  '0001-01-01',
  'A0E9C6B6-2F3E-4C3A-9E1B-1234567890AB',
  'a0e9c6b6-2f3e-4c3a-9e1b-1234567890ab',
  '+1 (555) 010-9999',
  '١٢٣',
  'ABCxyz-123_Ω',
];

/**
 * A script as pg_restore -f - writes it (unruled fields escaped as pg_dump escapes them; ruled
 * fields with any escape the server reads), for the MaskingStream golden (copy line decode/encode). */
export const GOLDEN_RULES =
  'columns:\n' +
  '  public.u.email: email\n' +
  '  public.u.id: { hash: { keep-format: true } }\n' +
  '  \'"My Schema"."t é".note\': { hash: { length: 12 } }\n' +
  'tables:\n  public.log: truncate\n';

export const GOLDEN_SCRIPT = [
  "SET client_encoding = 'UTF8';",
  'COPY public.u (id, email, note) FROM stdin;',
  '1\treal@corp.test\tnote\\\\with\\ttab',
  '2\t\\N\t\\N',
  '-42\tZo\\303\\253@x.test\ta\\\\N\\rb',
  '2147483648\tback\\\\slash\\nnl@x\t日本',
  '007\t\ttrailing empty',
  '\\.',
  'COPY "My Schema"."t é" (note, other) FROM stdin;',
  'secret\\tvalue\tkept \\\\ bytes \\b ü',
  '\\N\t\\N',
  '\\.',
  'COPY public.log (at) FROM stdin;',
  'secret log line',
  '\\.',
  '',
].join('\n');
