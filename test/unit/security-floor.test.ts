// The security floor's table and the min-client-version input: which clients are safe, what a
// warning or refusal says, and bad values of the input.
import { InputError, InputErrors } from '../../core/errors.js';
import { parseJobOptions } from '../../core/options.js';
import {
  belowFloorMessage,
  isSafeClient,
  parseMinClientVersion,
  type MinClientVersion,
} from '../../core/pg/client-floor.js';
import { knownReleaseVersions } from '../../core/pg/clients/releases.js';
import { KNOWN_MAJORS } from '../../core/pg/known-majors.js';
import { describeMissingFixes, floorMinor, missingFixes } from '../../core/pg/security-floor.js';
import { parseVersionString } from '../../core/pg/version.js';

const ANY: MinClientVersion = { kind: 'any' };
const cves = (major: number, minor: number): string[] => missingFixes({ major, minor }).map((f) => f.cve);

describe('the security floor', () => {
  it('is the May 2026 minors for 14–18, none for 12 and 13, and .0 for majors released after', () => {
    expect([12, 13, 14, 15, 16, 17, 18, 19, 20].map(floorMinor)).toEqual([
      undefined,
      undefined,
      23,
      18,
      14,
      10,
      4,
      0,
      0,
    ]);
  });

  it('names the fixes each client lacks', () => {
    expect(cves(17, 5)).toEqual(['CVE-2026-6477', 'CVE-2025-8714']);
    expect(cves(17, 6)).toEqual(['CVE-2026-6477']);
    expect(cves(17, 10)).toEqual([]);
    // 18.0 came out after August 2025: it writes \restrict, but lacks the May 2026 fix.
    expect(cves(18, 0)).toEqual(['CVE-2026-6477']);
    expect(cves(18, 4)).toEqual([]);
    expect(cves(15, 18)).toEqual([]);
    expect(cves(15, 13)).toEqual(['CVE-2026-6477', 'CVE-2025-8714']);
    // 13 ended before May 2026: even its last minor lacks that fix.
    expect(cves(13, 23)).toEqual(['CVE-2026-6477']);
    expect(cves(19, 0)).toEqual([]);
  });

  it('says which minor fixed what, and when no release of a major did', () => {
    const text = describeMissingFixes({ major: 17, minor: 5 });
    expect(text).toContain(
      "17.10 fixed CVE-2026-6477 (May 2026: a hostile server can overwrite the client's stack through the large-object functions pg_dump uses)",
    );
    expect(text).toContain('17.6 fixed CVE-2025-8714 (August 2025:');
    expect(text).toContain('\\restrict');
    expect(describeMissingFixes({ major: 13, minor: 22 })).toMatch(
      /^no PostgreSQL 13 release fixes CVE-2026-6477 \(May 2026/,
    );
  });

  it('ships an offline release table whose newest minor of every stageable major is safe', () => {
    const newest = new Map<number, number>();
    for (const v of knownReleaseVersions()) {
      const p = parseVersionString(v);
      if (p?.minor !== undefined) newest.set(p.major, Math.max(newest.get(p.major) ?? 0, p.minor));
    }
    for (let major = KNOWN_MAJORS.oldestStaged; major <= KNOWN_MAJORS.newest; major++) {
      expect([major, isSafeClient({ major, minor: newest.get(major) ?? -1 }, ANY)]).toEqual([major, true]);
    }
    expect(knownReleaseVersions()).toEqual(
      expect.arrayContaining(['14.24.0', '15.19.0', '16.15.0', '17.11.0', '18.6.0']),
    );
  });
});

describe('min-client-version', () => {
  it('takes any (the default), secure and an exact minimum', () => {
    expect(parseMinClientVersion(undefined)).toEqual({ kind: 'any' });
    expect(parseMinClientVersion(' any ')).toEqual({ kind: 'any' });
    expect(parseMinClientVersion('secure')).toEqual({ kind: 'secure' });
    expect(parseMinClientVersion('17.10')).toEqual({ kind: 'at-least', major: 17, minor: 10 });
  });

  it.each([
    [
      'strict',
      /^min-client-version: "strict" is not a minimum; expected any, secure, or an exact version such as 17\.10$/,
    ],
    ['17', /"17" is not a minimum/],
    ['17.10.1', /"17\.10\.1" is not a minimum/],
    ['SECURE', /"SECURE" is not a minimum/],
    ['9.6', /^min-client-version: major 9 is not supported; expected 12 or newer$/],
  ])('refuses %s, naming the input', (raw, message) => {
    expect(() => parseMinClientVersion(raw)).toThrow(InputError);
    expect(() => parseMinClientVersion(raw)).toThrow(message);
  });

  it('raises the floor of its own major only, and keeps the security floor for the others', () => {
    const atLeast = parseMinClientVersion('17.12');
    expect(isSafeClient({ major: 17, minor: 11 }, atLeast)).toBe(false);
    expect(isSafeClient({ major: 17, minor: 12 }, atLeast)).toBe(true);
    expect(isSafeClient({ major: 18, minor: 4 }, atLeast)).toBe(true);
    expect(isSafeClient({ major: 18, minor: 3 }, atLeast)).toBe(false);
    // Below the security floor already: a lower exact minimum does not make it safe.
    expect(isSafeClient({ major: 17, minor: 5 }, parseMinClientVersion('17.2'))).toBe(false);
  });

  it('words a client below the floor with what it lacks, why it is the one, and the fix', () => {
    expect(belowFloorMessage({ major: 18, minor: 0 }, ANY, 'to be downloaded', 'no 18.4 or newer here')).toBe(
      "PostgreSQL client 18.0 (to be downloaded) is below the security floor: 18.4 fixed CVE-2026-6477 (May 2026: a hostile server can overwrite the client's stack through the large-object functions pg_dump uses); no 18.4 or newer here; install PostgreSQL 18.4 or newer (or put it on the mirror)",
    );
    expect(belowFloorMessage({ major: 13, minor: 22 }, ANY, 'cached', 'it is the one')).toMatch(
      /no PostgreSQL 13 release is safe: use a newer major \(postgres-version\)$/,
    );
    expect(belowFloorMessage({ major: 17, minor: 11 }, parseMinClientVersion('17.12'), 'cached', 'why')).toBe(
      'PostgreSQL client 17.11 (cached) is below the security floor: min-client-version asks for 17.12 or newer; why; install PostgreSQL 17.12 or newer (or put it on the mirror)',
    );
  });

  it('reaches every command through the options, and a bad value is reported with the others', () => {
    const options = parseJobOptions((name) => ({ command: 'install', 'min-client-version': 'secure' })[name]);
    expect(options.minClientVersion).toEqual({ kind: 'secure' });
    const get = (name: string): string | undefined =>
      ({ command: 'install', 'min-client-version': 'yes', 'postgres-version': 'x' })[name];
    let problems: string[] = [];
    try {
      parseJobOptions(get);
    } catch (error) {
      if (!(error instanceof InputErrors)) throw error;
      problems = error.problems.map((p) => p.message);
    }
    expect(problems).toEqual([
      expect.stringMatching(/^postgres-version: /),
      'min-client-version: "yes" is not a minimum; expected any, secure, or an exact version such as 17.10',
    ]);
  });
});
