import { createHmac } from 'node:crypto';
import { PrefixedHmac } from './hmac-sha256.js';

/**
 * The masking transformers. Every one is a pure function of (key, value, options): the same input
 * gives the same output in every column, run and job, so foreign keys on masked columns still
 * match. Randomness comes only from HMAC-SHA256 under the masking key; NULL stays NULL except
 * where a transformer is asked to produce one.
 */
export type Transform = (value: string | null) => string | null;

export const TRANSFORMER_NAMES = [
  'null',
  'constant',
  'hash',
  'email',
  'name',
  'phone',
  'uuid',
  'shift',
  'range',
  'regex',
  'keep',
] as const;
export type TransformerName = (typeof TRANSFORMER_NAMES)[number];

export interface TransformerSpec {
  name: TransformerName;
  /** `constant`: the value. */
  value?: string | null;
  /** `hash`: keep the length and the class of each character (digit, lower, upper). */
  keepFormat?: boolean;
  /** `hash`: the length of the hex output when the format is not kept. */
  length?: number;
  /** `shift`: the largest offset, in units (numbers) or days (dates). */
  by?: number;
  /** `range`: bounds, numbers or dates `YYYY-MM-DD`. */
  min?: string;
  max?: string;
  /** `regex`: the pattern, its flags and the replacement. */
  pattern?: RegExp;
  replace?: string;
}

/** Whether the transformer needs the key (all but the fixed ones). */
export function needsKey(name: TransformerName): boolean {
  return !['null', 'constant', 'regex', 'keep'].includes(name);
}

/** A keyed digest of a value, separated by purpose so that e.g. `email` and `hash` differ. */
export function keyedDigest(key: Buffer, purpose: string, value: string): Buffer {
  return digester(key, purpose).digest(value);
}

/** By key, by purpose: the HMAC with its pad states computed, made once per rule and round. */
const digesters = new WeakMap<Buffer, Map<string, PrefixedHmac>>();

/** The HMAC of `purpose || 0 || value` under key, as keyedDigest computes it. */
export function digester(key: Buffer, purpose: string): PrefixedHmac {
  let byPurpose = digesters.get(key);
  if (!byPurpose) digesters.set(key, (byPurpose = new Map()));
  let hmac = byPurpose.get(purpose);
  if (!hmac) byPurpose.set(purpose, (hmac = new PrefixedHmac(key, `${purpose}\0`)));
  return hmac;
}

const FIRST = [
  'Alex',
  'Maria',
  'Sam',
  'Noor',
  'Jonas',
  'Lea',
  'Ravi',
  'Yuki',
  'Omar',
  'Ines',
  'Tariq',
  'Ada',
];
const LAST = [
  'Ward',
  'Novak',
  'Silva',
  'Okafor',
  'Berg',
  'Tanaka',
  'Moreau',
  'Kaya',
  'Reyes',
  'Lund',
  'Quinn',
];

/** The longest value the memo keeps, and how many it keeps before starting over. */
const MEMO_VALUE_LENGTH = 64;
const MEMO_ENTRIES = 16_384;

/**
 * A keyed transform behind a bounded memo of short values: foreign-key and low-cardinality
 * columns repeat values, and a transform is a pure function, so a hit gives the same output. A
 * column whose values hardly repeat turns its memo off.
 */
export function makeTransform(spec: TransformerSpec, key: Buffer | undefined): Transform {
  const transform = makeUnmemoized(spec, key);
  if (!needsKey(spec.name)) return transform;
  const memo = new Map<string, string | null>();
  let [lookups, hits, memoizing] = [0, 0, true];
  return (v) => {
    if (!memoizing || v === null || v.length > MEMO_VALUE_LENGTH) return transform(v);
    lookups++;
    const hit = memo.get(v);
    if (hit !== undefined) {
      hits++;
      return hit;
    }
    const output = transform(v);
    if (memo.size >= MEMO_ENTRIES) {
      memo.clear();
      // A full memo that answered under one lookup in ten: the column's values are (nearly)
      // distinct, and looking them up costs more than transforming them.
      if (hits * 10 < lookups) memoizing = false;
      [lookups, hits] = [0, 0];
    }
    memo.set(v, output);
    return output;
  };
}

