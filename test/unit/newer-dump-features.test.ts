import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseJobOptions } from '../../core/options.js';
import { pgDumpArgs, pgRestoreArgs } from '../../core/pg/args.js';
import { splitExtraArgs, checkExtraArgs } from '../../core/pg/extra-args.js';
import { filterFileArgs, parseFilterText, readFilterFile } from '../../core/pg/filter-file.js';
import { ScriptFilter } from '../../core/pg/script-filter.js';
import { parseTransactionSize } from '../../core/pg/transaction-size.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pgferry-newer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { format: 'custom' as const, compression: { algorithm: 'none' as const }, file: 'out.dump' };
const dumpArgs = (
  clientMajor: number,
  extra: Parameters<typeof pgDumpArgs>[0] extends infer T ? Partial<T> : never,
) => pgDumpArgs({ ...base, clientMajor, ...extra });
const parse = (inputs: Record<string, string>) => parseJobOptions((name) => inputs[name], {});

describe('statistics, no-policies and sequence-data: pg_dump 18 flags gated on the client', () => {
  it.each([
    [{ statistics: true }, '--statistics'],
    [{ statistics: false }, '--no-statistics'],
    [{ statistics: 'when-supported' as const }, '--statistics'],
    [{ noPolicies: true }, '--no-policies'],
    [{ sequenceData: true }, '--sequence-data'],
  ])('%j gives %s with pg_dump 18', (extra, flag) => {
    expect(dumpArgs(18, extra)).toContain(flag);
  });

  it.each([
    [
      { statistics: true },
      /^statistics: needs pg_dump --statistics, which PostgreSQL 18\+ clients have; the client chosen is 17/,
    ],
    [{ noPolicies: true }, /^no-policies: needs pg_dump --no-policies, which PostgreSQL 18\+/],
    [{ sequenceData: true }, /^sequence-data: needs pg_dump --sequence-data, which PostgreSQL 18\+/],
  ])('%j on pg_dump 17 is refused, naming the input', (extra, message) => {
    expect(() => dumpArgs(17, extra)).toThrow(message);
  });

  it('a backup default (when-supported) and an explicit false pass nothing to an older client', () => {
    for (const statistics of ['when-supported' as const, false]) {
      expect(dumpArgs(17, { statistics }).some((a) => a.includes('statistics'))).toBe(false);
    }
    // Unset: pg_dump's own default, with no flag either way.
    expect(dumpArgs(18, {}).some((a) => a.includes('statistics'))).toBe(false);
  });

  it('parses the inputs: statistics unset stays unset, a non-boolean is refused by name', () => {
    const o = parse({ command: 'dump', from: 'postgres://u@db/app', to: 'x.dump', 'no-policies': 'true' });
    if (o.command !== 'dump') throw new Error(o.command);
    expect(o.statistics).toBeUndefined();
    expect(o.noPolicies).toBe(true);
    expect(() =>
      parse({ command: 'dump', from: 'postgres://u@db/app', to: 'x.dump', statistics: 'yes' }),
    ).toThrow(/^statistics: "yes" is not a boolean/);
    expect(() =>
      parse({ command: 'restore', from: 'x.dump', to: 'postgres://u@db/app', statistics: 'true' }),
    ).toThrow(/^statistics: does not apply to restore/);
  });
});

describe('filter: a pg_dump filter file', () => {
  it('reads include/exclude lines, comments and quoted patterns', () => {
    const rules = parseFilterText(
      '# c\n\ninclude table public.a\nexclude table_data "My Schema"."Big ""T"""  # why\n  include schema s*\n',
    );
    expect(rules).toEqual([
      { line: 3, action: 'include', kind: 'table', pattern: 'public.a' },
      { line: 4, action: 'exclude', kind: 'table_data', pattern: '"My Schema"."Big ""T"""' },
      { line: 5, action: 'include', kind: 'schema', pattern: 's*' },
    ]);
  });

  it.each([
    ['include table', /line 1: expected "include\|exclude <object kind> <pattern>"/],
    ['keep table a', /line 1: "keep" is neither include nor exclude/],
    ['include view a', /line 1: "view" is not an object kind/],
    ['\ninclude table_data a', /line 2: pg_dump cannot include table_data/],
    ['exclude foreign_data srv', /line 1: pg_dump cannot exclude foreign_data/],
    ['include table "open', /line 1: the pattern has an unterminated double quote/],
    ['include table a b', /line 1: unexpected text after the pattern/],
  ])('refuses %j, naming filter and the line', (text, message) => {
    expect(() => parseFilterText(text)).toThrow(/^filter: /);
    expect(() => parseFilterText(text)).toThrow(message);
  });

  it('a missing file or a directory is refused when the options are parsed, before anything runs', () => {
    const missing = path.join(dir, 'nope.filter');
    expect(() =>
      parse({ command: 'dump', from: 'postgres://u@db/app', to: 'x.dump', filter: missing }),
    ).toThrow(/^filter: cannot read .*nope\.filter \(ENOENT\)/);
    expect(() => readFilterFile(dir)).toThrow(/^filter: .* is not a file/);
    const bad = path.join(dir, 'bad.filter');
    writeFileSync(bad, 'include table a\nexclude tabel b\n');
    expect(() =>
      parse({ command: 'copy', from: 'postgres://u@db/app', to: 'postgres://u@db/app_copy', filter: bad }),
    ).toThrow(/^filter: .*bad\.filter, line 2: "tabel" is not an object kind/);
  });

  it('pg_dump 17+ gets --filter with the absolute path; older clients the translated flags', () => {
    const file = path.join(dir, 'ok.filter');
    writeFileSync(
      file,
      'include table a\nexclude table b\ninclude schema s\nexclude schema t\nexclude table_data c\n',
    );
    const filter = readFilterFile(path.relative(process.cwd(), file));
    expect(dumpArgs(17, { filter })).toContain(`--filter=${file}`);
    expect(filterFileArgs(filter, 15)).toEqual([
      '--table=a',
      '--exclude-table=b',
      '--schema=s',
      '--exclude-schema=t',
      '--exclude-table-data=c',
    ]);
  });

  it('a line an older pg_dump has no flag for is refused with its line number', () => {
    const filter = { path: '/f', rules: parseFilterText('include table a\nexclude extension x\n') };
    expect(() => filterFileArgs(filter, 16)).toThrow(
      /^filter: line 2 \(exclude extension\) has no equivalent in pg_dump 16/,
    );
    const children = { path: '/f', rules: parseFilterText('include table_and_children p\n') };
    expect(filterFileArgs(children, 16)).toEqual(['--table-and-children=p']);
    expect(() => filterFileArgs(children, 15)).toThrow(/line 1 \(include table_and_children\)/);
  });
});

