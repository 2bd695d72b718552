import { PgferryError } from '../../errors.js';

/** One member of a Unix `ar` archive (the container of a `.deb`). */
export interface ArMember {
  name: string;
  data: Buffer;
}

const MAGIC = '!<arch>\n';
const HEADER = 60;

/**
 * The members of a common-format `ar` archive: an 8-byte magic, then per member a 60-byte text
 * header (name 16, mtime 12, uid 6, gid 6, mode 8, size 10, "`\n") and its data padded to even.
 * `what` names the file in errors.
 */
export function readArMembers(archive: Buffer, what: string): ArMember[] {
  if (archive.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) {
    throw new PgferryError(`${what} is not an ar archive (no "!<arch>" magic)`);
  }
  const members: ArMember[] = [];
  let at = MAGIC.length;
  while (at < archive.length) {
    if (at + HEADER > archive.length) throw new PgferryError(`${what} ends inside a member header`);
    const header = archive.subarray(at, at + HEADER).toString('latin1');
    if (header.slice(58, 60) !== '`\n') throw new PgferryError(`${what} has a corrupt member header`);
    const sizeText = header.slice(48, 58).trim();
    if (!/^\d+$/.test(sizeText)) throw new PgferryError(`${what} has a member of unreadable size`);
    const size = Number(sizeText);
    const start = at + HEADER;
    if (start + size > archive.length) throw new PgferryError(`${what} is truncated inside a member`);
    // GNU ar ends short names with "/"; BSD's "#1/" long names do not occur in .deb files.
    const name = header.slice(0, 16).trim().replace(/\/$/, '');
    members.push({ name, data: archive.subarray(start, start + size) });
    at = start + size + (size % 2);
  }
  return members;
}
