import { Transform, type TransformCallback } from 'node:stream';
import { OutOfBytes } from '../pg/archive/header-reader.js';
import { parseToc, type TocEntry } from '../pg/archive-toc.js';
import { databaseName, type ConnectionSpec } from '../pg/connection.js';
import { withClient } from '../pg/server.js';
import type { Logger } from '../log.js';

/**
 * Database-level properties: the source database's owner, its `ALTER DATABASE … SET` and
 * `ALTER ROLE … IN DATABASE … SET` settings, its comment and its grants. pg_dump writes them into
 * every custom, directory and tar archive (entries DATABASE, DATABASE PROPERTIES and COMMENT / ACL
 * tagged `DATABASE <name>`, with or without --create), but pg_restore runs them only with --create,
 * which would create a database of the *source's* name. pgferry restores without --create into the
 * target it chose and applies these statements itself, re-aimed at the target: each statement is
 * tokenized, the one token naming the database is replaced by the target's quoted name, the rest is
 * kept byte for byte. Plain dumps carry none of this unless made with --create, and such a script
 * creates and connects to the source's name itself, so pgferry's plain dumps stay without them.
 */

export interface PropertyOptions {
  /** The database the statements are applied to (any legal name). */
  target: string;
  noOwner?: boolean;
  noPrivileges?: boolean;
  dataOnly?: boolean;
  /** Roles that exist on the target server (pg_roles.rolname). */
  roles: ReadonlySet<string>;
  /** Whether the restoring user may give the database to this role; omitted: yes. */
  mayGiveTo?: (role: string) => boolean;
}

export interface PropertyPlan {
  /** Statements to run on the target, in one transaction, each ending in `;`. */
  statements: string[];
  /** Why a statement was left out: a missing role, a kind pgferry does not carry. */
  warnings: string[];
}

interface Token {
  text: string;
  start: number;
  end: number;
  /** Unquoted words upper-cased (keywords); '' for anything else. */
  word: string;
  /** The identifier named: quoted ones unescaped, unquoted ones folded (ASCII only, as the server does). */
  ident?: string;
}

// Whitespace and comments, quoted identifiers, literals (standard and E''), words, numbers, one character.
const TOKEN =
  /(\s+|--[^\n]*)|("(?:[^"]|"")*")|([Ee]'(?:[^'\\]|''|\\.)*'|'(?:[^']|'')*')|([A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*)|(\d+(?:\.\d+)?|.)/suy;

/** Characters that, outside a literal or quoted name, psql would read as more than themselves. */
const UNSAFE = ["'", '"', '\\', '$', '/', ':'];

/** Splits SQL into statements of significant tokens; literals and quoted names never split one. */
function statementsOf(sql: string): { text: string; tokens: Token[] }[] {
  const out: { text: string; tokens: Token[] }[] = [];
  let tokens: Token[] = [];
  let from = 0;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(sql); m; m = TOKEN.exec(sql)) {
    const start = m.index;
    const end = TOKEN.lastIndex;
    if (m[1] !== undefined) continue;
    if (m[5] === ';') {
      if (tokens.length) out.push({ text: sql.slice(from, start), tokens });
      tokens = [];
      from = end;
      continue;
    }
    const token: Token = { text: m[0], start: start - from, end: end - from, word: '' };
    if (m[2] !== undefined) token.ident = m[2].slice(1, -1).replace(/""/g, '"');
    if (m[4] !== undefined) {
      token.word = m[4].toUpperCase();
      token.ident = m[4].replace(/[A-Z]/g, (c) => c.toLowerCase());
    }
    tokens.push(token);
  }
  if (tokens.length) out.push({ text: sql.slice(from), tokens });
  return out;
}

type Kind = 'setting' | 'connection limit' | 'template' | 'owner' | 'comment' | 'grant' | 'session';

interface Shape {
  kind: Kind;
  /** Index of the token naming the database. */
  db?: number;
  /** Indexes of tokens naming roles (never PUBLIC). */
  roles: number[];
}

/** Role names of a grantee list starting at `at`, up to the clause that ends it. */
function granteeRoles(t: Token[], at: number): number[] {
  const roles: number[] = [];
  for (let i = at; i < t.length; i++) {
    const w = t[i]?.word ?? '';
    if (['WITH', 'CASCADE', 'RESTRICT'].includes(w)) break;
    if (w === 'GRANTED' && t[i + 1]?.word === 'BY') {
      roles.push(i + 2);
      break;
    }
    if (t[i]?.text === ',' || w === 'PUBLIC' || w === 'GROUP') continue;
    roles.push(i);
  }
  return roles;
}

