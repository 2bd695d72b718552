import type { TocEntry } from '../../core/pg/archive-toc.js';
import {
  createDatabaseLike,
  planDatabaseProperties,
  quoteIdent,
} from '../../core/jobs/database-properties.js';

/**
 * The planner re-aims the archive's database-level statements at the target by replacing the one
 * token that names the database. Attacks: names and literals that look like the source name or like
 * statement ends, forged statements naming other databases or doing other things, grants by roles
 * the target lacks, quoting psql would read differently.
 */

const SOURCE = 'we"ird ü src';
const QS = quoteIdent(SOURCE);
const TARGET = `tgt "x" it's ü ${'y'.repeat(40)}`;
const QT = quoteIdent(TARGET);

function entries(props: string, acl = '', comment = ''): TocEntry[] {
  const out: TocEntry[] = [
    { dumpId: 1, desc: 'DATABASE', tag: SOURCE, owner: 'own er', definition: `CREATE DATABASE ${QS};` },
    { dumpId: 2, desc: 'DATABASE PROPERTIES', tag: SOURCE, owner: 'own er', definition: props },
  ];
  if (acl) out.push({ dumpId: 3, desc: 'ACL', tag: `DATABASE ${QS}`, definition: acl });
  if (comment) out.push({ dumpId: 4, desc: 'COMMENT', tag: `DATABASE ${QS}`, definition: comment });
  return out;
}

const ROLES = new Set(['own er', 'reader', 'postgres']);

function plan(e: TocEntry[], extra: { noOwner?: boolean; noPrivileges?: boolean; dataOnly?: boolean } = {}) {
  return planDatabaseProperties(e, { target: TARGET, roles: ROLES, ...extra });
}

