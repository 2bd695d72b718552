import type { ArchiveFacts } from '../pg/archive.js';
import { readTocEntries, type TocEntry } from '../pg/archive-toc.js';
import { PgferryError } from '../errors.js';
import { parseCopyHeader } from './copy-text.js';
import { checkRulesAgainst, tableKey, type MaskingRules } from './rules.js';

/**
 * Before anything touches the target: every rule must name a table whose data the archive holds
 * and a column of that data, read from the COPY statements of its table of contents. A plain dump
 * carries no table of contents; masking takes custom and directory archives.
 */
export async function checkRulesAgainstArchive(
  rules: MaskingRules,
  archive: ArchiveFacts,
  file: string,
): Promise<void> {
  if (archive.format === 'plain')
    throw new PgferryError(
      `masking-rules: ${file} is a plain SQL dump; masking needs a custom or directory archive (pg_dump -Fc or -Fd), whose table of contents names every table's columns`,
      { code: 'input' },
    );
  checkRulesAgainst(rules, tableColumnsOf(await readTocEntries(file, archive.format)));
}

/** By `tableKey`, the columns of each table whose data the entries hold, from its COPY statement. */
export function tableColumnsOf(
  entries: readonly TocEntry[],
  into = new Map<string, string[]>(),
): Map<string, string[]> {
  for (const e of entries) {
    if (e.desc !== 'TABLE DATA') continue;
    const header = e.copyStmt ? parseCopyHeader(e.copyStmt.trim()) : undefined;
    if (header) into.set(tableKey(header.schema, header.table), header.columns);
    else if (e.namespace) into.set(tableKey(e.namespace, e.tag), []);
  }
  return into;
}
