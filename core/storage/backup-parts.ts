import { PgferryError } from '../errors.js';
import { partKey } from './backup-layout.js';
import { partsDigest, type Manifest } from './manifest.js';
import type { S3Bucket } from './s3-bucket.js';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * A sharded backup's manifest vouches for its parts: they are `<key>.part-NN.dump` in order, each with
 * a size and SHA-256, their digest is the manifest's `sha256` (the one latest.json carries), part 0
 * is the main part, and every stored part is as long as listed. Checked before the target is touched.
 */
export async function checkParts(bucket: S3Bucket, manifest: Manifest, input: string): Promise<void> {
  const uri = bucket.uri(manifest.key);
  const refuse = (why: string) =>
    new PgferryError(`${input}: the sharded backup ${uri} ${why}; refusing to restore it`, {
      code: 'integrity',
    });
  const parts = manifest.parts;
  if (!Array.isArray(parts) || parts.length < 2) throw refuse('lists fewer than two parts');
  parts.forEach((p, i) => {
    const ok =
      typeof p === 'object' &&
      p !== null &&
      p.key === partKey(manifest.key, i) &&
      Number.isSafeInteger(p.bytes) &&
      p.bytes >= 0 &&
      typeof p.sha256 === 'string' &&
      SHA256.test(p.sha256) &&
      p.role === (i === 0 ? 'main' : 'data');
    if (!ok)
      throw refuse(
        `lists part ${i} wrongly (expected ${partKey(manifest.key, i)}, a size, a SHA-256 and its role)`,
      );
  });
  if (partsDigest(parts) !== manifest.sha256) throw refuse('lists parts its SHA-256 does not vouch for');
  if (parts.reduce((s, p) => s + p.bytes, 0) !== manifest.bytes)
    throw refuse('lists parts whose sizes do not add up');
  for (const p of parts) {
    const stored = await bucket.size(p.key, input);
    if (stored === undefined) throw refuse(`is missing its part ${bucket.uri(p.key)}`);
    if (stored !== p.bytes)
      throw refuse(`has a part ${bucket.uri(p.key)} of ${stored} bytes, its manifest says ${p.bytes}`);
  }
}
