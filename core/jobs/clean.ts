import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ArchiveFacts } from '../pg/archive.js';
import { readTocEntries, type TocEntry } from '../pg/archive-toc.js';
import type { ConnectionSpec } from '../pg/connection.js';
import { withClient } from '../pg/server.js';
import { createdObject, sqlStatements } from '../pg/sql-statements.js';

/**
 * `clean` replaces what the dump carries: its schemas (public included, recreated as initdb makes
 * it) and, when it has large objects, the target's large objects. pgferry does this itself, in the
 * same transaction as the restore, because pg_restore --clean fails on partitioned tables (it drops
 * a partition's inherited constraint before its parent's) and would run in a transaction of its own.
 */
export interface DumpContents {
  schemas: string[];
  usesPublic: boolean;
  largeObjects: boolean;
  /**
   * Objects of no schema the dump creates (publications, foreign data wrappers and servers, user
   * mappings, transforms, access methods, event triggers), as drop statements: a restore over an
   * earlier copy would otherwise fail with "already exists".
   */
  unschemaed: string[];
}

const SYSTEM_SCHEMA = /^(pg_.*|information_schema)$/;

/**
 * Kinds that belong to no schema, in the order they are dropped: event triggers first (they would
 * fire on the drops that follow), then what depends on others before what it depends on.
 */
const UNSCHEMAED_KINDS = [
  'EVENT TRIGGER',
  'PUBLICATION',
  'USER MAPPING',
  'SERVER',
  'FOREIGN DATA WRAPPER',
  'TRANSFORM',
  'ACCESS METHOD',
] as const;

/**
 * pg_dump's own drop statement (`DROP SERVER "s";`) made `IF EXISTS`. No CASCADE: an object of the
 * target that the dump does not carry but that depends on one of these must fail the restore, not
 * vanish with it.
 */
function dropIfExists(kind: string, dropStmt: string): string | undefined {
  const text = dropStmt.trim();
  const head = `DROP ${kind} `;
  if (!text.startsWith(head) || !text.endsWith(';')) return undefined;
  return `DROP ${kind} IF EXISTS ${text.slice(head.length)}`;
}

function orderUnschemaed(found: { kind: string; drop: string }[]): string[] {
  return UNSCHEMAED_KINDS.flatMap((kind) => found.filter((f) => f.kind === kind).map((f) => f.drop));
}

/** From an archive's table of contents, read from the archive itself (names are never split). */
export async function archiveContents(
  archive: string,
  format: 'custom' | 'tar' | 'directory',
): Promise<DumpContents> {
  return contentsOfToc(await readTocEntries(archive, format));
}

export function contentsOfToc(entries: readonly TocEntry[]): DumpContents {
  const schemas = new Set<string>();
  let usesPublic = false;
  let largeObjects = false;
  const unschemaed: { kind: string; drop: string }[] = [];
  for (const e of entries) {
    if (e.desc === 'SCHEMA' && !SYSTEM_SCHEMA.test(e.tag) && e.tag !== 'public') schemas.add(e.tag);
    if (e.namespace === 'public' || (e.desc === 'SCHEMA' && e.tag === 'public')) usesPublic = true;
    if (/^(BLOB|BLOBS|BLOB METADATA|LARGE OBJECTS?)$/.test(e.desc)) largeObjects = true;
    const kind = UNSCHEMAED_KINDS.find((k) => k === e.desc);
    const drop = kind && e.dropStmt ? dropIfExists(kind, e.dropStmt) : undefined;
    if (kind && drop) unschemaed.push({ kind, drop });
  }
  return { schemas: [...schemas], usesPublic, largeObjects, unschemaed: orderUnschemaed(unschemaed) };
}

