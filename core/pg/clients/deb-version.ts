/**
 * Debian version numbers (`[epoch:]upstream[-revision]`) ordered as dpkg orders them, and the
 * version relations of a `Depends` field, so that a package's dependency is met exactly as apt
 * would meet it (`15.18~rc1` before `15.18`, `1:1.0` after `99`).
 */

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** dpkg's order of one non-digit character: `~` before the end, the end before letters, then the rest. */
function order(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: alternating runs of non-digits (by `order`) and digits (by value). */
function compareRuns(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const d = order(a[i]) - order(b[j]);
      if (d !== 0) return d;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let first = 0;
    while (isDigit(a[i]) && isDigit(b[j])) {
      first ||= a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (first !== 0) return first;
  }
  return 0;
}

function parts(version: string): { epoch: number; upstream: string; revision: string } {
  const colon = version.indexOf(':');
  const epoch = colon > 0 ? Number(version.slice(0, colon)) : 0;
  const rest = colon > 0 ? version.slice(colon + 1) : version;
  const dash = rest.lastIndexOf('-');
  return dash < 0
    ? { epoch, upstream: rest, revision: '' }
    : { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
}

/** Negative, zero or positive as `a` sorts before, with or after `b`. */
export function compareDebVersions(a: string, b: string): number {
  const pa = parts(a.trim());
  const pb = parts(b.trim());
  if (pa.epoch !== pb.epoch) return pa.epoch - pb.epoch;
  return compareRuns(pa.upstream, pb.upstream) || compareRuns(pa.revision, pb.revision);
}

export type Relation = '<<' | '<=' | '=' | '>=' | '>>';

/** One version condition of a dependency, e.g. `>= 15.18`. */
export interface VersionCondition {
  relation: Relation;
  version: string;
}

/** Whether `version` meets the condition (`<` and `>` are dpkg's obsolete `<=` and `>=`). */
export function satisfies(version: string, condition: VersionCondition): boolean {
  const d = compareDebVersions(version, condition.version);
  switch (condition.relation) {
    case '<<':
      return d < 0;
    case '<=':
      return d <= 0;
    case '=':
      return d === 0;
    case '>=':
      return d >= 0;
    case '>>':
      return d > 0;
  }
}

const RELATIONS: Readonly<Record<string, Relation>> = {
  '<<': '<<',
  '<=': '<=',
  '<': '<=',
  '=': '=',
  '>=': '>=',
  '>': '>=',
  '>>': '>>',
};

const DEPENDENCY =
  /^([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)?\s*(?:\(\s*(<<|<=|>=|>>|<|>|=)\s*([^\s)]+)\s*\))?\s*(?:\[[^\]]*\])?\s*(?:<[^>]*>\s*)*$/i;

/**
 * The conditions a `Depends` field puts on package `name`, one per clause naming it (an
 * unversioned mention is a condition-free clause); undefined when no clause names it. Within a
 * clause `a | b`, only `name`'s own alternative counts: that is the one pgferry installs.
 */
export function dependencyConditions(depends: string, name: string): VersionCondition[] | undefined {
  let named = false;
  const conditions: VersionCondition[] = [];
  for (const clause of depends.split(',')) {
    for (const alternative of clause.split('|')) {
      const m = DEPENDENCY.exec(alternative.trim());
      if (!m || m[1] !== name) continue;
      named = true;
      const relation = m[2] && RELATIONS[m[2]];
      if (relation && m[3]) conditions.push({ relation, version: m[3] });
    }
  }
  return named ? conditions : undefined;
}

export function formatCondition(name: string, conditions: readonly VersionCondition[]): string {
  if (conditions.length === 0) return name;
  return conditions.map((c) => `${name} (${c.relation} ${c.version})`).join(', ');
}
