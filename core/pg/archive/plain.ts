/** Plain SQL dumps (pg_dump -Fp), possibly gzip-compressed: the banner and header comments. */
import zlib from 'node:zlib';
import { PgferryError } from '../../errors.js';
import { addVersions } from './facts.js';
import type { ArchiveCompression, ArchiveFacts } from './facts.js';
import { startsWithMagic } from './header.js';
import { looksLikeTar } from './tar.js';

/** Decompressed SQL text enough for the header comments and a `--create` CREATE DATABASE. */
export const PLAIN_TEXT_WANTED = 16 * 1024;
/** Cap on inflating a gzip prefix, so a gzip bomb cannot exhaust memory. */
const MAX_INFLATE = 4 * 1024 * 1024;

/**
 * Inflates just enough of a gzip prefix. zlib's sync API has no streaming, so we inflate growing
 * prefixes with a sync flush (which tolerates a cut-off end) until there is text enough.
 */
function gunzipPrefix(buf: Buffer, name: string): Buffer {
  let take = Math.min(buf.length, 1024);
  let out = Buffer.alloc(0);
  for (;;) {
    try {
      out = zlib.gunzipSync(buf.subarray(0, take), {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_INFLATE,
      });
    } catch (error) {
      // Keep what an earlier prefix gave: the header sits at the very start.
      if (out.length > 0) break;
      const detail = error instanceof Error ? error.message : String(error);
      throw new PgferryError(`${name} looks gzip-compressed but does not decompress: ${detail}`, {
        cause: error,
      });
    }
    if (out.length >= PLAIN_TEXT_WANTED || take >= buf.length) break;
    take = Math.min(buf.length, take * 4);
  }
  return out;
}

/** The facts of a gzip-compressed plain dump; undefined asks for more bytes when more may follow. */
export function readGzipPlain(head: Buffer, name: string, final: boolean): ArchiveFacts | undefined {
  const inner = gunzipPrefix(head, name);
  if (!final && inner.length < PLAIN_TEXT_WANTED) return undefined;
  if (inner.length === 0) throw new PgferryError(`${name} is gzip-compressed but holds no data`);
  if (startsWithMagic(inner) !== 'no' || looksLikeTar(inner)) {
    throw new PgferryError(
      `${name} is a gzip-compressed custom- or tar-format archive, which pg_restore cannot read; gunzip it first`,
    );
  }
  return plainFacts(inner.toString('utf8'), 'gzip', name);
}

/** pg_dump, pg_dumpall and pg_restore -f all open SQL output with this banner, even with --no-comments. */
const PLAIN_BANNER = /^-- PostgreSQL database (?:cluster )?dump\r?$|^-- Dumped (?:from database|by pg_dump)/m;

/** The facts of plain SQL text; anything without pg_dump's banner is refused as not a dump. */
export function plainFacts(raw: string, compression: ArchiveCompression, name: string): ArchiveFacts {
  const text = raw.replace(/^\uFEFF/, '');
  const top = text.slice(0, 4096);
  if (!/^\s*--/.test(top) || !PLAIN_BANNER.test(top)) {
    throw new PgferryError(
      `${name} is not a PostgreSQL dump: expected a custom/tar/directory archive (PGDMP header) or plain SQL from pg_dump`,
    );
  }
  const facts: ArchiveFacts = { format: 'plain', compression };
  const server = /^-- Dumped from database version ([^\r\n]+)/m.exec(text)?.[1];
  const dump = /^-- Dumped by pg_dump(?:all)? version ([^\r\n]+)/m.exec(text)?.[1];
  addVersions(facts, server, dump);
  const database = plainDatabase(text);
  if (database !== undefined) facts.database = database;
  facts.restrictKey = /^\\restrict[ \t]+\S/m.test(text);
  return facts;
}

/** The database a `--create` dump creates: CREATE DATABASE, else the \connect that follows it. */
function plainDatabase(text: string): string | undefined {
  const created = /^CREATE DATABASE ("(?:[^"]|"")+"|[^\s";]+)/m.exec(text)?.[1];
  if (created !== undefined)
    return created.startsWith('"') ? created.slice(1, -1).replace(/""/g, '"') : created;
  const connect = /^\\connect (?:-reuse-previous=on )?("dbname='(?:[^'\\]|\\.)*'"|[^\s"]+)\r?$/m.exec(
    text,
  )?.[1];
  if (connect === undefined) return undefined;
  return connect.startsWith('"') ? connect.slice(9, -2).replace(/\\(.)/g, '$1') : connect;
}
