import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ArchiveFacts } from '../pg/archive.js';
import { toolPath, type ClientTools } from '../pg/client-tools.js';
import type { ConnectionSpec } from '../pg/connection.js';
import { runTool } from '../pg/run.js';
import { withClient } from '../pg/server.js';

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
}

const SYSTEM_SCHEMA = /^(pg_.*|information_schema)$/;

/** From an archive's table of contents. */
export async function archiveContents(client: ClientTools, archive: string): Promise<DumpContents> {
  const { stdout } = await runTool({
    file: toolPath(client, 'pg_restore'),
    args: ['--list', archive],
    stdout: 'capture',
  });
  return contentsOfList(stdout);
}

/** `pg_restore --list` lines: `<id>; <catalog> <oid> <TYPE> <schema> <name> <owner>`. */
export function contentsOfList(list: string): DumpContents {
  const schemas = new Set<string>();
  let usesPublic = false;
  let largeObjects = false;
  for (const line of list.split('\n')) {
    if (line.startsWith(';')) continue;
    const schema = /^\d+; \d+ \d+ SCHEMA - (\S+) /.exec(line)?.[1];
    if (schema && !SYSTEM_SCHEMA.test(schema) && schema !== 'public') schemas.add(schema);
    if (/^\d+; \d+ \d+ [A-Z ]+ public /.test(line)) usesPublic = true;
    if (/^\d+; \d+ \d+ (BLOB|BLOBS|BLOB METADATA|LARGE OBJECTS?) /.test(line)) largeObjects = true;
  }
  return { schemas: [...schemas], usesPublic, largeObjects };
}

/** From a plain SQL dump (read once, line by line; gzip too). */
export async function plainContents(file: string, facts: ArchiveFacts): Promise<DumpContents> {
  const raw: Readable = createReadStream(file);
  const text = facts.compression === 'gzip' ? raw.pipe(createGunzip()) : raw;
  const schemas = new Set<string>();
  let usesPublic = false;
  let largeObjects = false;
  for await (const line of createInterface({ input: text, crlfDelay: Infinity })) {
    const schema = /^CREATE SCHEMA ("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*);/i.exec(line)?.[1];
    if (schema) schemas.add(schema.startsWith('"') ? schema.slice(1, -1).replace(/""/g, '"') : schema);
    if (!usesPublic && /\bpublic\./.test(line)) usesPublic = true;
    if (!largeObjects && /lo_create\(/.test(line)) largeObjects = true;
  }
  return { schemas: [...schemas].filter((s) => !SYSTEM_SCHEMA.test(s)), usesPublic, largeObjects };
}

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
    return {
      schemas: all.filter((n) => n !== 'public'),
      usesPublic: all.includes('public'),
      largeObjects: (lo.rowCount ?? 0) > 0,
    };
  });
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** SQL run first, in the restore's own transaction. */
export function cleanPrelude(contents: DumpContents, targetMajor: number): string {
  const lines = contents.schemas.map((s) => `DROP SCHEMA IF EXISTS ${ident(s)} CASCADE;`);
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
  return `-- pgferry clean: replace what the dump carries\n${lines.join('\n')}\n`;
}
