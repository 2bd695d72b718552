import type pg from 'pg';

/**
 * The coverage report: columns of a database that look personal — by their name, or by what a
 * bounded sample of their values looks like — and that no masking rule covers, so that a column
 * added in production does not reach staging unmasked without anyone noticing. It reads the
 * catalog and at most `sampleRows` rows per table; it never stores or returns a value.
 */

export interface ColumnRef {
  schema: string;
  table: string;
  column: string;
}

export interface UncoveredColumn extends ColumnRef {
  /** schema.table.column, each part quoted where SQL would need it. */
  key: string;
  /** Why it looks personal, e.g. `its name reads as e-mail` or `values look like IBANs (12 of 12 sampled)`. */
  reason: string;
}

export interface CoverageOptions {
  /** Rows read per table for the content checks (default 200). */
  sampleRows?: number;
  /** Tables whose rows never reach the target (truncated, excluded): nothing of them is reported. */
  skipTables?: Iterable<{ schema: string; table: string }>;
}

/** What a column name says, token by token: `firstName`, `first_name`, `FIRST-NAME` read alike. */
const NAME_SIGNS: readonly [what: string, sign: RegExp][] = [
  ['e-mail', /email|(^|_)(e_mail|mail)(_|$)/],
  ['phone', /phone|mobile|(^|_)(tel|cell|fax|msisdn)(_|$)/],
  ['a person’s name', /(first|last|full|given|family|middle|maiden|sur|fore)_?name/],
  ['address', /address|street|zip_?code|post_?code|postal_?code|(^|_)(addr|zip)(_|$)/],
  ['birth date', /birth|(^|_)dob(_|$)/],
  ['social security number', /(^|_)ssn(_|$)|social_?security/],
  ['passport', /passport/],
  ['IBAN', /iban/],
  ['card number', /credit_?card|card_?(number|no|num)|(^|_)(card|cc)(_|$)/],
  ['token', /token/],
  ['secret', /secret/],
  ['password', /pass_?(word|wd|phrase)|(^|_)pwd(_|$)/],
  ['IP address', /(^|_)(ip|ipv4|ipv6|ipaddr|ipaddress)(_|$)/],
];

export function nameTokens(column: string): string {
  return column
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .join('_');
}

/** The personal kinds a column's name suggests (none for most). */
export function personalByName(column: string): string[] {
  const tokens = nameTokens(column);
  return NAME_SIGNS.filter(([, sign]) => sign.test(tokens)).map(([what]) => what);
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

function ibanChecks(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  const digits = moved.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rest = 0;
  for (const d of digits) rest = (rest * 10 + Number(d)) % 97;
  return rest === 1;
}

const DATE_LIKE = /^\d{1,4}[-./]\d{1,2}[-./]\d{1,4}/;

/** What single values look like; each test is strict enough that ids and dates do not pass. */
const VALUE_SIGNS: readonly [what: string, looks: (v: string) => boolean][] = [
  ['e-mail addresses', (v) => /^[^\s@]+@[^\s@]+\.[^\s@.]{2,}$/.test(v)],
  [
    'phone numbers',
    (v) => {
      if (!/^\+?[\d\s().-]+$/.test(v) || DATE_LIKE.test(v)) return false;
      const digits = v.replace(/\D/g, '').length;
      return digits >= 7 && digits <= 15 && (v.startsWith('+') || /\d[\s().-]+\d/.test(v));
    },
  ],
  [
    'IBANs',
    (v) => {
      const compact = v.replace(/\s/g, '').toUpperCase();
      return /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact) && ibanChecks(compact);
    },
  ],
  [
    'card numbers',
    (v) => {
      const digits = v.replace(/[\s-]/g, '');
      return /^[\d\s-]+$/.test(v) && /^\d{13,19}$/.test(digits) && luhn(digits);
    },
  ],
];

/** A column is flagged by content when at least half of its sampled values look alike. */
export function personalByValues(values: readonly string[]): string | undefined {
  const sampled = values.map((v) => v.trim()).filter(Boolean);
  if (sampled.length === 0) return undefined;
  for (const [what, looks] of VALUE_SIGNS) {
    const hits = sampled.filter(looks).length;
    if (hits * 2 >= sampled.length) return `values look like ${what} (${hits} of ${sampled.length} sampled)`;
  }
  return undefined;
}

interface CatalogColumn extends ColumnRef {
  texty: boolean;
  inet: boolean;
}

