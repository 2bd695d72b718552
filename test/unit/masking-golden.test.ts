import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { MaskingStream } from '../../core/masking/copy-stream.js';
import { parseMaskingRules } from '../../core/masking/rules.js';
import { makeTransform } from '../../core/masking/transformers.js';
import {
  GOLDEN_KEY,
  GOLDEN_RULES,
  GOLDEN_SCRIPT,
  GOLDEN_SPECS,
  GOLDEN_VALUES,
} from './golden/masking-cases.js';

// Computed once with the code before issue 18's speed-ups: masked values are a contract.
const golden = JSON.parse(readFileSync(new URL('./golden/masking-golden.json', import.meta.url), 'utf8')) as {
  transforms: Record<string, (string | null)[]>;
  script: string;
};
const key = Buffer.from(GOLDEN_KEY, 'utf8');

test('the golden file covers every spec and value', () => {
  expect(Object.keys(golden.transforms).sort()).toEqual(Object.keys(GOLDEN_SPECS).sort());
  for (const outputs of Object.values(golden.transforms)) expect(outputs).toHaveLength(GOLDEN_VALUES.length);
});

test.each(Object.keys(GOLDEN_SPECS))('transformer %s gives the golden outputs', (name) => {
  const transform = makeTransform(GOLDEN_SPECS[name]!, key);
  // Twice over, so a memo or cached state gives the same answer as a first call.
  for (let pass = 0; pass < 2; pass++)
    GOLDEN_VALUES.forEach((value, i) => {
      expect([name, value, transform(value)]).toEqual([name, value, golden.transforms[name]![i]]);
    });
});

test('a masked script is the golden script, whatever the chunking', async () => {
  const run = async (chunks: Buffer[]): Promise<string> => {
    const out: Buffer[] = [];
    const stream = new MaskingStream(parseMaskingRules(GOLDEN_RULES, 'r.yml', GOLDEN_KEY));
    for await (const c of Readable.from(chunks).pipe(stream)) out.push(c as Buffer);
    return Buffer.concat(out).toString('utf8');
  };
  expect(await run([Buffer.from(GOLDEN_SCRIPT)])).toBe(golden.script);
  expect(await run([...Buffer.from(GOLDEN_SCRIPT)].map((b) => Buffer.from([b])))).toBe(golden.script);
});

test.each(['email', 'hash keep-format', 'name'])(
  'transformer %s gives the same outputs whether its memo fills, hits or turns itself off',
  (name) => {
    // Distinct values past the memo's size (it turns itself off), then values that repeat.
    const values = [
      ...Array.from({ length: 40_000 }, (_, i) => String(i * 7919)),
      ...Array.from({ length: 20_000 }, (_, i) => `user${i % 500}@corp.test`),
    ];
    const spec = GOLDEN_SPECS[name]!;
    const forward = makeTransform(spec, key);
    const backward = makeTransform(spec, key);
    const out = values.map((v) => forward(v));
    // The oracle: a new transform per value never answers from its memo.
    expect(out).toEqual(values.map((v) => makeTransform(spec, key)(v)));
    // Backwards, the repeats come first and keep the memo on: the same outputs still.
    expect([...values].reverse().map((v) => backward(v))).toEqual([...out].reverse());
  },
);
