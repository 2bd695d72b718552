import {
  compareDebVersions,
  dependencyConditions,
  formatCondition,
  satisfies,
} from '../../core/pg/clients/deb-version.js';

describe("Debian version order (dpkg's)", () => {
  it.each<[string, string]>([
    ['15.17-0+deb12u1', '15.18-0+deb12u1'],
    ['15.18~rc1-1', '15.18-1'],
    ['15.18', '15.18-1'],
    ['15.18-1', '15.18-1.pgdg120+1'],
    ['15.18-1.pgdg120+1', '15.18-1.pgdg120+2'],
    ['15.18-0+deb12u1', '15.18-1.pgdg120+1'],
    ['9.6', '10.0'],
    ['99.0', '1:0.1'],
    ['1.0~~', '1.0~'],
    ['1.0~', '1.0'],
    ['1.0', '1.0a'],
    ['1.0a', '1.0+'],
    ['1.0', '1.0.1'],
    ['1.002', '1.3'],
  ])('%s sorts before %s', (lower, higher) => {
    expect(compareDebVersions(lower, higher)).toBeLessThan(0);
    expect(compareDebVersions(higher, lower)).toBeGreaterThan(0);
  });

  it.each([
    ['1.0', '1.00'],
    ['0:15.18-1', '15.18-1'],
    ['1.01-1', '1.1-1'],
  ])('%s equals %s', (a, b) => {
    expect(compareDebVersions(a, b)).toBe(0);
  });
});

describe('the conditions a Depends field puts on a package', () => {
  const client =
    'libpq5 (>= 15.18), postgresql-client-common (>= 182~), sensible-utils, libc6 (>= 2.34), libssl3 (>= 3.0.0)';

  it('reads the one versioned clause of a real client package', () => {
    expect(dependencyConditions(client, 'libpq5')).toEqual([{ relation: '>=', version: '15.18' }]);
    expect(dependencyConditions(client, 'sensible-utils')).toEqual([]);
    expect(dependencyConditions(client, 'libpq')).toBeUndefined();
    expect(dependencyConditions('', 'libpq5')).toBeUndefined();
  });

  it('keeps every clause naming the package, alternatives, arch qualifiers and obsolete relations', () => {
    expect(
      dependencyConditions('libpq5:amd64 (>= 15) [amd64], foo | libpq5 (<< 16~), libpq5 (> 14)', 'libpq5'),
    ).toEqual([
      { relation: '>=', version: '15' },
      { relation: '<<', version: '16~' },
      { relation: '>=', version: '14' },
    ]);
  });

  it.each<[string, string, boolean]>([
    ['15.18-0+deb12u1', '>= 15.18', true],
    ['15.17-0+deb12u1', '>= 15.18', false],
    ['15.18~rc1-1', '>= 15.18', false],
    ['15.18-1', '= 15.18-1', true],
    ['15.18-1.pgdg120+1', '= 15.18-1', false],
    ['16.0-1', '<< 16~', false],
    ['15.99-1', '<< 16~', true],
    ['16.0-1', '<= 16.0-1', true],
    ['16.0-1', '>> 16.0-1', false],
  ])('%s meets (%s): %s', (version, condition, expected) => {
    const [relation, wanted] = condition.split(' ') as ['>=', string];
    expect(satisfies(version, { relation, version: wanted })).toBe(expected);
  });

  it('says the conditions as Depends writes them', () => {
    expect(formatCondition('libpq5', [{ relation: '>=', version: '15.18' }])).toBe('libpq5 (>= 15.18)');
    expect(formatCondition('libpq5', [])).toBe('libpq5');
  });
});
