import { InputError } from '../errors.js';
import type { DumpFormat } from './formats.js';

export type CompressionAlgorithm = 'none' | 'gzip' | 'lz4' | 'zstd';

/** A compression method and, when given, its level (pg_dump's default level otherwise). */
export interface CompressionSpec {
  algorithm: CompressionAlgorithm;
  level?: number;
}

/** pg_dump 16 added lz4 and zstd, and the `method[:level]` spelling of `--compress`. */
export const COMPRESSION_METHODS_SINCE = 16;

/** zlib's own default level, which pg_dump 15 and older use when `--compress` is not given. */
const GZIP_DEFAULT_LEVEL = 6;

/** The levels pg_dump accepts per algorithm (gzip:0 is refused by pg_dump 16+). */
const LEVELS: Readonly<Record<Exclude<CompressionAlgorithm, 'none'>, readonly [number, number]>> = {
  gzip: [1, 9],
  lz4: [1, 12],
  zstd: [1, 22],
};

const EXPECTED = 'expected auto, none, gzip[:1-9], lz4[:1-12] or zstd[:1-22]';

function isAlgorithm(name: string | undefined): name is CompressionAlgorithm {
  return name === 'none' || name === 'gzip' || name === 'lz4' || name === 'zstd';
}

/** Parses `compress`: `auto` (also when empty), `none`, or `gzip`/`lz4`/`zstd` with an optional `:level`. */
export function parseCompression(raw: string | undefined, input = 'compress'): CompressionSpec | 'auto' {
  const text = (raw ?? '').trim();
  const lower = text.toLowerCase();
  if (lower === '' || lower === 'auto') return 'auto';
  const m = /^([a-z0-9]+)(?::(.*))?$/.exec(lower);
  const algorithm = m?.[1];
  if (!m || !isAlgorithm(algorithm))
    throw new InputError(input, `"${text}" is not a compression; ${EXPECTED}`);
  const levelText = m[2];
  if (levelText === undefined) return { algorithm };
  if (algorithm === 'none') throw new InputError(input, `"${text}": none takes no level; ${EXPECTED}`);
  const [min, max] = LEVELS[algorithm];
  const level = /^\d{1,3}$/.test(levelText) ? Number(levelText) : NaN;
  if (!(level >= min && level <= max)) {
    const hint = algorithm === 'gzip' && level === 0 ? ' (use none for no compression)' : '';
    throw new InputError(input, `"${text}": ${algorithm} levels run from ${min} to ${max}${hint}`);
  }
  return { algorithm, level };
}

/**
 * Settles `auto` and checks the choice against the pg_dump that will run and the format. `auto` is the
 * cheapest useful setting: zstd:1 where pg_dump has zstd, gzip:1 before that, and none for tar (which
 * pg_dump cannot compress) and plain (so the SQL stays readable and can be piped straight into psql).
 */
export function resolveCompression(
  spec: CompressionSpec | 'auto',
  clientMajor: number,
  format: DumpFormat,
  input = 'compress',
): CompressionSpec {
  if (spec === 'auto') {
    if (format === 'tar' || format === 'plain') return { algorithm: 'none' };
    return clientMajor >= COMPRESSION_METHODS_SINCE
      ? { algorithm: 'zstd', level: 1 }
      : { algorithm: 'gzip', level: 1 };
  }
  if (format === 'tar' && spec.algorithm !== 'none') {
    throw new InputError(
      input,
      `pg_dump cannot compress the tar format; use none or auto, or the custom or directory format`,
    );
  }
  if ((spec.algorithm === 'lz4' || spec.algorithm === 'zstd') && clientMajor < COMPRESSION_METHODS_SINCE) {
    throw new InputError(
      input,
      `${spec.algorithm} needs pg_dump ${COMPRESSION_METHODS_SINCE} or newer, but the chosen client is pg_dump ${clientMajor}; use gzip or none`,
    );
  }
  return spec;
}

/** The `--compress` argument for a resolved spec, spelled the way this pg_dump major reads it. */
export function compressionArg(spec: CompressionSpec, clientMajor: number): string[] {
  if (clientMajor >= COMPRESSION_METHODS_SINCE) {
    const level = spec.level === undefined ? '' : `:${spec.level}`;
    return [`--compress=${spec.algorithm}${level}`];
  }
  // pg_dump 15 and older take only a gzip level, where 0 means no compression.
  switch (spec.algorithm) {
    case 'none':
      return ['--compress=0'];
    case 'gzip':
      return [`--compress=${spec.level ?? GZIP_DEFAULT_LEVEL}`];
    default:
      throw new InputError(
        'compress',
        `${spec.algorithm} needs pg_dump ${COMPRESSION_METHODS_SINCE} or newer, but the chosen client is pg_dump ${clientMajor}; use gzip or none`,
      );
  }
}
