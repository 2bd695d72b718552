import { createHmac, randomBytes } from 'node:crypto';
import { PrefixedHmac } from '../../core/masking/hmac-sha256.js';

test('PrefixedHmac is HMAC-SHA256 for any key, prefix and value length', () => {
  const keys = [Buffer.alloc(0), Buffer.from('k'), randomBytes(64), randomBytes(65), randomBytes(200)];
  const prefixes = ['', 'email\0', 'x'.repeat(70)];
  for (const key of keys)
    for (const prefix of prefixes) {
      const hmac = new PrefixedHmac(key, prefix);
      for (let length = 0; length < 200; length += 1) {
        const value = length % 3 === 0 ? 'é🐘'.repeat(length) : 'a'.repeat(length);
        const expected = createHmac('sha256', key).update(prefix).update(value).digest();
        expect([key.length, prefix, length, hmac.digest(value).toString('hex')]).toEqual([
          key.length,
          prefix,
          length,
          expected.toString('hex'),
        ]);
      }
    }
});