function shapeOf(t: Token[]): Shape | undefined {
  const w = (i: number): string => t[i]?.word ?? '';
  if (w(0) === 'ALTER' && w(1) === 'DATABASE') {
    const after = w(3);
    if (after === 'SET' || after === 'RESET') return { kind: 'setting', db: 2, roles: [] };
    if (after === 'CONNECTION' && w(4) === 'LIMIT') return { kind: 'connection limit', db: 2, roles: [] };
    if (after === 'IS_TEMPLATE') return { kind: 'template', db: 2, roles: [] };
    if (after === 'OWNER' && w(4) === 'TO') return { kind: 'owner', db: 2, roles: [5] };
    return undefined;
  }
  if (w(0) === 'ALTER' && (w(1) === 'ROLE' || w(1) === 'USER') && w(3) === 'IN' && w(4) === 'DATABASE') {
    if (w(6) === 'SET' || w(6) === 'RESET') return { kind: 'setting', db: 5, roles: [2] };
    return undefined;
  }
  if (w(0) === 'COMMENT' && w(1) === 'ON' && w(2) === 'DATABASE' && w(4) === 'IS')
    return { kind: 'comment', db: 3, roles: [] };
  if (w(0) === 'GRANT' || w(0) === 'REVOKE') {
    const on = t.findIndex((x, i) => x.word === 'ON' && w(i + 1) === 'DATABASE');
    const to = t.findIndex((x, i) => i > on && x.word === (w(0) === 'GRANT' ? 'TO' : 'FROM'));
    if (on < 0 || to !== on + 3) return undefined;
    return { kind: 'grant', db: on + 2, roles: granteeRoles(t, to + 1) };
  }
  if (w(0) === 'SET' && w(1) === 'SESSION' && w(2) === 'AUTHORIZATION')
    return { kind: 'session', roles: [3] };
  if (w(0) === 'RESET' && w(1) === 'SESSION' && w(2) === 'AUTHORIZATION')
    return { kind: 'session', roles: [] };
  return undefined;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function brief(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 120 ? `${one.slice(0, 117)}…` : one;
}

/**
 * The statements that give the target the source database's properties, from an archive's TOC.
 * An archive without the database's entries (a plain dump, another tool) yields none.
 */
export function planDatabaseProperties(entries: readonly TocEntry[], o: PropertyOptions): PropertyPlan {
  const plan: PropertyPlan = { statements: [], warnings: [] };
  if (o.dataOnly) return plan;
  const database = entries.find((e) => e.desc === 'DATABASE' || e.desc === 'DATABASE PROPERTIES');
  if (!database) return plan;
  const source = database.tag;
  const target = quoteIdent(o.target);
  const missing = (name: string): string => `role ${quoteIdent(name)} does not exist on the target server`;

  const owner = entries.find((e) => e.desc === 'DATABASE')?.owner;
  if (owner && !o.noOwner) {
    if (!o.roles.has(owner)) plan.warnings.push(`the database's owner was left as it is: ${missing(owner)}`);
    else if (o.mayGiveTo && !o.mayGiveTo(owner))
      plan.warnings.push(
        `the database's owner was left as it is: giving it to ${quoteIdent(owner)} needs superuser, or CREATEDB and membership of that role`,
      );
    else plan.statements.push(`ALTER DATABASE ${target} OWNER TO ${quoteIdent(owner)};`);
  }
  // pg_dump's order: comment, grants, then settings; a grant block may switch the session's role.
  const kinds = ['COMMENT', 'ACL', 'DATABASE PROPERTIES'];
  const chosen = kinds.flatMap((k) => entries.filter((e) => e.desc === k && e.definition !== undefined));
  for (const entry of chosen) {
    if (entry.desc === 'ACL' && o.noPrivileges) continue;
    let skipBlock: string | undefined;
    let switched = false;
    for (const s of statementsOf(entry.definition ?? '')) {
      const shape = shapeOf(s.tokens);
      const what = brief(s.text);
      // psql reads the result: an unclosed quote, a dollar quote, a block comment, a variable or a
      // meta-command outside a literal could make it read something other than what was checked here.
      if (s.tokens.some((t) => t.text.length === 1 && UNSAFE.includes(t.text))) {
        plan.warnings.push(`left out "${what}": it has quoting pgferry does not read`);
        continue;
      }
      if (!shape) {
        plan.warnings.push(`left out "${what}": not a database-level statement pgferry carries`);
        continue;
      }
      if (shape.kind === 'session') {
        const role = s.tokens[shape.roles[0] ?? -1]?.ident;
        skipBlock = role !== undefined && !o.roles.has(role) ? role : undefined;
        switched = role !== undefined && skipBlock === undefined;
        if (skipBlock === undefined) plan.statements.push(`${s.text.trim()};`);
        continue;
      }
      if (skipBlock !== undefined) {
        plan.warnings.push(`left out "${what}": it was granted by ${missing(skipBlock)}`);
        continue;
      }
      if (shape.kind === 'template') {
        // A template database cannot be dropped, which a later clean restore or swap needs.
        plan.warnings.push(`left out "${what}": a restored database is not made a template`);
        continue;
      }
      if (shape.kind === 'owner' && o.noOwner) continue;
      const newOwner = shape.kind === 'owner' ? s.tokens[shape.roles[0] ?? -1]?.ident : undefined;
      if (newOwner !== undefined && o.mayGiveTo && !o.mayGiveTo(newOwner)) {
        plan.warnings.push(`left out "${what}": the restoring user may not give the database to that role`);
        continue;
      }
      const dbToken = shape.db === undefined ? undefined : s.tokens[shape.db];
      if (!dbToken || dbToken.ident !== source) {
        plan.warnings.push(`left out "${what}": it does not name the dumped database ${quoteIdent(source)}`);
        continue;
      }
      const roles = shape.roles.map((i) => s.tokens[i]?.ident);
      const absent = roles.findIndex((r) => r === undefined || !o.roles.has(r));
      if (absent >= 0) {
        const role = roles[absent];
        plan.warnings.push(`left out "${what}": ${role === undefined ? 'it names no role' : missing(role)}`);
        continue;
      }
      plan.statements.push(`${s.text.slice(0, dbToken.start)}${target}${s.text.slice(dbToken.end)};`.trim());
    }
    if (switched) plan.statements.push('RESET SESSION AUTHORIZATION;');
  }
  return plan;
}

/** Only the options that decide what is carried, from a larger options object. */
export function propertyOptionsOf(o: {
  noOwner?: boolean;
  noPrivileges?: boolean;
  dataOnly?: boolean;
}): Omit<PropertyOptions, 'target' | 'roles'> {
  return { noOwner: o.noOwner, noPrivileges: o.noPrivileges, dataOnly: o.dataOnly };
}

interface TargetRoles {
  roles: Set<string>;
  /** Roles the restoring user may give the database to. */
  givable: Set<string>;
  /** Whether the restoring user owns the target database (or is superuser): settings, comment and grants need it. */
  owns: boolean;
}

/** Which roles exist on the target server and what the restoring user may do to the database. */
async function targetRoles(target: ConnectionSpec): Promise<TargetRoles> {
  return withClient(target, 'to', async (c) => {
    const r = await c.query<{ rolname: string; givable: boolean; owns: boolean }>(
      `SELECT r.rolname,
              me.rolsuper OR (me.rolcreatedb AND pg_catalog.pg_has_role(me.oid, r.oid, 'MEMBER')) AS givable,
              me.rolsuper OR pg_catalog.pg_has_role(me.oid, d.datdba, 'MEMBER') AS owns
         FROM pg_catalog.pg_roles r,
              pg_catalog.pg_roles me,
              pg_catalog.pg_database d
        WHERE me.rolname = current_user AND d.datname = current_database()`,
    );
    return {
      roles: new Set(r.rows.map((row) => row.rolname)),
      givable: new Set(r.rows.filter((row) => row.givable).map((row) => row.rolname)),
      owns: r.rows.some((row) => row.owns),
    };
  });
}

/**
 * The SQL an apply runs after the archive, in its transaction where the path allows: read lazily,
 * so a streamed archive's TOC can be taken from the bytes that went by. Warns about what was left out.
 */
export function databasePropertiesSql(o: {
  entries: () => Promise<readonly TocEntry[]>;
  target: ConnectionSpec;
  options: Omit<PropertyOptions, 'target' | 'roles'>;
  log: Logger;
}): () => Promise<string> {
  return async () => {
    const entries = await o.entries();
    const roles = await targetRoles(o.target);
    const plan = planDatabaseProperties(entries, {
      ...o.options,
      target: databaseName(o.target),
      roles: roles.roles,
      mayGiveTo: (role) => roles.givable.has(role),
    });
    if (plan.statements.length && !roles.owns) {
      // As before this feature: a user restoring into a database someone else owns is not refused.
      o.log.warn(
        `database properties of the dump not applied to ${quoteIdent(databaseName(o.target))}: the restoring user does not own it`,
      );
      return '';
    }
    for (const w of plan.warnings) o.log.warn(`database properties: ${w}`);
    if (plan.statements.length)
      o.log.info(
        `applying the dumped database's owner, settings, comment and grants to ${quoteIdent(databaseName(o.target))} (${plan.statements.length} statement(s))`,
      );
    if (!plan.statements.length) return '';
    // The archive's script may have left the session under another role (--use-set-session-authorization).
    return ['RESET ROLE;', 'RESET SESSION AUTHORIZATION;', ...plan.statements].map((s) => `${s}\n`).join('');
  };
}

/** Beyond this a streamed archive's TOC is not kept, and its database properties are not carried. */
const MAX_STREAMED_TOC = 64 * 1024 * 1024;

/**
 * Passes a custom archive through while keeping its first bytes, where pg_dump writes the TOC, so
 * that the database's entries can be read once the stream has gone by.
 */
export class TocPrefix extends Transform {
  private chunks: Buffer[] = [];
  private kept = 0;
  constructor(
    private readonly label: string,
    private readonly kind: 'custom' | 'tar' = 'custom',
  ) {
    super();
  }
  record(chunk: Buffer): void {
    if (this.kept >= MAX_STREAMED_TOC) return;
    const part = chunk.subarray(0, MAX_STREAMED_TOC - this.kept);
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.record(chunk);
    done(null, chunk);
  }
  /** The TOC entries seen; none (with a warning) when the TOC did not fit. */
  entries(log: Logger): TocEntry[] {
    try {
      return parseToc(Buffer.concat(this.chunks), this.kind, this.label);
    } catch (error) {
      if (!(error instanceof OutOfBytes)) throw error;
      log.warn(
        `database properties of ${this.label} not carried: its table of contents is larger than ${MAX_STREAMED_TOC / 1024 / 1024} MiB`,
      );
      return [];
    }
  }
}

/**
 * CREATE DATABASE options and the server major that first knew them. pg_dump writes
 * `LOCALE_PROVIDER = libc` for every server, also those before 15, which refuse the word; before 15
 * libc was the only provider, so leaving such an option out there changes nothing.
 */
const OPTION_SINCE: Record<string, number> = {
  LOCALE_PROVIDER: 15,
  ICU_LOCALE: 15,
  COLLATION_VERSION: 15,
  STRATEGY: 15,
  OID: 15,
  ICU_RULES: 16,
  BUILTIN_LOCALE: 17,
};

/**
 * The `CREATE DATABASE` pg_dump wrote for the dumped database (template0, encoding, locale provider,
 * collations, tablespace: whatever that server version records), aimed at `target` on a server of
 * `serverMajor` (options it does not know left out). Undefined when the archive has none, or when it
 * holds anything but words, literals, quoted names and `=`.
 */
export function createDatabaseLike(
  entries: readonly TocEntry[],
  target: string,
  serverMajor: number,
): string | undefined {
  const entry = entries.find((e) => e.desc === 'DATABASE');
  const statement = statementsOf(entry?.definition ?? '').find(
    (s) => s.tokens[0]?.word === 'CREATE' && s.tokens[1]?.word === 'DATABASE',
  );
  const name = statement?.tokens[2];
  if (!statement || !entry || name?.ident !== entry.tag) return undefined;
  const options = statement.tokens.slice(3);
  const plain = options.every(
    (t) => t.word !== '' || /^([Ee]?'|")/.test(t.text) || t.text === '=' || /^\d/.test(t.text),
  );
  if (!plain) return undefined;
  const kept: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const option = options[i] as Token;
    const since = OPTION_SINCE[option.word];
    const hasValue = options[i + 1]?.text === '=' && options[i + 2] !== undefined;
    if (since !== undefined && serverMajor < since && hasValue) {
      i += 2;
      continue;
    }
    // pg_dump writes LOCALE when collation and ctype agree; servers before 13 know only the pair.
    if (option.word === 'LOCALE' && serverMajor < 13 && hasValue) {
      const value = (options[i + 2] as Token).text;
      kept.push(`LC_COLLATE = ${value} LC_CTYPE = ${value}`);
      i += 2;
      continue;
    }
    kept.push(option.text);
  }
  return [statement.text.slice(0, name.start).trim(), quoteIdent(target), ...kept].join(' ');
}
