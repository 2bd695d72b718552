/**
 * Archive facts from the start of a stream (an S3 object, a pipe), consuming only the chunks needed
 * and handing them back so the caller can put them in front of the rest.
 */
import { PgferryError } from '../../errors.js';
import type { ArchiveFacts } from './facts.js';
import { READ_CHUNK, sniffChunks } from './identify.js';

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new PgferryError(`the dump stream yielded ${typeof chunk} chunks; expected bytes`);
}

function isNodeStream(s: unknown): s is NodeJS.ReadableStream {
  const x = s as Partial<NodeJS.ReadableStream> | null;
  return (
    typeof x?.read === 'function' && typeof x.on === 'function' && typeof x.removeListener === 'function'
  );
}

/**
 * Pulls chunks from a Node stream in paused mode. Unlike its async iterator, this leaves the stream
 * open and listener-free afterwards, so the caller can pipe the rest.
 */
function nodeStreamPuller(stream: NodeJS.ReadableStream, name: string): () => Promise<Buffer | null> {
  const state = stream as { readableEnded?: boolean; readableLength?: number };
  const isEnded = (): boolean => state.readableEnded === true;
  // read() alone hands over everything buffered; a bounded size leaves the rest in the stream.
  const take = (): unknown => {
    const buffered = state.readableLength ?? 0;
    return buffered > 0 ? stream.read(Math.min(buffered, READ_CHUNK)) : stream.read();
  };
  return async () => {
    // Take what is buffered first: a 'readable' event already emitted will not come again.
    const buffered = take();
    if (buffered !== null) return toBuffer(buffered);
    if (isEnded()) return null;
    return new Promise<Buffer | null>((resolve, reject) => {
      const cleanup = (): void => {
        stream.removeListener('readable', onReadable);
        stream.removeListener('end', onEnd);
        stream.removeListener('error', onError);
      };
      const onReadable = (): void => {
        const chunk = take();
        if (chunk === null) return; // 'end' follows
        cleanup();
        try {
          resolve(toBuffer(chunk));
        } catch (error) {
          reject(error);
        }
      };
      const onEnd = (): void => {
        cleanup();
        resolve(null);
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(new PgferryError(`cannot read ${name}: ${error.message}`, { cause: error }));
      };
      stream.on('readable', onReadable);
      stream.on('end', onEnd);
      stream.on('error', onError);
    });
  };
}

/**
 * Reads the facts from the start of a stream. Consumes only the chunks needed and returns them as
 * `head`, so the caller can put them back in front of the rest.
 */
export async function readArchiveFactsFromStream(
  stream: NodeJS.ReadableStream | AsyncIterable<Buffer>,
  name?: string,
): Promise<{ facts: ArchiveFacts; head: Buffer }> {
  const label = name ?? 'the dump stream';
  let next: () => Promise<Buffer | null>;
  if (isNodeStream(stream)) {
    next = nodeStreamPuller(stream, label);
  } else {
    // No return() on the iterator: a generator stays resumable for the rest of the data.
    const iterator = stream[Symbol.asyncIterator]();
    next = async () => {
      const step = await iterator.next();
      return step.done ? null : toBuffer(step.value);
    };
  }
  return sniffChunks(next, { name: label });
}
