/**
 * Archive facts: what kind of PostgreSQL dump a file is and what its header says (archive version,
 * compression, source server and pg_dump versions, database, TOC size), read from the first bytes
 * only, without running pg_restore. Choosing a client major depends on these facts, so every read is
 * bounds-checked and anything that is not a dump ends in a PgferryError, never a crash.
 *
 * The public surface only; each concern lives in its own file under archive/.
 */
export type { ArchiveCompression, ArchiveFacts, ArchiveFormat, ArchiveHint } from './archive/facts.js';
export {
  compareArchiveVersions,
  lowestMajorReading,
  majorReads,
  maxArchiveVersionForMajor,
  type ArchiveReadFacts,
} from './archive/versions.js';
export { readArchiveFactsFromBuffer } from './archive/identify.js';
export { readArchiveFacts } from './archive/file.js';
export { readArchiveFactsFromStream } from './archive/stream.js';
