import { scratchStem } from '../../core/pg/scratch-database.js';
import type { ServerMajor } from './paths.js';
import { sql } from './testbed.js';

/** A database's own properties: comment, grants, connection limit and its settings (per role, in order). */
export interface DatabaseProps {
  comment: string | null;
  acl: string | null;
  datconnlimit: number;
  settings: string[] | null;
}

export async function databaseProps(major: ServerMajor, db: string): Promise<DatabaseProps | undefined> {
  const [props] = await sql<DatabaseProps>(
    major,
    'postgres',
    `SELECT shobj_description(d.oid, 'pg_database') AS comment, d.datacl::text AS acl, d.datconnlimit,
            (SELECT array_agg(s.setconfig::text ORDER BY s.setrole) FROM pg_db_role_setting s WHERE s.setdatabase = d.oid) AS settings
       FROM pg_database d WHERE d.datname = '${db}'`,
  );
  return props;
}

/** The swap's scratch databases for target `db` still on the server (none, once a swap has ended). */
export async function scratchesOf(major: ServerMajor, db: string): Promise<string[]> {
  const rows = await sql<{ datname: string }>(
    major,
    'postgres',
    `SELECT datname FROM pg_database WHERE left(datname, ${scratchStem(db).length}) = '${scratchStem(db)}' ORDER BY 1`,
  );
  return rows.map((r) => r.datname);
}
