/**
 * Statements of a plain SQL dump, read as PostgreSQL's lexer would split them: string literals,
 * dollar-quoted bodies, comments and COPY data never end a statement or look like one, and quoted
 * identifiers keep their spaces, quotes and dots. Used to learn what a plain dump creates without
 * guessing from lines (a COPY row or a function body may well read `CREATE SCHEMA x;`).
 */
export interface SqlStatement {
  /** The statement with literals, bodies and comments blanked to `''`; identifiers kept as written. */
  code: string;
}

type Mode =
  'code' | 'string' | 'escape-string' | 'identifier' | 'line-comment' | 'block-comment' | 'dollar' | 'copy';

/** Splits a stream of SQL text into statements, holding one statement's code at a time (not COPY data). */
export async function* sqlStatements(input: AsyncIterable<string | Buffer>): AsyncGenerator<SqlStatement> {
  let mode: Mode = 'code';
  let code = '';
  let depth = 0; // nested block comments
  let tag = ''; // the open dollar quote's tag, `$body$`
  let pending = ''; // text carried to the next chunk (a possible dollar tag, a COPY data line)
  let atStatementStart = true;
  let meta = false; // a psql meta-command line (\connect, \restrict …) at statement start

  const decoder = new TextDecoder();
  for await (const chunk of input) {
    const text = pending + (typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    pending = '';
    let i = 0;
    while (i < text.length) {
      const c = text[i] ?? '';
      const next = text[i + 1];
      if (mode === 'copy') {
        const eol = text.indexOf('\n', i);
        if (eol === -1) {
          pending = text.slice(i);
          break;
        }
        if (text.slice(i, eol).replace(/\r$/, '') === '\\.') mode = 'code';
        i = eol + 1;
        continue;
      }
      if (meta) {
        if (c === '\n') meta = false;
        i++;
        continue;
      }
      switch (mode) {
        case 'code': {
          if (atStatementStart && /\s/.test(c)) {
            i++;
            continue;
          }
          if (atStatementStart && c === '\\') {
            meta = true;
            i++;
            continue;
          }
          if ((c === '-' || c === '/') && next === undefined) {
            pending = c; // maybe the start of a comment, cut by the chunk boundary
            i++;
            continue;
          }
          atStatementStart = false;
          if (c === "'") {
            const escape = /(^|[^\w$])[eE]$/.test(code);
            mode = escape ? 'escape-string' : 'string';
            code += "''";
          } else if (c === '"') {
            mode = 'identifier';
            code += c;
          } else if (c === '-' && next === '-') {
            mode = 'line-comment';
            i++;
          } else if (c === '/' && next === '*') {
            mode = 'block-comment';
            depth = 1;
            i++;
          } else if (c === '$' && !/[\w$]$/.test(code)) {
            const m = /^\$([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(text.slice(i, i + 70));
            if (m) {
              mode = 'dollar';
              tag = m[0];
              code += "''";
              i += tag.length;
              continue;
            }
            if (text.length - i < 70 && /^\$[\w\u0080-\uffff]*$/.test(text.slice(i))) {
              pending = text.slice(i); // a tag cut by the chunk boundary
              i = text.length;
              continue;
            }
            code += c;
          } else if (c === ';') {
            const statement = code.trim();
            code = '';
            atStatementStart = true;
            if (statement) {
              yield { code: statement };
              if (/^COPY\b[^]*\bFROM\s+stdin\b/i.test(statement)) mode = 'copy';
            }
          } else code += c;
          i++;
          break;
        }
        case 'string':
        case 'escape-string':
          if (mode === 'escape-string' && c === '\\') {
            if (next === undefined) pending = c;
            i += 2;
          } else if (c === "'") {
            if (next === "'") i += 2;
            else if (next === undefined) {
              pending = c; // cannot tell '' from the end yet
              i++;
            } else {
              mode = 'code';
              i++;
            }
          } else i++;
          break;
        case 'identifier':
          code += c;
          if (c === '"') {
            if (next === '"') {
              code += next;
              i += 2;
              continue;
            }
            if (next === undefined) {
              code = code.slice(0, -1);
              pending = c;
              i++;
              continue;
            }
            mode = 'code';
          }
          i++;
          break;
        case 'line-comment':
          if (c === '\n') mode = 'code';
          i++;
          break;
        case 'block-comment':
          if ((c === '/' || c === '*') && next === undefined) {
            pending = c; // half of an opening or closing mark
            i++;
          } else if (c === '/' && next === '*') {
            depth++;
            i += 2;
          } else if (c === '*' && next === '/') {
            depth--;
            i += 2;
            if (depth === 0) mode = 'code';
          } else i++;
          break;
        case 'dollar':
          if (c === '$' && text.startsWith(tag, i)) {
            mode = 'code';
            i += tag.length;
          } else if (c === '$' && text.length - i < tag.length && tag.startsWith(text.slice(i))) {
            pending = text.slice(i);
            i = text.length;
          } else i++;
          break;
      }
    }
  }
  const last = code.trim();
  if (last && mode === 'code') yield { code: last };
}

interface Token {
  /** As written, quotes included. */
  raw: string;
  /** The identifier it names: unquoted and unescaped, or folded to lower case. */
  name: string;
}

function tokens(code: string): Token[] {
  const out: Token[] = [];
  const re = /\s*("(?:[^"]|"")*"|[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*|\S)/y;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const raw = m[1] ?? '';
    out.push({ raw, name: raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toLowerCase() });
  }
  return out;
}

export type CreatedObject = { kind: 'SCHEMA'; name: string } | { kind: string; name: string; drop: string };

const SIMPLE_KINDS: readonly (readonly string[])[] = [
  ['PUBLICATION'],
  ['SERVER'],
  ['FOREIGN', 'DATA', 'WRAPPER'],
  ['ACCESS', 'METHOD'],
  ['EVENT', 'TRIGGER'],
];

/**
 * What a `CREATE` statement of a plain dump creates, when it is a schema or an object of no schema;
 * with the statement that drops it again (if it exists), built from the names as written.
 */
export function createdObject(statement: SqlStatement): CreatedObject | undefined {
  const t = tokens(statement.code);
  const word = (i: number): string => (t[i]?.raw.startsWith('"') ? '' : (t[i]?.raw.toUpperCase() ?? ''));
  if (word(0) !== 'CREATE') return undefined;
  if (word(1) === 'SCHEMA') {
    const at = word(2) === 'IF' ? 5 : 2;
    const name = t[at];
    return name && word(at) !== 'AUTHORIZATION' ? { kind: 'SCHEMA', name: name.name } : undefined;
  }
  for (const kind of SIMPLE_KINDS) {
    if (!kind.every((w, k) => word(1 + k) === w)) continue;
    const name = t[1 + kind.length];
    if (!name) return undefined;
    const desc = kind.join(' ');
    return { kind: desc, name: name.name, drop: `DROP ${desc} IF EXISTS ${name.raw};` };
  }
  if (word(1) === 'USER' && word(2) === 'MAPPING' && word(3) === 'FOR' && word(5) === 'SERVER') {
    const role = t[4];
    const server = t[6];
    if (!role || !server) return undefined;
    return {
      kind: 'USER MAPPING',
      name: `${role.name} ${server.name}`,
      drop: `DROP USER MAPPING IF EXISTS FOR ${role.raw} SERVER ${server.raw};`,
    };
  }
  if (word(1) === 'TRANSFORM' && word(2) === 'FOR') {
    const language = t.findIndex((_, i) => i > 3 && word(i) === 'LANGUAGE');
    const lang = t[language + 1];
    if (language < 0 || !lang) return undefined;
    const type = t
      .slice(3, language)
      .map((x) => x.raw)
      .join(' ');
    return {
      kind: 'TRANSFORM',
      name: `${type} ${lang.name}`,
      drop: `DROP TRANSFORM IF EXISTS FOR ${type} LANGUAGE ${lang.raw};`,
    };
  }
  return undefined;
}
