import { InputError } from '../errors.js';

/** pg_dump's output formats, by the names pgferry's `format` input uses. */
export const DUMP_FORMATS = ['custom', 'directory', 'tar', 'plain'] as const;
export type DumpFormat = (typeof DUMP_FORMATS)[number];

/** The letter pg_dump's `--format` takes for each format. */
export const FORMAT_LETTERS: Readonly<Record<DumpFormat, string>> = {
  custom: 'c',
  directory: 'd',
  tar: 't',
  plain: 'p',
};

/**
 * Parses `format`: a format name or pg_dump's one-letter alias, in any case. Empty means custom, the
 * one format that is compressed, selective at restore time and restorable in parallel from a file.
 */
export function parseFormat(raw: string | undefined, input = 'format'): DumpFormat {
  const text = (raw ?? '').trim();
  if (text === '') return 'custom';
  const wanted = text.toLowerCase();
  const format = DUMP_FORMATS.find((f) => f === wanted || FORMAT_LETTERS[f] === wanted);
  if (format === undefined) {
    throw new InputError(input, `"${text}" is not a dump format; expected custom, directory, tar or plain`);
  }
  return format;
}
