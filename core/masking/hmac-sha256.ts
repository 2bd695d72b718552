import { createHash } from 'node:crypto';

/**
 * HMAC-SHA256 (RFC 2104) of `prefix || value` for one key and one fixed prefix, in plain
 * JavaScript: the states after the key's inner and outer pad blocks are computed once, so a short
 * value costs two SHA-256 compressions and no allocation. Masking calls it once or more per
 * value, and a native HMAC spends most of its time creating objects (issue 18). The output is
 * HMAC exactly (masking-golden.test.ts pins it against node:crypto's).
 */
export class PrefixedHmac {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  /** The message after the inner pad block: prefix, value, padding; grown for long values. */
  private block: Uint8Array;
  private readonly prefixLength: number;
  /** The last digest's eight big-endian words. */
  readonly words = new Int32Array(8);
  private readonly w = new Int32Array(64);

  constructor(key: Buffer, prefix: string) {
    const k = key.length > 64 ? createHash('sha256').update(key).digest() : key;
    const pad = new Uint8Array(64);
    for (const [state, byte] of [
      [this.inner, 0x36],
      [this.outer, 0x5c],
    ] as const) {
      for (let i = 0; i < 64; i++) pad[i] = (i < k.length ? (k[i] as number) : 0) ^ byte;
      state.set(IV);
      compress(state, pad, 0, this.w);
    }
    const bytes = Buffer.from(prefix, 'utf8');
    this.prefixLength = bytes.length;
    this.block = new Uint8Array(Math.ceil((bytes.length + 64 + 9) / 64) * 64);
    this.block.set(bytes);
  }

  /** Digests `prefix || value` (UTF-8) into `words`. */
  digestInto(value: string): Int32Array {
    let at = this.prefixLength;
    let block = this.block;
    // ASCII straight into the block; anything else through Buffer's UTF-8 encoder.
    let ascii = at + value.length + 9 <= block.length;
    if (ascii)
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c > 0x7f) {
          ascii = false;
          break;
        }
        block[at + i] = c;
      }
    if (ascii) at += value.length;
    else {
      const bytes = Buffer.from(value, 'utf8');
      const size = Math.ceil((this.prefixLength + bytes.length + 9) / 64) * 64;
      if (size > block.length) {
        const grown = new Uint8Array(size);
        grown.set(block.subarray(0, this.prefixLength));
        this.block = block = grown;
      }
      block.set(bytes, at);
      at += bytes.length;
    }
    const blocks = Math.ceil((at + 9) / 64);
    block.fill(0, at, blocks * 64);
    block[at] = 0x80;
    writeBitLength(block, blocks * 64, 64 + at);
    const s = this.words;
    s.set(this.inner);
    for (let b = 0; b < blocks; b++) compress(s, block, b * 64, this.w);
    // The outer message: the inner digest, then padding for 64 + 32 bytes.
    const o = OUTER_BLOCK;
    for (let i = 0; i < 8; i++) {
      const v = s[i] as number;
      o[i * 4] = v >>> 24;
      o[i * 4 + 1] = v >>> 16;
      o[i * 4 + 2] = v >>> 8;
      o[i * 4 + 3] = v;
    }
    s.set(this.outer);
    compress(s, o, 0, this.w);
    return s;
  }

  /** The digest of `prefix || value` as a fresh Buffer. */
  digest(value: string): Buffer {
    const s = this.digestInto(value);
    const out = Buffer.allocUnsafe(32);
    for (let i = 0; i < 8; i++) out.writeInt32BE(s[i] as number, i * 4);
    return out;
  }
}

/** Shared: filled and used within one digestInto call, never across an await. */
const OUTER_BLOCK = (() => {
  const b = new Uint8Array(64);
  b[32] = 0x80;
  writeBitLength(b, 64, 96);
  return b;
})();

function writeBitLength(block: Uint8Array, end: number, bytes: number): void {
  const bits = bytes * 8;
  block[end - 1] = bits & 0xff;
  block[end - 2] = (bits >>> 8) & 0xff;
  block[end - 3] = (bits >>> 16) & 0xff;
  block[end - 4] = (bits >>> 24) & 0xff;
  // Values are far below 2^29 bytes; the high word stays zero.
  block[end - 5] = Math.floor(bits / 2 ** 32) & 0xff;
}

const IV = Int32Array.of(
  0x6a09e667,
  0xbb67ae85 | 0,
  0x3c6ef372,
  0xa54ff53a | 0,
  0x510e527f,
  0x9b05688c | 0,
  0x1f83d9ab,
  0x5be0cd19,
);

const K = Int32Array.from(
  [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ],
  (v) => v | 0,
);

/** One SHA-256 compression of block[at, at + 64) into state (FIPS 180-4, 6.2.2). */
function compress(state: Int32Array, block: Uint8Array, at: number, w: Int32Array): void {
  for (let i = 0; i < 16; i++) {
    const j = at + i * 4;
    w[i] =
      ((block[j] as number) << 24) |
      ((block[j + 1] as number) << 16) |
      ((block[j + 2] as number) << 8) |
      (block[j + 3] as number);
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15] as number;
    const y = w[i - 2] as number;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
  }
  let a = state[0] as number;
  let b = state[1] as number;
  let c = state[2] as number;
  let d = state[3] as number;
  let e = state[4] as number;
  let f = state[5] as number;
  let g = state[6] as number;
  let h = state[7] as number;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (w[i] as number)) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = ((state[0] as number) + a) | 0;
  state[1] = ((state[1] as number) + b) | 0;
  state[2] = ((state[2] as number) + c) | 0;
  state[3] = ((state[3] as number) + d) | 0;
  state[4] = ((state[4] as number) + e) | 0;
  state[5] = ((state[5] as number) + f) | 0;
  state[6] = ((state[6] as number) + g) | 0;
  state[7] = ((state[7] as number) + h) | 0;
}
