import type pg from 'pg';

/**
 * What a database holds, catalog by catalog: every object made after initdb (oid 16384 and up),
 * keyed by catalog and oid, with a fingerprint of the properties a restore could change (owner,
 * grants, definition), a description in PostgreSQL's own words and the statement that drops it.
 * Taken before a parallel restore into an existing database, it tells afterwards exactly which
 * objects the restore made (undo-new-objects.ts).
 */
export interface CatalogObject {
  catalog: string;
  oid: string;
  fingerprint: string;
  /** `pg_describe_object`, e.g. `table "my schema".t`: names quoted as SQL quotes them. */
  label: string;
  /** Undefined for what goes only with its owner (comments). */
  drop?: string;
  /** Puts the object back as it was when the snapshot was taken (a table's row security). */
  restore?: string;
  /** The schema (oid) the object lives in, or the schema of the table it belongs to. */
  schema?: string;
  /** Goes with another object (an extension's member, a table's row type, a constraint's index). */
  internal: boolean;
}

export type CatalogSnapshot = ReadonlyMap<string, CatalogObject>;

export const snapshotKey = (o: Pick<CatalogObject, 'catalog' | 'oid'>): string => `${o.catalog}:${o.oid}`;

/** One catalog: its rows as (oid, fp, drop, nsp), from `FROM`-and-`WHERE` text aliased `t`. */
interface CatalogQuery {
  catalog: string;
  /** The catalog whose pg_depend / pg_describe_object class this is (a view's base catalog). */
  classOf?: string;
  fingerprint: string;
  drop: string | null;
  /** SQL giving the statement that puts the object back as it is now, where a restore may change it. */
  restore?: string;
  schema: string | null;
  from: string;
  oid?: string;
  since?: number;
  /** The first major whose catalog no longer fits this query (another entry takes over there). */
  before?: number;
}

const rel = (oid: string) =>
  `(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ${oid})`;
const relSchema = (oid: string) => `(SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.oid = ${oid})`;
const nspName = (oid: string) => `(SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = ${oid})`;
const row = 'md5(t::text)';

const DEFAULT_ACL_KINDS = `CASE t.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
  WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' WHEN 'L' THEN 'LARGE OBJECTS' END`;

/**
 * A default-privileges entry is the difference from the built-in defaults: revoking what it grants
 * (and, for one of no schema, granting back the built-in owner and PUBLIC rights) makes PostgreSQL
 * delete it.
 */
const DROP_DEFAULT_ACL = `(SELECT string_agg(format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s REVOKE ALL ON %s FROM %s',
      pg_catalog.pg_get_userbyid(t.defaclrole),
      CASE WHEN t.defaclnamespace = 0 THEN '' ELSE format(' IN SCHEMA %I', ${nspName('t.defaclnamespace')}) END,
      ${DEFAULT_ACL_KINDS},
      CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END), '; ')
    || CASE WHEN t.defaclnamespace <> 0 THEN '' ELSE
         format('; ALTER DEFAULT PRIVILEGES FOR ROLE %1$I GRANT ALL ON %2$s TO %1$I', pg_catalog.pg_get_userbyid(t.defaclrole), ${DEFAULT_ACL_KINDS})
         || CASE t.defaclobjtype WHEN 'f' THEN format('; ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT EXECUTE ON FUNCTIONS TO PUBLIC', pg_catalog.pg_get_userbyid(t.defaclrole))
              WHEN 'T' THEN format('; ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT USAGE ON TYPES TO PUBLIC', pg_catalog.pg_get_userbyid(t.defaclrole))
              ELSE '' END END
  FROM pg_catalog.aclexplode(t.defaclacl) a)`;

/**
 * Post-data statements change tables they do not make (row security, replica identity): the
 * statement that sets them back as they were.
 */
const RESTORE_TABLE = `CASE WHEN t.relkind IN ('r', 'p') THEN format('ALTER TABLE %I.%I %s ROW LEVEL SECURITY, %s ROW LEVEL SECURITY, REPLICA IDENTITY %s',
    ${nspName('t.relnamespace')}, t.relname,
    CASE WHEN t.relrowsecurity THEN 'ENABLE' ELSE 'DISABLE' END, CASE WHEN t.relforcerowsecurity THEN 'FORCE' ELSE 'NO FORCE' END,
    CASE t.relreplident WHEN 'n' THEN 'NOTHING' WHEN 'f' THEN 'FULL' WHEN 'i' THEN 'USING INDEX ' || quote_ident((SELECT ic.relname
      FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = t.oid AND i.indisreplident))
    ELSE 'DEFAULT' END) END`;