// Tables whose rows a dump carries: not partitions (their parent is sampled and ruled), not
// members of an extension, not in the system schemas.
const COLUMNS_SQL = `
  SELECT n.nspname AS schema, c.relname AS table, a.attname AS column,
         t.typcategory = 'S' AS texty, t.typname IN ('inet', 'cidr') AS inet
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
   WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
     AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
   ORDER BY n.nspname, c.relname, a.attnum`;

const refId = (schema: string, table: string, column = ''): string => JSON.stringify([schema, table, column]);

/** `public.users.email`; `"my schema"."Users".email` where a part needs quotes. */
export function columnKey(client: pg.Client, ref: ColumnRef): string {
  const part = (p: string) => (/^[a-z_][a-z0-9_$]*$/.test(p) ? p : client.escapeIdentifier(p));
  return [ref.schema, ref.table, ref.column].map(part).join('.');
}

/** Up to `rows` rows of the given text columns of one table, read-only, never waiting on a lock. */
async function sampleTable(
  client: pg.Client,
  schema: string,
  table: string,
  columns: readonly string[],
  rows: number,
): Promise<Map<string, string[]> | string> {
  const id = (n: string) => client.escapeIdentifier(n);
  const list = columns.map((c, i) => `${id(c)}::text AS c${i}`).join(', ');
  await client.query('SAVEPOINT pgferry_sample');
  try {
    const result = await client.query<Record<string, string | null>>(
      `SELECT ${list} FROM ${id(schema)}.${id(table)} LIMIT ${rows}`,
    );
    await client.query('RELEASE SAVEPOINT pgferry_sample');
    return new Map(columns.map((c, i) => [c, result.rows.flatMap((r) => r[`c${i}`] ?? [])]));
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT pgferry_sample');
    return (error as Error).message;
  }
}

function byTable(columns: readonly CatalogColumn[]): Map<string, CatalogColumn[]> {
  const tables = new Map<string, CatalogColumn[]>();
  for (const c of columns)
    tables.set(refId(c.schema, c.table), [...(tables.get(refId(c.schema, c.table)) ?? []), c]);
  return tables;
}

/** Reasons by name first; the columns left that hold text are sampled, table by table. */
async function reasonsOf(
  client: pg.Client,
  columns: readonly CatalogColumn[],
  rows: number,
): Promise<Map<CatalogColumn, string>> {
  const reasons = new Map<CatalogColumn, string>();
  const toSample: CatalogColumn[] = [];
  for (const c of columns) {
    const named = personalByName(c.column);
    if (named.length) reasons.set(c, `its name reads as ${named.join(', ')}`);
    else if (c.inet) reasons.set(c, 'it holds IP addresses (inet)');
    else if (c.texty) toSample.push(c);
  }
  for (const group of byTable(toSample).values()) {
    const { schema, table } = group[0] as CatalogColumn;
    const sample = await sampleTable(
      client,
      schema,
      table,
      group.map((c) => c.column),
      rows,
    );
    for (const c of group) {
      const reason = typeof sample === 'string' ? undefined : personalByValues(sample.get(c.column) ?? []);
      if (typeof sample === 'string') reasons.set(c, `its values could not be sampled (${sample})`);
      else if (reason) reasons.set(c, reason);
    }
  }
  return reasons;
}

/**
 * The columns that look personal and have no rule, in catalog order. `ruledColumns` are the
 * columns the masking rules cover, by their exact (unquoted) names. It runs in a read-only
 * transaction of its own, so `client` must not be inside one; a table it may not read (or that a
 * lock holds for 5 s) is reported column by column as not sampled rather than passed over.
 */
export async function personalColumnsWithoutRule(
  client: pg.Client,
  ruledColumns: Iterable<ColumnRef>,
  options: CoverageOptions = {},
): Promise<UncoveredColumn[]> {
  const ruled = new Set([...ruledColumns].map((r) => refId(r.schema, r.table, r.column)));
  const skipped = new Set([...(options.skipTables ?? [])].map((t) => refId(t.schema, t.table)));
  await client.query("BEGIN READ ONLY; SET LOCAL lock_timeout = '5s'");
  try {
    const { rows } = await client.query<CatalogColumn>(COLUMNS_SQL);
    const open = rows.filter(
      (c) => !ruled.has(refId(c.schema, c.table, c.column)) && !skipped.has(refId(c.schema, c.table)),
    );
    const reasons = await reasonsOf(client, open, Math.max(1, Math.floor(options.sampleRows ?? 200)));
    return open.flatMap((c) => {
      const reason = reasons.get(c);
      const ref = { schema: c.schema, table: c.table, column: c.column };
      return reason === undefined ? [] : [{ ...ref, key: columnKey(client, ref), reason }];
    });
  } finally {
    await client.query('COMMIT').catch(() => {});
  }
}
