/**
 * Which kind of dump a run of first bytes is (custom, directory toc.dat, tar, plain or gzip-compressed
 * plain SQL), and its facts; fed growing prefixes until it can tell, so a reader takes only the bytes
 * needed.
 */
import { PgferryError } from '../../errors.js';
import type { ArchiveFacts, ArchiveHint } from './facts.js';
import { ARCH_CUSTOM, ARCH_TAR, headerFacts, readHeader, startsWithMagic } from './header.js';
import { HeaderReader, OutOfBytes } from './header-reader.js';
import { PLAIN_TEXT_WANTED, plainFacts, readGzipPlain } from './plain.js';
import { looksLikeTar, readTar } from './tar.js';

/** Bytes a first read takes; real headers need well under 1 KiB, plain SQL a few KiB of text. */
export const READ_CHUNK = 64 * 1024;
/** Never read more than this looking for a header; three maximal header strings fit well within. */
const MAX_HEAD = 1024 * 1024;
/** A stream or file shorter than a tar block is only judged once it has ended. */
const MIN_SNIFF = 512;

/** Compressed-file magics we recognise only to say why we cannot read them. */
const OTHER_COMPRESSIONS: ReadonlyArray<{ magic: number[]; name: string; tool: string }> = [
  { magic: [0x28, 0xb5, 0x2f, 0xfd], name: 'zstd', tool: 'zstd -d' },
  { magic: [0x04, 0x22, 0x4d, 0x18], name: 'lz4', tool: 'lz4 -d' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: 'xz', tool: 'xz -d' },
  { magic: [0x42, 0x5a, 0x68], name: 'bzip2', tool: 'bzip2 -d' },
];

/** Identifies a dump from its first bytes and reads its header. Pure: the buffer is the whole input. */
export function readArchiveFactsFromBuffer(head: Buffer, hint?: ArchiveHint): ArchiveFacts {
  // With final = true sniff always decides.
  const facts = sniff(head, hint ?? {}, true);
  if (!facts) throw new PgferryError('internal: a final sniff did not decide');
  return facts;
}

/**
 * Decides what `head` is. When `final` is false more bytes may follow, and undefined asks for them
 * instead of calling a short input truncated.
 */
function sniff(head: Buffer, hint: ArchiveHint, final: boolean): ArchiveFacts | undefined {
  const name = hint.name ?? 'the dump';
  if (!final && head.length < MIN_SNIFF) return undefined;
  try {
    return classify(head, hint, name, final);
  } catch (error) {
    if (!(error instanceof OutOfBytes)) throw error;
    if (!final) return undefined;
    throw new PgferryError(
      `${name} ends inside the archive header (${head.length} bytes); the dump is truncated`,
    );
  }
}

function classify(head: Buffer, hint: ArchiveHint, name: string, final: boolean): ArchiveFacts | undefined {
  if (head.length === 0) throw new PgferryError(`${name} is empty, not a PostgreSQL dump`);
  const pgdmp = startsWithMagic(head);
  if (hint.isDirectory) {
    if (pgdmp === 'no') {
      throw new PgferryError(
        `${name} is not the toc.dat of a directory-format dump (pg_dump -Fd): it has no PGDMP header`,
      );
    }
    return headerFacts(
      'directory',
      readHeader(new HeaderReader(head, 0, Infinity, name), ARCH_TAR, name, 'directory'),
    );
  }
  if (pgdmp !== 'no') {
    return headerFacts(
      'custom',
      readHeader(new HeaderReader(head, 0, Infinity, name), ARCH_CUSTOM, name, 'custom'),
    );
  }
  if (looksLikeTar(head)) return readTar(head, name);
  if (head[0] === 0x1f && head[1] === 0x8b) return readGzipPlain(head, name, final);
  for (const other of OTHER_COMPRESSIONS) {
    if (other.magic.every((byte, i) => head[i] === byte)) {
      throw new PgferryError(
        `${name} is ${other.name}-compressed; pgferry reads compressed plain SQL dumps only when gzip-compressed. Decompress it first (${other.tool})`,
      );
    }
  }
  if (!final && head.length < PLAIN_TEXT_WANTED) return undefined;
  return plainFacts(head.toString('utf8'), 'none', name);
}

/** Feeds growing prefixes to sniff until it decides; returns the facts and the bytes consumed. */
export async function sniffChunks(
  next: () => Promise<Buffer | null>,
  hint: ArchiveHint,
): Promise<{ facts: ArchiveFacts; head: Buffer }> {
  const chunks: Buffer[] = [];
  let total = 0;
  let ended = false;
  for (;;) {
    const head = Buffer.concat(chunks, total);
    const facts = sniff(head, hint, ended || total >= MAX_HEAD);
    if (facts) return { facts, head };
    const chunk = await next();
    if (chunk === null) ended = true;
    else if (chunk.length > 0) {
      chunks.push(chunk);
      total += chunk.length;
    }
  }
}
