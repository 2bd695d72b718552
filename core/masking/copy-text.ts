/**
 * PostgreSQL's COPY text format, one data line at a time: fields split on unescaped tabs, `\N`
 * for NULL, backslash escapes for control characters. Decoding is what the server does on input,
 * encoding what pg_dump writes, so a field a transformer leaves alone comes back byte for byte.
 */

/** One row's fields; null is SQL NULL. */
export type CopyRow = (string | null)[];

const DECODE: Readonly<Record<string, string>> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Splits a data line (without its newline) into decoded fields. */
export function decodeCopyLine(line: string): CopyRow {
  return line.split('\t').map(decodeCopyField);
}

export function decodeCopyField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i] as string;
    if (c !== '\\' || i + 1 >= field.length) {
      out += c;
      continue;
    }
    const next = field[i + 1] as string;
    const octal = /^[0-7]{1,3}/.exec(field.slice(i + 1, i + 4));
    const hex = /^x([0-9a-fA-F]{1,2})/.exec(field.slice(i + 1, i + 4));
    if (octal) {
      out += String.fromCharCode(parseInt(octal[0], 8) & 0xff);
      i += octal[0].length;
    } else if (hex) {
      out += String.fromCharCode(parseInt(hex[1] as string, 16));
      i += hex[0].length;
    } else {
      // `\\` and any other escaped character stand for that character, as on the server.
      out += DECODE[next] ?? next;
      i++;
    }
  }
  return out;
}

const ENCODE: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

export function encodeCopyField(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/[\\\b\f\n\r\t\v]/g, (c) => ENCODE[c] as string);
}

export function encodeCopyLine(row: CopyRow): string {
  return row.map(encodeCopyField).join('\t');
}

/**
 * The column list of a `COPY schema.table (a, "b c") FROM stdin;` line as pg_dump writes it, with
 * identifiers unquoted; undefined when the line is not such a statement.
 */
export function parseCopyHeader(
  line: string,
): { schema: string; table: string; columns: string[] } | undefined {
  const m =
    /^COPY ((?:"(?:[^"]|"")*"|[^\s."(]+)\.(?:"(?:[^"]|"")*"|[^\s."(]+)) (?:\((.*)\) )?FROM stdin;\s*$/.exec(
      line,
    );
  if (!m) return undefined;
  const [schema, table] = splitIdentifiers(m[1] as string);
  if (schema === undefined || table === undefined) return undefined;
  return { schema, table, columns: m[2] === undefined ? [] : splitIdentifiers(m[2], ',') };
}

/** Splits `a.b` or `"x, y", z` into unquoted identifiers. */
export function splitIdentifiers(text: string, separator = '.'): string[] {
  const parts: string[] = [];
  let at = 0;
  while (at <= text.length) {
    while (text[at] === ' ') at++;
    let name = '';
    if (text[at] === '"') {
      let end = at + 1;
      for (;;) {
        const q = text.indexOf('"', end);
        if (q === -1) throw new Error(`unterminated quoted identifier in ${text}`);
        if (text[q + 1] === '"') {
          name += text.slice(end, q) + '"';
          end = q + 2;
          continue;
        }
        name += text.slice(end, q);
        at = q + 1;
        break;
      }
    } else {
      const stop = text.indexOf(separator, at);
      const end = stop === -1 ? text.length : stop;
      name = text.slice(at, end).trim();
      at = end;
    }
    parts.push(name);
    while (text[at] === ' ') at++;
    if (at >= text.length) break;
    if (text[at] !== separator) throw new Error(`unexpected ${text[at]} in ${text}`);
    at++;
  }
  return parts;
}
