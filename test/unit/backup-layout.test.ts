import { backupKey, compactTimestamp, latestKey, manifestKey } from '../../core/storage/backup-layout.js';
import {
  ConditionalWriteRefused,
  conditionalFailure,
  CREATE_ONLY,
  WriteConflictError,
} from '../../core/storage/conditional-write.js';
import { startedAfter } from '../../core/storage/latest-pointer.js';

describe('backup keys', () => {
  const at = new Date('2026-03-04T05:06:07.089Z');

  it('carry the date, millisecond time and a random part, and stay readable', () => {
    expect(compactTimestamp(at)).toBe('20260304T050607.089Z');
    expect(backupKey('/nightly/', 'shop', at, '3f9c1a7e')).toBe(
      'nightly/shop/2026/03/04/shop-20260304T050607.089Z-3f9c1a7e.dump',
    );
    expect(manifestKey('a/b.dump')).toBe('a/b.dump.json');
    expect(latestKey('nightly', 'shop')).toBe('nightly/shop/latest.json');
  });

  it('never repeat for backups started in the same millisecond', () => {
    // 200 keys from 32 random bits: a repeat has a chance of about 5 in a million.
    const keys = new Set(Array.from({ length: 200 }, () => backupKey('p', 'db', at)));
    expect(keys.size).toBe(200);
    for (const key of keys)
      expect(key).toMatch(/^p\/db\/2026\/03\/04\/db-20260304T050607\.089Z-[0-9a-f]{8}\.dump$/);
  });

  it('refuse a random part that could change the layout', () => {
    for (const bad of ['', '../x', 'a/b', 'A B', 'x'.repeat(17)])
      expect(() => backupKey('p', 'db', at, bad)).toThrow();
  });

  it('order backups by start, then by key, so that equal starts still have one order', () => {
    const a = { startedAt: '2026-03-04T05:06:07.089Z', key: 'k-0000' };
    const b = { startedAt: '2026-03-04T05:06:07.090Z', key: 'k-0000' };
    const c = { startedAt: '2026-03-04T05:06:07.090Z', key: 'k-ffff' };
    expect([startedAfter(b, a), startedAfter(a, b)]).toEqual([true, false]);
    expect([startedAfter(c, b), startedAfter(b, c), startedAfter(c, c)]).toEqual([true, false, false]);
  });
});

describe('answers to a conditional write', () => {
  const where = { input: 'to', bucket: 'b', key: 'k', endpoint: 'http://store:9000' };
  const sdkError = (status: number, name: string, message = '') =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

  it('412, 409 and a 404 to If-Match are conflicts, naming the object and the answer', () => {
    const taken = conditionalFailure(sdkError(412, 'PreconditionFailed'), CREATE_ONLY, where);
    expect(taken).toBeInstanceOf(WriteConflictError);
    expect(taken?.message).toBe(
      'to: s3://b/k already exists, and pgferry never replaces an object it did not read (the store answered 412 PreconditionFailed to If-None-Match: *)',
    );
    expect(conditionalFailure(sdkError(412, 'PreconditionFailed'), { ifMatch: '"e1"' }, where)?.message).toBe(
      'to: s3://b/k changed since pgferry read it (the store answered 412 PreconditionFailed to If-Match: "e1")',
    );
    expect(
      conditionalFailure(sdkError(409, 'ConditionalRequestConflict'), CREATE_ONLY, where),
    ).toBeInstanceOf(WriteConflictError);
    expect(conditionalFailure(sdkError(404, 'NoSuchKey'), { ifMatch: '"e1"' }, where)).toBeInstanceOf(
      WriteConflictError,
    );
  });

  it('a 501, or a 400 about the headers, is a store that refuses them', () => {
    const refused = conditionalFailure(sdkError(501, 'NotImplemented'), CREATE_ONLY, where);
    expect(refused).toBeInstanceOf(ConditionalWriteRefused);
    expect(refused?.message).toMatch(
      /^to: the S3 store at http:\/\/store:9000 refused the conditional write of s3:\/\/b\/k/,
    );
    expect(
      conditionalFailure(
        sdkError(400, 'InvalidArgument', 'If-None-Match is not supported'),
        CREATE_ONLY,
        where,
      ),
    ).toBeInstanceOf(ConditionalWriteRefused);
  });

  it('anything else, or a write without a condition, is left to the usual explanation', () => {
    expect(conditionalFailure(sdkError(404, 'NoSuchKey'), CREATE_ONLY, where)).toBeUndefined();
    expect(
      conditionalFailure(sdkError(400, 'InvalidArgument', 'bad tag'), CREATE_ONLY, where),
    ).toBeUndefined();
    expect(conditionalFailure(sdkError(403, 'AccessDenied'), CREATE_ONLY, where)).toBeUndefined();
    expect(conditionalFailure(sdkError(412, 'PreconditionFailed'), undefined, where)).toBeUndefined();
  });
});