describe('transaction-size: pg_restore 17+', () => {
  const restore = { dbname: 'app', file: 'a.dump' };
  it('passes --transaction-size and no single transaction', () => {
    expect(pgRestoreArgs({ ...restore, clientMajor: 17, transactionSize: 500 })).toContain(
      '--transaction-size=500',
    );
  });
  it('is refused on pg_restore 16 and with a single transaction', () => {
    expect(() => pgRestoreArgs({ ...restore, clientMajor: 16, transactionSize: 5 })).toThrow(
      /^transaction-size: needs pg_restore --transaction-size, which PostgreSQL 17\+ clients have/,
    );
    expect(() =>
      pgRestoreArgs({ ...restore, clientMajor: 17, transactionSize: 5, singleTransaction: true }),
    ).toThrow(/^transaction-size: commits every N objects/);
  });
  it.each(['0', '-1', '1.5', '1e3', 'ten', '99999999999999999999'])('refuses %s', (raw) => {
    expect(() => parseTransactionSize(raw)).toThrow(/^transaction-size: .* expected a whole number ≥ 1/);
  });
  it('is an input of restore only', () => {
    const o = parse({
      command: 'restore',
      from: 'x.dump',
      to: 'postgres://u@db/app',
      'transaction-size': '100',
    });
    if (o.command !== 'restore') throw new Error(o.command);
    expect(o.transactionSize).toBe(100);
    expect(() =>
      parse({ command: 'dump', from: 'postgres://u@db/app', to: 'x.dump', 'transaction-size': '100' }),
    ).toThrow(/^transaction-size: does not apply to dump/);
  });
});

describe('statistics on a restore into an older server', () => {
  it('pg_restore 18 is told --no-statistics only when asked', () => {
    const restore = { dbname: 'app', file: 'a.dump' };
    expect(pgRestoreArgs({ ...restore, clientMajor: 18, statistics: false })).toContain('--no-statistics');
    expect(pgRestoreArgs({ ...restore, clientMajor: 17, statistics: false })).not.toContain(
      '--no-statistics',
    );
  });

  const script =
    "SET statement_timeout = 0;\nSELECT * FROM pg_catalog.pg_restore_relation_stats(\n\t'version', '180000'::integer,\n\t'relpages', '1'::integer\n);\nSELECT 1;\n";
  async function run(major: number, text: string): Promise<{ out: string; filter: ScriptFilter }> {
    const filter = new ScriptFilter({ targetServer: { major }, psqlKnowsRestrict: true });
    const chunks: Buffer[] = [];
    filter.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise((resolve, reject) => filter.on('end', resolve).on('error', reject));
    // In pieces, as pg_restore's output arrives: a long statement is not all there at once.
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += 4096) filter.write(bytes.subarray(at, at + 4096));
    filter.end();
    await done;
    return { out: Buffer.concat(chunks).toString(), filter };
  }

  it('the script filter drops statistics calls for 17, keeping the line count, and reports them', async () => {
    const { out, filter } = await run(17, script);
    expect(out).not.toContain('pg_restore_relation_stats');
    expect(out.split('\n')).toHaveLength(script.split('\n').length);
    expect(filter.summary()).toEqual(['statistics (1×: line 2)']);
  });

  it('keeps them for 18', async () => {
    const { out, filter } = await run(18, script);
    expect(out).toBe(script);
    expect(filter.summary()).toEqual([]);
  });

  it('refuses a statistics call too long to hold rather than streaming it into a 17 server', async () => {
    const long = `SELECT * FROM pg_catalog.pg_restore_attribute_stats(\n\t'most_common_vals', '{${'x,'.repeat(9000)}y}'::text\n);\n`;
    await expect(run(17, long)).rejects.toThrow(/line 1: a statistics call longer than 8192 bytes/);
  });
});

describe('extra-args: pgferry now sets these itself', () => {
  it.each([
    ['--statistics', 'pg_dump'],
    ['--no-statistics', 'pg_dump'],
    ['--filter=/f', 'pg_dump'],
    ['--no-policies', 'pg_dump'],
    ['--sequence-data', 'pg_dump'],
    ['--transaction-size=10', 'pg_restore'],
  ] as const)('refuses %s for %s, naming the input to use', (arg, tool) => {
    expect(() => checkExtraArgs([arg], tool)).toThrow(/^extra-args: --[a-z-]+ use .* instead/);
  });
  it('leaves pg_restore its own --filter and --no-statistics', () => {
    expect(() => checkExtraArgs(['--filter=/f', '--no-statistics'], 'pg_restore')).not.toThrow();
    expect(splitExtraArgs('--no-comments')).toEqual(['--no-comments']);
  });
});
