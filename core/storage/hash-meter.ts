import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Passes bytes through, counting them and computing their SHA-256 on the way. */
export class HashMeter extends Transform {
  private readonly hash = createHash('sha256');
  private readonly headChunks: Buffer[] = [];
  bytes = 0;

  /**
   * Keeps the first `keepHead` bytes, for reading an archive header after the fact; `also` sees
   * every chunk too (the store proof's digests), so the bytes are walked in one pass.
   */
  constructor(
    private readonly keepHead = 0,
    private readonly also?: { update(chunk: Buffer): void },
  ) {
    super();
  }

  get head(): Buffer {
    return Buffer.concat(this.headChunks).subarray(0, this.keepHead);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.also?.update(chunk);
    if (this.bytes < this.keepHead) this.headChunks.push(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  /** Only once the stream has ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
