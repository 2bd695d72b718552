import { DEFAULT_NETWORK_LIMITS, LIMITS_ENV, parseNetworkLimits } from '../../core/network-limits.js';
import { displayUrl } from '../../core/pg/clients/http-get.js';

describe('network limits override', () => {
  it('keeps the defaults when unset or empty, and overrides only what is named', () => {
    expect(parseNetworkLimits(undefined)).toEqual(DEFAULT_NETWORK_LIMITS);
    expect(parseNetworkLimits(' ')).toEqual(DEFAULT_NETWORK_LIMITS);
    expect(parseNetworkLimits('idle-ms=3000, total-ms = 8000')).toEqual({
      ...DEFAULT_NETWORK_LIMITS,
      idleMs: 3000,
      totalMs: 8000,
    });
  });

  it.each([
    ['idle=3000', /unknown limit "idle"; expected one of connect-ms, idle-ms/],
    ['idle-ms=0', /idle-ms must be a positive integer, got "0"/],
    ['idle-ms=-5', /idle-ms must be a positive integer, got "-5"/],
    ['idle-ms=1.5', /idle-ms must be a positive integer, got "1.5"/],
    ['idle-ms=3s', /idle-ms must be a positive integer, got "3s"/],
    ['idle-ms', /idle-ms must be a positive integer, got ""/],
    ['idle-ms=1=2', /idle-ms must be a positive integer/],
    ['unpack-bytes=99999999999999999999', /unpack-bytes must be a positive integer/],
  ])('refuses %s, naming the variable', (text, message) => {
    expect(() => parseNetworkLimits(text)).toThrow(message);
    expect(() => parseNetworkLimits(text)).toThrow(new RegExp(`^${LIMITS_ENV}: `));
  });
});

describe('URLs in messages', () => {
  it('drop credentials and a query, keep what tells the place', () => {
    expect(displayUrl('https://user:pw@mirror.example:8443/pg/17.5.0/a.tar.gz')).toBe(
      'https://***@mirror.example:8443/pg/17.5.0/a.tar.gz',
    );
    expect(displayUrl('https://objects.example/a.tar.gz?X-Amz-Signature=abc&X-Amz-Credential=k')).toBe(
      'https://objects.example/a.tar.gz?…',
    );
    expect(displayUrl('http://127.0.0.1:9/versions.json')).toBe('http://127.0.0.1:9/versions.json');
  });
});