function makeUnmemoized(spec: TransformerSpec, key: Buffer | undefined): Transform {
  const k = key ?? Buffer.alloc(0);
  const nonNull =
    (f: (v: string) => string): Transform =>
    (v) =>
      v === null ? null : f(v);
  switch (spec.name) {
    case 'null':
      return () => null;
    case 'keep':
      return (v) => v;
    case 'constant':
      return nonNull(() => spec.value ?? '');
    case 'hash':
      return nonNull((v) => hashValue(k, v, spec));
    case 'email': {
      const hmac = digester(k, 'email');
      // The first 8 bytes of the digest in hex: its first two big-endian words.
      return nonNull((v) => {
        const w = hmac.digestInto(v);
        return `u${hex8(w[0] as number)}${hex8(w[1] as number)}@example.com`;
      });
    }
    case 'name':
      return nonNull((v) => fakeName(k, v));
    case 'phone':
      return nonNull((v) => replaceDigits(keyedDigest(k, 'phone', v), v));
    case 'uuid':
      return nonNull((v) => fakeUuid(keyedDigest(k, 'uuid', v.toLowerCase())));
    case 'shift':
      return nonNull((v) => shift(k, v, spec.by ?? 0));
    case 'range':
      return nonNull((v) => inRange(k, v, spec.min ?? '0', spec.max ?? '0'));
    case 'regex':
      return nonNull((v) => v.replace(spec.pattern as RegExp, spec.replace ?? ''));
  }
}

function hashValue(key: Buffer, value: string, spec: TransformerSpec): string {
  if (spec.keepFormat) {
    if (/^-?\d{1,18}$/.test(value)) return permuteInteger(key, value);
    return keepClasses(keyedDigest(key, 'hash', value), value);
  }
  return keyedDigest(key, 'hash', value)
    .toString('hex')
    .slice(0, spec.length ?? 32);
}

/**
 * Integers are permuted, not hashed: a keyed Feistel permutation with cycle walking maps
 * [0, 2^31) onto itself (larger values onto [0, 2^62)), so masked primary keys stay unique and
 * still fit their column; the sign is kept.
 */
export function permuteInteger(key: Buffer, value: string): string {
  const negative = value.startsWith('-');
  const digits = negative ? value.slice(1) : value;
  // Below 2^31 a Number is exact (and a larger one, rounded, still compares as larger).
  const small = Number(digits) < 2 ** 31;
  const round = roundFunctions(key)[small ? 0 : 1];
  let x: string;
  if (small) {
    // 16-bit halves; cycle walking until the result is below 2^31, i.e. the left half below 2^15.
    let n = Number(digits);
    do n = feistel(round, Math.floor(n / 65536), n % 65536, 65536);
    while (n >= 2 ** 31);
    x = String(n);
  } else {
    // 31-bit halves of a value below 2^62: the result is always below 2^62, one pass.
    const n = BigInt(digits);
    const [left, right] = feistelHalves(round, Number(n >> 31n), Number(n & 0x7fffffffn));
    x = ((BigInt(left) << 31n) | BigInt(right)).toString();
  }
  return (negative ? '-' : '') + x;
}

/** Round `r`'s function of one half: the digest's second word, masked to a half. */
type RoundFunction = (r: number, half: number) => number;

/** By key: the 32-bit permutation's round functions (table-backed) and the 62-bit one's. */
const roundsByKey = new WeakMap<Buffer, [RoundFunction, RoundFunction]>();

/**
 * A round reads the digest's first 8 bytes, masked to a half: its second word suffices. The 32-bit
 * permutation's halves are 16-bit, so each of its 4 × 65,536 round inputs is digested at most once
 * per key and run (a 1 MiB table): a column of many distinct ids then costs lookups, not HMACs.
 */