const CATALOGS: readonly CatalogQuery[] = [
  {
    catalog: 'pg_namespace',
    fingerprint: 'md5(row(t.nspname, t.nspowner, t.nspacl)::text)',
    drop: "format('DROP SCHEMA %I CASCADE', t.nspname)",
    schema: null,
    // Temporary schemas come and go with other sessions: never the restore's.
    from: "pg_catalog.pg_namespace t WHERE t.nspname !~ '^pg_(toast|temp_|toast_temp_)'",
  },
  {
    catalog: 'pg_class',
    // Not the whole row: relpages, reltuples and frozen xids move by themselves.
    fingerprint:
      'md5(row(t.relname, t.relnamespace, t.relowner, t.relacl, t.reloptions, t.relkind, t.relrowsecurity, t.relforcerowsecurity, t.relreplident)::text)',
    restore: RESTORE_TABLE,
    drop: `format('DROP %s %I.%I CASCADE', CASE t.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
      WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' WHEN 'i' THEN 'INDEX' WHEN 'I' THEN 'INDEX'
      WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END, ${nspName('t.relnamespace')}, t.relname)`,
    schema: 't.relnamespace',
    from: "pg_catalog.pg_class t WHERE t.relkind <> 't' AND t.relpersistence <> 't' AND t.relnamespace <> 'pg_toast'::pg_catalog.regnamespace",
  },
  // prokind came with procedures in 11; before it, proisagg told aggregates from functions.
  ...(
    [
      [
        "CASE t.prokind WHEN 'a' THEN 'AGGREGATE' WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END",
        11,
        undefined,
      ],
      ["CASE WHEN t.proisagg THEN 'AGGREGATE' ELSE 'FUNCTION' END", undefined, 11],
    ] as const
  ).map(([kind, since, before]): CatalogQuery => ({
    catalog: 'pg_proc',
    fingerprint: row,
    drop: `format('DROP %s %I.%I(%s) CASCADE', ${kind},
      ${nspName('t.pronamespace')}, t.proname, pg_catalog.pg_get_function_identity_arguments(t.oid))`,
    schema: 't.pronamespace',
    from: 'pg_catalog.pg_proc t',
    since,
    before,
  })),
  {
    catalog: 'pg_type',
    fingerprint: row,
    drop: `format('DROP %s %I.%I CASCADE', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, ${nspName('t.typnamespace')}, t.typname)`,
    schema: 't.typnamespace',
    from: 'pg_catalog.pg_type t',
  },
  {
    catalog: 'pg_operator',
    fingerprint: row,
    drop: `format('DROP OPERATOR %I.%s (%s, %s) CASCADE', ${nspName('t.oprnamespace')}, t.oprname,
      CASE WHEN t.oprleft = 0 THEN 'NONE' ELSE pg_catalog.format_type(t.oprleft, NULL) END,
      CASE WHEN t.oprright = 0 THEN 'NONE' ELSE pg_catalog.format_type(t.oprright, NULL) END)`,
    schema: 't.oprnamespace',
    from: 'pg_catalog.pg_operator t',
  },
  ...(['pg_opclass:opc:CLASS', 'pg_opfamily:opf:FAMILY'] as const).map((spec): CatalogQuery => {
    const [catalog, p, kind] = spec.split(':') as [string, string, string];
    return {
      catalog,
      fingerprint: row,
      drop: `format('DROP OPERATOR ${kind} %I.%I USING %I CASCADE', ${nspName(`t.${p}namespace`)}, t.${p}name,
        (SELECT am.amname FROM pg_catalog.pg_am am WHERE am.oid = t.${p === 'opc' ? 'opcmethod' : 'opfmethod'}))`,
      schema: `t.${p}namespace`,
      from: `pg_catalog.${catalog} t`,
    };
  }),
  ...(
    [
      'pg_collation:coll:COLLATION',
      'pg_conversion:con:CONVERSION',
      'pg_ts_parser:prs:TEXT SEARCH PARSER',
      'pg_ts_dict:dict:TEXT SEARCH DICTIONARY',
      'pg_ts_template:tmpl:TEXT SEARCH TEMPLATE',
      'pg_ts_config:cfg:TEXT SEARCH CONFIGURATION',
      'pg_statistic_ext:stx:STATISTICS',
    ] as const
  ).map((spec): CatalogQuery => {
    const [catalog, p, kind] = spec.split(':') as [string, string, string];
    return {
      catalog,
      fingerprint: row,
      drop: `format('DROP ${kind} %I.%I CASCADE', ${nspName(`t.${p}namespace`)}, t.${p}name)`,
      schema: `t.${p}namespace`,
      from: `pg_catalog.${catalog} t`,
    };
  }),
  ...(
    [
      'pg_extension:extname:EXTENSION',
      'pg_event_trigger:evtname:EVENT TRIGGER',
      'pg_publication:pubname:PUBLICATION',
      'pg_foreign_data_wrapper:fdwname:FOREIGN DATA WRAPPER',
      'pg_foreign_server:srvname:SERVER',
      'pg_am:amname:ACCESS METHOD',
      'pg_language:lanname:LANGUAGE',
    ] as const
  ).map((spec): CatalogQuery => {
    const [catalog, name, kind] = spec.split(':') as [string, string, string];
    return {
      catalog,
      fingerprint: row,
      drop: `format('DROP ${kind} %I CASCADE', t.${name})`,
      schema: null,
      from: `pg_catalog.${catalog} t`,
    };
  }),
  {
    catalog: 'pg_subscription',
    // Readable columns only (subconninfo is not); pg_dump makes subscriptions without a slot connection.
    fingerprint: 'md5(row(t.subname, t.subowner, t.subenabled)::text)',
    drop: "format('ALTER SUBSCRIPTION %1$I DISABLE; ALTER SUBSCRIPTION %1$I SET (slot_name = NONE); DROP SUBSCRIPTION %1$I', t.subname)",
    schema: null,
    from: '(SELECT oid, subname, subowner, subenabled, subdbid FROM pg_catalog.pg_subscription) t WHERE t.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database())',
  },
  {
    catalog: 'pg_user_mappings',
    classOf: 'pg_user_mapping',
    // The view, which anyone may read; the catalog itself is the superuser's.
    oid: 't.umid',
    fingerprint: 'md5(row(t.umuser, t.srvid, t.umoptions)::text)',
    drop: "format('DROP USER MAPPING FOR %s SERVER %I', CASE WHEN t.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(t.usename) END, t.srvname)",
    schema: null,
    from: 'pg_catalog.pg_user_mappings t',
  },
  {
    catalog: 'pg_cast',
    fingerprint: row,
    drop: "format('DROP CAST (%s AS %s) CASCADE', pg_catalog.format_type(t.castsource, NULL), pg_catalog.format_type(t.casttarget, NULL))",
    schema: null,
    from: 'pg_catalog.pg_cast t',
  },
  {
    catalog: 'pg_transform',
    fingerprint: row,
    drop: "format('DROP TRANSFORM FOR %s LANGUAGE %I CASCADE', pg_catalog.format_type(t.trftype, NULL), (SELECT l.lanname FROM pg_catalog.pg_language l WHERE l.oid = t.trflang))",
    schema: null,
    from: 'pg_catalog.pg_transform t',
  },
  {
    catalog: 'pg_largeobject_metadata',
    // Large objects are addressed by pg_largeobject's class, in pg_depend and pg_describe_object alike.
    classOf: 'pg_largeobject',
    fingerprint: row,
    drop: "format('SELECT pg_catalog.lo_unlink(%s)', t.oid)",
    schema: null,
    from: 'pg_catalog.pg_largeobject_metadata t',
  },
  ...(
    [
      'pg_policy:polname:polrelid:POLICY',
      'pg_rewrite:rulename:ev_class:RULE',
      'pg_trigger:tgname:tgrelid:TRIGGER',
    ] as const
  ).map((spec): CatalogQuery => {
    const [catalog, name, table, kind] = spec.split(':') as [string, string, string, string];
    return {
      catalog,
      fingerprint: row,
      drop: `format('DROP ${kind} %I ON %s CASCADE', t.${name}, ${rel(`t.${table}`)})`,
      schema: relSchema(`t.${table}`),
      from: `pg_catalog.${catalog} t`,
    };
  }),
  {
    catalog: 'pg_constraint',
    fingerprint: row,
    drop: `CASE WHEN t.conrelid <> 0 THEN format('ALTER TABLE %s DROP CONSTRAINT %I CASCADE', ${rel('t.conrelid')}, t.conname)
      ELSE format('ALTER DOMAIN %s DROP CONSTRAINT %I CASCADE', t.contypid::pg_catalog.regtype, t.conname) END`,
    schema: 't.connamespace',
    from: 'pg_catalog.pg_constraint t',
  },
  {
    catalog: 'pg_attrdef',
    fingerprint: row,
    drop: `format('ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT', ${rel('t.adrelid')},
      (SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.adrelid AND a.attnum = t.adnum))`,
    schema: relSchema('t.adrelid'),
    from: 'pg_catalog.pg_attrdef t',
  },
  {
    catalog: 'pg_default_acl',
    fingerprint: row,
    drop: DROP_DEFAULT_ACL,
    schema: 'NULLIF(t.defaclnamespace, 0)',
    from: 'pg_catalog.pg_default_acl t',
  },
  {
    catalog: 'pg_publication_rel',
    fingerprint: row,
    drop: `format('ALTER PUBLICATION %I DROP TABLE %s', (SELECT p.pubname FROM pg_catalog.pg_publication p WHERE p.oid = t.prpubid), ${rel('t.prrelid')})`,
    schema: relSchema('t.prrelid'),
    from: 'pg_catalog.pg_publication_rel t',
  },
  {
    catalog: 'pg_publication_namespace',
    fingerprint: row,
    drop: `format('ALTER PUBLICATION %I DROP TABLES IN SCHEMA %I', (SELECT p.pubname FROM pg_catalog.pg_publication p WHERE p.oid = t.pnpubid), ${nspName('t.pnnspid')})`,
    schema: 't.pnnspid',
    from: 'pg_catalog.pg_publication_namespace t',
    since: 15,
  },
];