/** From a plain SQL dump (read once as a stream of statements; gzip too). */
export async function plainContents(file: string, facts: ArchiveFacts): Promise<DumpContents> {
  const raw: Readable = createReadStream(file);
  const text = facts.compression === 'gzip' ? raw.pipe(createGunzip()) : raw;
  const schemas = new Set<string>();
  let usesPublic = false;
  let largeObjects = false;
  const unschemaed: { kind: string; drop: string }[] = [];
  for await (const statement of sqlStatements(text)) {
    const created = createdObject(statement);
    if (created && 'drop' in created) unschemaed.push({ kind: created.kind, drop: created.drop });
    else if (created?.name === 'public') usesPublic = true;
    else if (created && !SYSTEM_SCHEMA.test(created.name)) schemas.add(created.name);
    // pg_dump qualifies every object it creates; a public one names the schema outside any literal.
    if (!usesPublic && /(^|[\s(,])public\./.test(statement.code)) usesPublic = true;
    if (!largeObjects && /\blo_create\(/.test(statement.code)) largeObjects = true;
  }
  return { schemas: [...schemas], usesPublic, largeObjects, unschemaed: orderUnschemaed(unschemaed) };
}

/**
 * The objects of no schema pg_dump would dump from a database: made by users (not initdb, oid
 * 16384 and up) and not members of an extension; each with its drop statement.
 */
const UNSCHEMAED_IN_CATALOG = `
  WITH o AS (
    SELECT 'EVENT TRIGGER' AS kind, 'pg_event_trigger'::regclass AS cls, oid,
           format('DROP EVENT TRIGGER IF EXISTS %I;', evtname) AS drop FROM pg_event_trigger
    UNION ALL SELECT 'PUBLICATION', 'pg_publication'::regclass, oid,
           format('DROP PUBLICATION IF EXISTS %I;', pubname) FROM pg_publication
    UNION ALL SELECT 'USER MAPPING', 'pg_user_mapping'::regclass, um.oid,
           format('DROP USER MAPPING IF EXISTS FOR %s SERVER %I;',
                  CASE WHEN um.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(um.umuser)) END, s.srvname)
           FROM pg_user_mapping um JOIN pg_foreign_server s ON s.oid = um.umserver
    UNION ALL SELECT 'SERVER', 'pg_foreign_server'::regclass, oid,
           format('DROP SERVER IF EXISTS %I;', srvname) FROM pg_foreign_server
    UNION ALL SELECT 'FOREIGN DATA WRAPPER', 'pg_foreign_data_wrapper'::regclass, oid,
           format('DROP FOREIGN DATA WRAPPER IF EXISTS %I;', fdwname) FROM pg_foreign_data_wrapper
    UNION ALL SELECT 'TRANSFORM', 'pg_transform'::regclass, t.oid,
           format('DROP TRANSFORM IF EXISTS FOR %s LANGUAGE %I;', format_type(t.trftype, NULL), l.lanname)
           FROM pg_transform t JOIN pg_language l ON l.oid = t.trflang
    UNION ALL SELECT 'ACCESS METHOD', 'pg_am'::regclass, oid,
           format('DROP ACCESS METHOD IF EXISTS %I;', amname) FROM pg_am
  )
  SELECT kind, drop FROM o
  WHERE oid >= 16384
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.cls AND d.objid = o.oid AND d.deptype = 'e')`;

/** From the source database of a copy, limited to the schemas it selects. */
export async function databaseContents(
  source: ConnectionSpec,
  onlySchemas: readonly string[],
): Promise<DumpContents> {
  return withClient(source, 'from', async (c) => {
    const { rows } = await c.query<{ n: string }>(
      "SELECT nspname AS n FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'",
    );
    const all = rows.map((r) => r.n).filter((n) => onlySchemas.length === 0 || onlySchemas.includes(n));
    const lo = await c.query('SELECT 1 FROM pg_largeobject_metadata LIMIT 1');
    // pg_dump leaves objects of no schema out when it dumps selected schemas only.
    const unschemaed =
      onlySchemas.length === 0
        ? (await c.query<{ kind: string; drop: string }>(UNSCHEMAED_IN_CATALOG)).rows
        : [];
    return {
      schemas: all.filter((n) => n !== 'public'),
      usesPublic: all.includes('public'),
      largeObjects: (lo.rowCount ?? 0) > 0,
      unschemaed: orderUnschemaed(unschemaed),
    };
  });
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** SQL run first, in the restore's own transaction. */
export function cleanPrelude(contents: DumpContents, targetMajor: number): string {
  const triggers = contents.unschemaed.filter((d) => d.startsWith('DROP EVENT TRIGGER '));
  const lines = [...triggers, ...contents.schemas.map((s) => `DROP SCHEMA IF EXISTS ${ident(s)} CASCADE;`)];
  if (contents.usesPublic) {
    lines.push('DROP SCHEMA IF EXISTS public CASCADE;');
    // As initdb leaves it: owned by pg_database_owner and USAGE for all from 15 on, CREATE too before.
    lines.push(
      targetMajor >= 15
        ? 'CREATE SCHEMA public AUTHORIZATION pg_database_owner; GRANT USAGE ON SCHEMA public TO PUBLIC;'
        : 'CREATE SCHEMA public; GRANT ALL ON SCHEMA public TO PUBLIC;',
    );
    lines.push("COMMENT ON SCHEMA public IS 'standard public schema';");
  }
  if (contents.largeObjects)
    lines.push('SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata;');
  lines.push(...contents.unschemaed.filter((d) => !triggers.includes(d)));
  return `-- pgferry clean: replace what the dump carries\n${lines.join('\n')}\n`;
}
