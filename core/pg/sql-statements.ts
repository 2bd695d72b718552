import { PsqlLexer } from './psql-lexer.js';

/**
 * Statements of a plain SQL dump, split where psql splits them: string literals, dollar-quoted
 * bodies, comments and COPY data never end a statement or look like one, and quoted identifiers keep
 * their spaces, quotes and dots. Used to learn what a plain dump creates without
 * guessing from lines (a COPY row or a function body may well read `CREATE SCHEMA x;`).
 */
export interface SqlStatement {
  /** The statement with literals, bodies and comments blanked to `''`; identifiers kept as written. */
  code: string;
}

/** The statement's text with its hidden parts replaced: literals by `''`, comments by a space. */
function codeOf(
  text: Buffer,
  start: number,
  hidden: readonly [number, number, 'literal' | 'comment'][],
): string {
  let code = '';
  let at = start;
  for (const [from, to, kind] of hidden) {
    if (from < at) continue;
    code += text.toString('utf8', at - start, from - start) + (kind === 'literal' ? "''" : ' ');
    at = to;
  }
  code += text.toString('utf8', at - start);
  return code.replace(/;\s*$/, '').trim();
}

/**
 * Splits a stream of SQL into statements exactly where psql does (psql-lexer.ts, the same reader
 * the script filter trusts), holding one statement at a time; COPY data and meta-commands are no
 * statements.
 */
export async function* sqlStatements(input: AsyncIterable<string | Buffer>): AsyncGenerator<SqlStatement> {
  let held: Buffer[] = [];
  let heldAt = 0;
  let offset = 0;
  let start: number | undefined;
  let hidden: [number, number, 'literal' | 'comment'][] = [];
  let ready: SqlStatement[] = [];
  const lexer = new PsqlLexer({
    statementStart: (at) => {
      start = at;
      hidden = [];
    },
    word: () => {},
    statementEnd: (end) => {
      if (start === undefined) return;
      const all = Buffer.concat(held);
      ready.push({ code: codeOf(all.subarray(start - heldAt, end - heldAt), start, hidden) });
      start = undefined;
    },
    metaStart: () => {},
    meta: () => {},
    variable: () => {},
    afterCopy: () => {},
    copyEnd: () => {},
    quoted: (from, to, kind) => {
      if (start !== undefined && from >= start) hidden.push([from, to, kind]);
    },
  });
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    held.push(bytes);
    lexer.write(bytes);
    offset += bytes.length;
    // Only the statement being read is kept.
    const keepFrom = start ?? offset;
    const all = Buffer.concat(held);
    held = [all.subarray(keepFrom - heldAt)];
    heldAt = keepFrom;
    yield* ready;
    ready = [];
  }
  lexer.end();
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