function roundFunctions(key: Buffer): [RoundFunction, RoundFunction] {
  let made = roundsByKey.get(key);
  if (made) return made;
  const hmacs = (bits: number) => [0, 1, 2, 3].map((r) => digester(key, `feistel${bits}.${r}`));
  const [h32, h62] = [hmacs(32), hmacs(62)];
  const digest = (h: PrefixedHmac[], r: number, half: number): number =>
    h[r]!.digestInto(String(half))[1] as number;
  const table = new Int32Array(4 * 65536).fill(-1);
  const small: RoundFunction = (r, half) => {
    const at = r * 65536 + half;
    let f = table[at] as number;
    if (f < 0) table[at] = f = digest(h32, r, half) & 0xffff;
    return f;
  };
  const large: RoundFunction = (r, half) => digest(h62, r, half) & 0x7fffffff;
  roundsByKey.set(key, (made = [small, large]));
  return made;
}

function feistel(round: RoundFunction, left: number, right: number, base: number): number {
  const [l, r] = feistelHalves(round, left, right);
  return l * base + r;
}

function feistelHalves(round: RoundFunction, left: number, right: number): [number, number] {
  for (let r = 0; r < 4; r++) [left, right] = [right, (left ^ round(r, right)) >>> 0];
  return [left, right];
}

function hex8(word: number): string {
  return (word >>> 0).toString(16).padStart(8, '0');
}

/** Each digit, lower- and upper-case letter replaced by one of its class; the rest kept. */
function keepClasses(digest: Buffer, value: string): string {
  let out = '';
  let i = 0;
  for (const c of value) {
    const b = streamByte(digest, i++);
    if (c >= '0' && c <= '9') out += String(b % 10);
    else if (c >= 'a' && c <= 'z') out += String.fromCharCode(97 + (b % 26));
    else if (c >= 'A' && c <= 'Z') out += String.fromCharCode(65 + (b % 26));
    else out += c;
  }
  return out;
}

/** Byte i of an endless stream derived from a digest (values longer than 32 characters). */
function streamByte(digest: Buffer, i: number): number {
  if (i < digest.length) return digest[i] as number;
  return createHmac('sha256', digest)
    .update(String(Math.floor(i / 32)))
    .digest()[i % 32] as number;
}

function replaceDigits(digest: Buffer, value: string): string {
  let i = 0;
  return value.replace(/\d/g, () => String(streamByte(digest, i++) % 10));
}

function fakeName(key: Buffer, value: string): string {
  const d = keyedDigest(key, 'name', value);
  const first = FIRST[d.readUInt16BE(0) % FIRST.length] as string;
  const last = LAST[d.readUInt16BE(2) % LAST.length] as string;
  return value.trim().includes(' ') ? `${first} ${last}` : first;
}

function fakeUuid(d: Buffer): string {
  const b = Buffer.from(d.subarray(0, 16));
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})/;

/** A number moved by a keyed offset in [-by, by]; a date (or the date of a timestamp) by days. */
function shift(key: Buffer, value: string, by: number): string {
  // Never 0: a value shifted by nothing would be the raw value.
  const step =
    by >= 1 ? (keyedDigest(key, 'shift', value).readUInt32BE() % (2 * Math.floor(by))) - Math.floor(by) : 0;
  const offset = step >= 0 && by >= 1 ? step + 1 : step;
  const date = DATE.exec(value);
  if (date) return addDays(value, offset);
  const n = Number(value);
  if (!Number.isFinite(n)) return value;
  return String(Number.isInteger(n) ? n + offset : Math.round((n + offset) * 100) / 100);
}

function addDays(value: string, days: number): string {
  const d = new Date(`${value.slice(0, 10)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10) + value.slice(10);
}

/** A keyed value between min and max: integers, decimals (2 places) or dates. */
function inRange(key: Buffer, value: string, min: string, max: string): string {
  const u = keyedDigest(key, 'range', value).readUInt32BE() / 2 ** 32;
  if (DATE.test(min)) {
    const from = Date.parse(`${min.slice(0, 10)}T00:00:00Z`);
    const to = Date.parse(`${max.slice(0, 10)}T00:00:00Z`);
    const days = Math.floor(u * ((to - from) / 86_400_000 + 1));
    return addDays(min.slice(0, 10), days) + (DATE.test(value) ? value.slice(10) : '');
  }
  const lo = Number(min);
  const hi = Number(max);
  if (Number.isInteger(lo) && Number.isInteger(hi)) return String(lo + Math.floor(u * (hi - lo + 1)));
  return String(Math.round((lo + u * (hi - lo)) * 100) / 100);
}