/**
 * Dependencies that make an object part of another: it cannot be dropped alone and goes when its
 * owner goes (internal, extension, partition dependencies).
 */
const INTERNAL_DEPTYPES = "('i', 'e', 'x', 'P', 'S')";

function catalogSelect(q: CatalogQuery): string {
  const oid = q.oid ?? 't.oid';
  const cls = `'pg_catalog.${q.classOf ?? q.catalog}'::pg_catalog.regclass`;
  const where = q.from.includes(' WHERE ') ? ' AND ' : ' WHERE ';
  return `SELECT '${q.catalog}' AS catalog, ${oid}::text AS oid, ${q.fingerprint} AS fp,
      coalesce(pg_catalog.pg_describe_object(${cls}, ${oid}, 0), '${q.catalog} ' || ${oid}::text) AS label,
      ${q.drop ?? 'NULL'} AS drop, ${q.restore ?? 'NULL'} AS restore, (${q.schema ?? 'NULL'})::text AS schema,
      EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = ${cls} AND d.objid = ${oid}
              AND d.deptype IN ${INTERNAL_DEPTYPES}) AS internal
    FROM ${q.from}${where}${oid} >= 16384`;
}

/** Comments belong to objects: tracked for changes to objects that were there, never dropped alone. */
const COMMENTS = `SELECT 'pg_description' AS catalog, d.classoid || '.' || d.objoid || '.' || d.objsubid AS oid,
    md5(d.description) AS fp,
    'comment on ' || coalesce(pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid), d.objoid::text) AS label,
    NULL AS drop, NULL AS restore, NULL AS schema, true AS internal
  FROM pg_catalog.pg_description d WHERE d.objoid >= 16384`;

