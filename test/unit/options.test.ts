import { parseJobOptions } from '../../core/options.js';
import { InputErrors } from '../../core/errors.js';

const parse = (inputs: Record<string, string>) => parseJobOptions((name) => inputs[name], {});

describe('the input table', () => {
  it('parses a backup of several databases to an S3 prefix', () => {
    const o = parse({
      command: 'backup',
      from: 'postgres://u@db/app\npostgres://u@db/billing',
      to: 's3://dr-bucket/nightly/',
      verify: 'restore',
      's3-sse': 'aws:kms',
      's3-kms-key-id': 'alias/backups',
    });
    if (o.command !== 'backup') throw new Error(`parsed as ${o.command}`);
    expect(o.sources.map((s) => s.params.dbname)).toEqual(['app', 'billing']);
    expect(o.destination).toEqual({ kind: 's3', bucket: 'dr-bucket', key: 'nightly/' });
    expect(o.verify).toBe('restore');
    expect(o.s3).toMatchObject({ sse: 'aws:kms', kmsKeyId: 'alias/backups', forcePathStyle: false });
  });

  it.each([
    ['s3://', /^to: "s3:\/\/" is not a valid s3:\/\/ URI/],
    ['s3://UPPER/key', /^to: "s3:\/\/UPPER\/key" is not a valid s3:\/\/ URI; expected s3:\/\/bucket\/key/],
    ['s3://ok-bucket/a//b', /has an empty path segment/],
  ])('rejects the malformed URI %s', (to, message) => {
    expect(() => parse({ command: 'dump', from: 'postgres://u@db/app', to })).toThrow(message);
  });

  it('refuses a backup to a path, naming to', () => {
    expect(() => parse({ command: 'backup', from: 'postgres://u@db/app', to: '/backups' })).toThrow(
      /^to: backup stores to S3; expected an s3:\/\/bucket\/prefix\/ URI, not "\/backups"/,
    );
  });

  it('reports every problem at once', () => {
    try {
      parse({
        command: 'backup',
        to: 's3://b-b/p/',
        verify: 'maybe',
        's3-sse': 'rot13',
        's3-endpoint': 'ftp://x',
      });
      throw new Error('expected a failure');
    } catch (error) {
      expect(error).toBeInstanceOf(InputErrors);
      const names = (error as InputErrors).problems.map((p) => p.input).sort();
      expect(names).toEqual(['from', 's3-endpoint', 's3-sse', 'verify']);
    }
  });
});
