// Issue 18's microbench: masks 100k COPY rows with the bench's rules (email + hash keep-format on
// an integer column, as measureMaskedRestore in restores.ts) in this process, no database, and
// prints µs per masked value. `node scripts/with-node24.mjs scripts/run-ts.mjs scripts/bench/masking-micro.ts`
import { Readable } from 'node:stream';
import { MaskingStream } from '../../core/masking/copy-stream.js';
import { parseMaskingRules } from '../../core/masking/rules.js';
import { makeTransform } from '../../core/masking/transformers.js';

const ROWS = Number(process.argv[2] ?? 100_000);
const RULES =
  'columns:\n  public.orders.email: email\n  public.orders.account_id: { hash: { keep-format: true } }\n';
const key = 'bench-masking-key';

function script(): Buffer {
  const lines = [
    "SET client_encoding = 'UTF8';",
    'COPY public.orders (id, account_id, email, note, total) FROM stdin;',
  ];
  // account_id repeats like a foreign key (5000 accounts); email is mostly distinct.
  for (let i = 0; i < ROWS; i++)
    lines.push(
      `${i}\t${(i * 7919) % 5000}\tuser${i % 60000}@corp.test\tnote for order ${i} \\t tabbed\t${i % 997}.50`,
    );
  lines.push('\\.', '');
  return Buffer.from(lines.join('\n'));
}

async function stream(input: Buffer): Promise<number> {
  const started = process.hrtime.bigint();
  const s = new MaskingStream(parseMaskingRules(RULES, 'bench.yml', key), () => undefined);
  let bytes = 0;
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; at += 64 * 1024) chunks.push(input.subarray(at, at + 64 * 1024));
  for await (const c of Readable.from(chunks).pipe(s)) bytes += (c as Buffer).length;
  if (!bytes) throw new Error('no output');
  return Number(process.hrtime.bigint() - started) / 1e3;
}

function perValue(name: string, spec: Parameters<typeof makeTransform>[0], values: string[]): void {
  const t = makeTransform(spec, Buffer.from(key));
  const started = process.hrtime.bigint();
  for (const v of values) t(v);
  const us = Number(process.hrtime.bigint() - started) / 1e3;
  console.log(`${name}: ${(us / values.length).toFixed(2)} µs/value`);
}

const input = script();
await stream(input); // warm-up
const best = Math.min(await stream(input), await stream(input), await stream(input));
console.log(
  `stream: ${ROWS} rows, ${(best / 1e3).toFixed(0)} ms, ${(best / (ROWS * 2)).toFixed(2)} µs per masked value (best of 3)`,
);
const distinct = Array.from({ length: 50_000 }, (_, i) => String(i * 40_503));
perValue('hash keep-format, distinct integers', { name: 'hash', keepFormat: true }, distinct);
perValue(
  'hash keep-format, 5000 repeating integers',
  { name: 'hash', keepFormat: true },
  distinct.map((_, i) => String(i % 5000)),
);
perValue(
  'email, distinct',
  { name: 'email' },
  distinct.map((v) => `user${v}@corp.test`),
);