/** The query that lists a database's objects on a server of `major`. */
export function snapshotQuery(major: number): string {
  const parts = CATALOGS.filter((q) => (q.since ?? 0) <= major && major < (q.before ?? Infinity)).map(
    catalogSelect,
  );
  return [...parts, COMMENTS].join('\nUNION ALL\n');
}

/** Reads the snapshot through `client` (in its transaction, when it has one). */
export async function takeSnapshot(client: pg.Client, major: number): Promise<Map<string, CatalogObject>> {
  const { rows } = await client.query<{
    catalog: string;
    oid: string;
    fp: string;
    label: string;
    drop: string | null;
    restore: string | null;
    schema: string | null;
    internal: boolean;
  }>(snapshotQuery(major));
  const out = new Map<string, CatalogObject>();
  for (const r of rows) {
    const o: CatalogObject = {
      catalog: r.catalog,
      oid: r.oid,
      fingerprint: r.fp,
      label: r.label,
      internal: r.internal,
      ...(r.drop !== null ? { drop: r.drop } : {}),
      ...(r.restore !== null ? { restore: r.restore } : {}),
      ...(r.schema !== null ? { schema: r.schema } : {}),
    };
    out.set(snapshotKey(o), o);
  }
  return out;
}

export interface SnapshotDifference {
  /** In `now`, not in `before`: what was made since. */
  added: CatalogObject[];
  /** In `before`, gone from `now`. */
  removed: CatalogObject[];
  /** In both, with another fingerprint: changed since (owner, grants, definition, comment). */
  changed: CatalogObject[];
}

export function compareSnapshots(before: CatalogSnapshot, now: CatalogSnapshot): SnapshotDifference {
  const added = [...now.values()].filter((o) => !before.has(snapshotKey(o)));
  const removed = [...before.values()].filter((o) => !now.has(snapshotKey(o)));
  const changed = [...now.values()].filter((o) => {
    const old = before.get(snapshotKey(o));
    return old !== undefined && old.fingerprint !== o.fingerprint;
  });
  return { added, removed, changed };
}