describe('planDatabaseProperties', () => {
  it('re-aims settings, comment and grants at the target, keeping every literal byte for byte', () => {
    const comment = `COMMENT ON DATABASE ${QS} IS 'it''s ${SOURCE}; ALTER DATABASE ${QS} OWNER TO x; --';\n`;
    const p = plan(
      entries(
        `ALTER DATABASE ${QS} SET search_path TO '${SOURCE}', 'b''c';\nALTER ROLE reader IN DATABASE ${QS} SET work_mem TO '8MB';\n`,
        `GRANT CONNECT,TEMPORARY ON DATABASE ${QS} TO reader;\nREVOKE ALL ON DATABASE ${QS} FROM PUBLIC;\n`,
        comment,
      ),
    );
    expect(p.warnings).toEqual([]);
    expect(p.statements).toEqual([
      `ALTER DATABASE ${QT} OWNER TO "own er";`,
      `COMMENT ON DATABASE ${QT} IS 'it''s ${SOURCE}; ALTER DATABASE ${QS} OWNER TO x; --';`,
      `GRANT CONNECT,TEMPORARY ON DATABASE ${QT} TO reader;`,
      `REVOKE ALL ON DATABASE ${QT} FROM PUBLIC;`,
      `ALTER DATABASE ${QT} SET search_path TO '${SOURCE}', 'b''c';`,
      `ALTER ROLE reader IN DATABASE ${QT} SET work_mem TO '8MB';`,
    ]);
  });

  it('leaves out grants, role settings and an owner naming roles the target lacks, and says so', () => {
    const p = plan(
      [
        ...entries(
          `ALTER ROLE "gone 'r'" IN DATABASE ${QS} SET work_mem TO '8MB';\n`,
          `GRANT CREATE ON DATABASE ${QS} TO "gone 'r'";\nGRANT CONNECT ON DATABASE ${QS} TO reader WITH GRANT OPTION;\n`,
        ),
      ].map((e) => (e.desc === 'DATABASE' ? { ...e, owner: 'missing owner' } : e)),
    );
    expect(p.statements).toEqual([`GRANT CONNECT ON DATABASE ${QT} TO reader WITH GRANT OPTION;`]);
    expect(p.warnings).toHaveLength(3);
    expect(p.warnings.join('\n')).toContain(`role "gone 'r'" does not exist on the target server`);
    expect(p.warnings.join('\n')).toContain(`owner was left as it is: role "missing owner"`);
  });

  it('drops a grant block whose grantor is missing, and resets a switched session after a kept one', () => {
    const acl = [
      'SET SESSION AUTHORIZATION "gone";',
      `GRANT CONNECT ON DATABASE ${QS} TO reader;`,
      'RESET SESSION AUTHORIZATION;',
      'SET SESSION AUTHORIZATION reader;',
      `GRANT TEMPORARY ON DATABASE ${QS} TO PUBLIC;`,
    ].join('\n');
    const p = plan(entries('', acl));
    expect(p.statements.slice(1)).toEqual([
      'RESET SESSION AUTHORIZATION;',
      'SET SESSION AUTHORIZATION reader;',
      `GRANT TEMPORARY ON DATABASE ${QT} TO PUBLIC;`,
      'RESET SESSION AUTHORIZATION;',
    ]);
    expect(p.warnings.join('\n')).toContain('granted by role "gone"');
  });

  it.each([
    [`ALTER DATABASE other SET work_mem TO '1MB';`, 'does not name the dumped database'],
    [`GRANT CONNECT ON DATABASE ${quoteIdent(`${SOURCE} `)} TO reader;`, 'does not name the dumped database'],
    [`DROP TABLE public.t;`, 'not a database-level statement'],
    [`ALTER DATABASE ${QS} RENAME TO x;`, 'not a database-level statement'],
    [`ALTER DATABASE ${QS} IS_TEMPLATE = true;`, 'not made a template'],
    [`ALTER DATABASE ${QS} SET work_mem TO 'unclosed;`, 'quoting pgferry does not read'],
    [`ALTER DATABASE ${QS} SET work_mem TO $$x$$;`, 'quoting pgferry does not read'],
    [`ALTER DATABASE ${QS} SET work_mem TO /* ; */ '1MB';`, 'quoting pgferry does not read'],
    [`ALTER DATABASE ${QS} SET work_mem TO :evil;`, 'quoting pgferry does not read'],
    [`ALTER DATABASE ${QS} SET work_mem TO '1MB' \\! touch x`, 'quoting pgferry does not read'],
  ])('leaves out a forged or unknown statement: %s', (statement, why) => {
    const p = plan(entries(statement), { noOwner: true });
    expect(p.statements).toEqual([]);
    // A block comment hides a `;`: both halves are refused.
    expect(p.warnings.length).toBeGreaterThanOrEqual(1);
    for (const w of p.warnings) expect(w).toContain(why);
  });

  it('honours no-owner, no-privileges and data-only', () => {
    const e = entries(
      `ALTER DATABASE ${QS} SET work_mem TO '1MB';`,
      `GRANT CONNECT ON DATABASE ${QS} TO reader;`,
    );
    expect(plan(e, { noOwner: true, noPrivileges: true }).statements).toEqual([
      `ALTER DATABASE ${QT} SET work_mem TO '1MB';`,
    ]);
    expect(plan(e, { dataOnly: true })).toEqual({ statements: [], warnings: [] });
  });

  it('an archive without the database entries (a plain dump, another tool) yields nothing', () => {
    expect(plan([{ dumpId: 7, desc: 'TABLE', tag: 't', namespace: 'public' }])).toEqual({
      statements: [],
      warnings: [],
    });
  });

  it('reads an E string with escaped quotes as one literal', () => {
    const p = plan(entries(`COMMENT ON DATABASE ${QS} IS E'a\\'; DROP TABLE t; --';`));
    // A COMMENT inside DATABASE PROPERTIES is still a database-level statement on the source.
    expect(p.statements.slice(1)).toEqual([`COMMENT ON DATABASE ${QT} IS E'a\\'; DROP TABLE t; --';`]);
  });
});

describe('createDatabaseLike on servers older than the dump client', () => {
  // What pg_dump 15 writes for a 10–14 server whose collation and ctype agree.
  const created = (locale: string): TocEntry[] => [
    {
      dumpId: 1,
      desc: 'DATABASE',
      tag: SOURCE,
      owner: 'postgres',
      definition: `CREATE DATABASE ${QS} WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = ${locale};`,
    },
  ];

  it('keeps LOCALE from 13 on and drops the provider before 15', () => {
    expect(createDatabaseLike(created(`'C'`), TARGET, 13)).toBe(
      `CREATE DATABASE ${QT} WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE = 'C'`,
    );
  });

  it('spells LOCALE as LC_COLLATE and LC_CTYPE before 13, which lack it', () => {
    expect(createDatabaseLike(created(`'en_US.utf8'`), TARGET, 12)).toBe(
      `CREATE DATABASE ${QT} WITH TEMPLATE = template0 ENCODING = 'UTF8' LC_COLLATE = 'en_US.utf8' LC_CTYPE = 'en_US.utf8'`,
    );
    expect(createDatabaseLike(created(`'it''s'`), TARGET, 10)).toContain(
      `LC_COLLATE = 'it''s' LC_CTYPE = 'it''s'`,
    );
  });
});
