import {
  compressionArg,
  parseCompression,
  resolveCompression,
  type CompressionSpec,
} from '../../core/pg/compression.js';
import { parseFormat } from '../../core/pg/formats.js';
import { InputError } from '../../core/errors.js';

describe('parseCompression', () => {
  it('reads auto, none and each algorithm with or without a level', () => {
    expect(parseCompression(undefined)).toBe('auto');
    expect(parseCompression('')).toBe('auto');
    expect(parseCompression(' Auto ')).toBe('auto');
    expect(parseCompression('none')).toEqual({ algorithm: 'none' });
    expect(parseCompression('gzip')).toEqual({ algorithm: 'gzip' });
    expect(parseCompression('gzip:6')).toEqual({ algorithm: 'gzip', level: 6 });
    expect(parseCompression('lz4')).toEqual({ algorithm: 'lz4' });
    expect(parseCompression('lz4:3')).toEqual({ algorithm: 'lz4', level: 3 });
    expect(parseCompression('zstd')).toEqual({ algorithm: 'zstd' });
    expect(parseCompression('ZSTD:1')).toEqual({ algorithm: 'zstd', level: 1 });
  });

  it('accepts the ends of each level range', () => {
    expect(parseCompression('gzip:1')).toEqual({ algorithm: 'gzip', level: 1 });
    expect(parseCompression('gzip:9')).toEqual({ algorithm: 'gzip', level: 9 });
    expect(parseCompression('lz4:12')).toEqual({ algorithm: 'lz4', level: 12 });
    expect(parseCompression('zstd:22')).toEqual({ algorithm: 'zstd', level: 22 });
  });

  it('rejects unknown algorithms, listing what is expected', () => {
    expect(() => parseCompression('brotli')).toThrow(InputError);
    expect(() => parseCompression('brotli')).toThrow(
      'compress: "brotli" is not a compression; expected auto, none, gzip[:1-9], lz4[:1-12] or zstd[:1-22]',
    );
    expect(() => parseCompression('6')).toThrow(/^compress: "6" is not a compression; expected auto/);
  });

  it.each([
    ['gzip:0', /^compress: "gzip:0": gzip levels run from 1 to 9 \(use none for no compression\)$/],
    ['gzip:10', /^compress: "gzip:10": gzip levels run from 1 to 9$/],
    ['lz4:0', /^compress: "lz4:0": lz4 levels run from 1 to 12$/],
    ['lz4:13', /lz4 levels run from 1 to 12/],
    ['zstd:23', /^compress: "zstd:23": zstd levels run from 1 to 22$/],
    ['zstd:-1', /zstd levels run from 1 to 22/],
    ['zstd:', /zstd levels run from 1 to 22/],
    ['gzip:fast', /gzip levels run from 1 to 9/],
    ['none:1', /^compress: "none:1": none takes no level; expected auto/],
  ])('rejects %s, saying the range', (raw, message) => {
    expect(() => parseCompression(raw)).toThrow(InputError);
    expect(() => parseCompression(raw)).toThrow(message);
  });

  it('names the input it was given', () => {
    expect(() => parseCompression('brotli', 'backup-compress')).toThrow(/^backup-compress: /);
  });
});

describe('resolveCompression', () => {
  it('settles auto by client major and format', () => {
    expect(resolveCompression('auto', 16, 'custom')).toEqual({ algorithm: 'zstd', level: 1 });
    expect(resolveCompression('auto', 18, 'directory')).toEqual({ algorithm: 'zstd', level: 1 });
    expect(resolveCompression('auto', 15, 'custom')).toEqual({ algorithm: 'gzip', level: 1 });
    expect(resolveCompression('auto', 12, 'directory')).toEqual({ algorithm: 'gzip', level: 1 });
    expect(resolveCompression('auto', 18, 'tar')).toEqual({ algorithm: 'none' });
    expect(resolveCompression('auto', 18, 'plain')).toEqual({ algorithm: 'none' });
  });

  it('keeps explicit choices the client can make', () => {
    const zstd: CompressionSpec = { algorithm: 'zstd', level: 3 };
    expect(resolveCompression(zstd, 16, 'custom')).toBe(zstd);
    expect(resolveCompression({ algorithm: 'gzip', level: 9 }, 12, 'plain')).toEqual({
      algorithm: 'gzip',
      level: 9,
    });
    expect(resolveCompression({ algorithm: 'lz4' }, 17, 'plain')).toEqual({ algorithm: 'lz4' });
    expect(resolveCompression({ algorithm: 'none' }, 15, 'tar')).toEqual({ algorithm: 'none' });
  });

  it('refuses compression with the tar format', () => {
    expect(() => resolveCompression({ algorithm: 'gzip', level: 1 }, 18, 'tar')).toThrow(
      /^compress: pg_dump cannot compress the tar format; use none or auto/,
    );
  });

  it.each(['lz4', 'zstd'] as const)('refuses %s before pg_dump 16, naming the chosen client', (algorithm) => {
    const run = () => resolveCompression({ algorithm }, 15, 'custom');
    expect(run).toThrow(InputError);
    expect(run).toThrow(
      `compress: ${algorithm} needs pg_dump 16 or newer, but the chosen client is pg_dump 15; use gzip or none`,
    );
  });
});

describe('compressionArg', () => {
  it('spells method[:level] for pg_dump 16 and newer', () => {
    expect(compressionArg({ algorithm: 'zstd', level: 1 }, 16)).toEqual(['--compress=zstd:1']);
    expect(compressionArg({ algorithm: 'lz4' }, 18)).toEqual(['--compress=lz4']);
    expect(compressionArg({ algorithm: 'gzip', level: 6 }, 17)).toEqual(['--compress=gzip:6']);
    expect(compressionArg({ algorithm: 'none' }, 16)).toEqual(['--compress=none']);
  });

  it('spells a bare gzip level for pg_dump 15 and older', () => {
    expect(compressionArg({ algorithm: 'gzip', level: 1 }, 15)).toEqual(['--compress=1']);
    expect(compressionArg({ algorithm: 'gzip' }, 14)).toEqual(['--compress=6']);
    expect(compressionArg({ algorithm: 'none' }, 12)).toEqual(['--compress=0']);
  });

  it('refuses lz4 and zstd for pg_dump 15 and older', () => {
    expect(() => compressionArg({ algorithm: 'zstd', level: 1 }, 15)).toThrow(
      /^compress: zstd needs pg_dump 16 or newer/,
    );
  });
});

describe('parseFormat', () => {
  it('reads names and one-letter aliases, defaulting to custom', () => {
    expect(parseFormat(undefined)).toBe('custom');
    expect(parseFormat('')).toBe('custom');
    expect(parseFormat('directory')).toBe('directory');
    expect(parseFormat(' Tar ')).toBe('tar');
    expect(parseFormat('p')).toBe('plain');
    expect(parseFormat('c')).toBe('custom');
  });

  it('rejects other formats, listing the four', () => {
    expect(() => parseFormat('zip')).toThrow(InputError);
    expect(() => parseFormat('zip')).toThrow(
      'format: "zip" is not a dump format; expected custom, directory, tar or plain',
    );
  });
});
