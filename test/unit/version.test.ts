import { parseVersionRequest, parseVersionString, versionFromNum } from '../../core/pg/version.js';
import { InputError } from '../../core/errors.js';

describe('versions', () => {
  it('reads server_version_num', () => {
    expect(versionFromNum(170005)).toEqual({ major: 17, minor: 5 });
    expect(versionFromNum(140023)).toEqual({ major: 14, minor: 23 });
  });
  it('reads version strings as tools print them', () => {
    expect(parseVersionString('pg_dump (PostgreSQL) 17.5')).toEqual({ major: 17, minor: 5 });
    expect(parseVersionString('16.4 (Debian 16.4-1.pgdg120+1)')).toEqual({ major: 16, minor: 4 });
    expect(parseVersionString('18beta1')).toEqual({ major: 18 });
    expect(parseVersionString('nothing here')).toBeUndefined();
  });
  it('parses postgres-version', () => {
    expect(parseVersionRequest(undefined)).toEqual({ kind: 'auto' });
    expect(parseVersionRequest('auto')).toEqual({ kind: 'auto' });
    expect(parseVersionRequest('17')).toEqual({ kind: 'major', major: 17 });
    expect(parseVersionRequest('17.5')).toEqual({ kind: 'exact', major: 17, minor: 5 });
    expect(parseVersionRequest('18.0.0')).toEqual({ kind: 'exact', major: 18, minor: 0 });
  });
  it.each(['abc', 'banana', '17.x', '-1'])('rejects postgres-version %s, naming the input', (raw) => {
    expect(() => parseVersionRequest(raw)).toThrow(InputError);
    expect(() => parseVersionRequest(raw)).toThrow(/^postgres-version: .*expected auto/);
  });
  it('rejects unsupported majors', () => {
    expect(() => parseVersionRequest('9')).toThrow(
      /postgres-version: major 9 is not supported; expected 12 or newer/,
    );
  });
  it('takes majors newer than any pgferry knows: no ceiling', () => {
    expect(parseVersionRequest('19')).toEqual({ kind: 'major', major: 19 });
    expect(parseVersionRequest('20.1')).toEqual({ kind: 'exact', major: 20, minor: 1 });
  });
});
