import {
  connectionEnv,
  DEFAULT_CONNECT_TIMEOUT_SECONDS,
  describeConnection,
  parseConnection,
  pgClientConfig,
  secretsOf,
  type ConnectionSpec,
} from '../../core/pg/connection.js';
import { InputError } from '../../core/errors.js';

/** No PG* variables: every test passes its own environment so the machine's cannot leak in. */
const NO_ENV: NodeJS.ProcessEnv = {};

function parse(raw: string | undefined, env: NodeJS.ProcessEnv = NO_ENV, input = 'from'): ConnectionSpec {
  return parseConnection(raw, input, env);
}

function inputErrorFrom(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw new Error(`expected an InputError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected an InputError, nothing was thrown');
}

/** Every text an error could show a user or a log: none may hold the password, raw or encoded. */
function expectNoSecret(error: InputError, password: string): void {
  const texts = [error.message, error.problem, error.stack ?? '', String(error), JSON.stringify(error)];
  for (const text of texts) {
    expect(text).not.toContain(password);
    expect(text).not.toContain(encodeURIComponent(password));
  }
  expect(error.cause).toBeUndefined();
}

describe('parseConnection: URLs', () => {
  it('reads every part of a postgres:// URL, decoding a password full of URL delimiters', () => {
    const spec = parse(
      'postgres://alice:p%40ss%3Aw%2Fo%25rd@db.example.com:6543/app%20db?sslmode=require&application_name=nightly&connect_timeout=7',
    );
    expect(spec.params).toEqual({
      host: 'db.example.com',
      port: '6543',
      user: 'alice',
      password: 'p@ss:w/o%rd',
      dbname: 'app db',
      sslmode: 'require',
      application_name: 'nightly',
      connect_timeout: '7',
    });
  });

  it('accepts the postgresql:// scheme, in any case', () => {
    expect(parse('postgresql://bob@db/app').params).toEqual({ host: 'db', user: 'bob', dbname: 'app' });
    expect(parse('PostgreSQL://bob@db/app').params).toEqual({ host: 'db', user: 'bob', dbname: 'app' });
  });

  it('strips the brackets of an IPv6 host', () => {
    expect(parse('postgres://u:pw@[::1]:5433/db').params).toMatchObject({
      host: '::1',
      port: '5433',
      dbname: 'db',
    });
    expect(parse('postgresql://[2001:db8::7]/db').params.host).toBe('2001:db8::7');
  });

  it('decodes a percent-encoded user name and a socket directory given as the host', () => {
    const spec = parse('postgres://us%40er@%2Fvar%2Frun%2Fpostgresql/app');
    expect(spec.params.user).toBe('us@er');
    expect(spec.params.host).toBe('/var/run/postgresql');
  });

  it('leaves out what the URL does not say', () => {
    expect(parse('postgresql:///app').params).toEqual({ dbname: 'app' });
    expect(parse('postgres://db.example.com').params).toEqual({ host: 'db.example.com' });
  });

  it('takes query parameters as libpq keywords (host in the query included)', () => {
    const spec = parse('postgresql:///app?host=/tmp&port=5499&options=-c%20search_path%3Dx');
    expect(spec.params).toEqual({ host: '/tmp', port: '5499', dbname: 'app', options: '-c search_path=x' });
  });

  it('maps ssl=true to sslmode=require, as libpq does for JDBC-style URLs', () => {
    expect(parse('postgres://db/app?ssl=true').params.sslmode).toBe('require');
    expect(parse('postgres://db/app?ssl=true').params).not.toHaveProperty('ssl');
  });

  it('treats another ssl= value as sslmode', () => {
    expect(parse('postgres://db/app?ssl=verify-full').params.sslmode).toBe('verify-full');
  });
});

describe('parseConnection: key=value conninfo', () => {
  it('reads plain and quoted values', () => {
    const spec = parse(
      "host=db.internal port=5433 dbname='my app' user=bob password='it\\'s a s3cret' sslmode=verify-full",
    );
    expect(spec.params).toEqual({
      host: 'db.internal',
      port: '5433',
      dbname: 'my app',
      user: 'bob',
      password: "it's a s3cret",
      sslmode: 'verify-full',
    });
  });

  it('allows spaces around = and backslash escapes in quoted and unquoted values', () => {
    const spec = parse("  host = db   password = 'back\\\\slash'  user=a\\ b  ");
    expect(spec.params).toEqual({ host: 'db', password: 'back\\slash', user: 'a b' });
  });

  it('keeps an empty quoted value', () => {
    expect(parse("host=db options=''").params).toEqual({ host: 'db', options: '' });
  });

  it('rejects an unterminated quoted value without repeating it', () => {
    const error = inputErrorFrom(() => parse("host=db password='Tangerine9 never closed"));
    expect(error.input).toBe('from');
    expect(error.message).toMatch(/^from: conninfo has an unterminated quoted value for "password"/);
    expectNoSecret(error, 'Tangerine9');
  });

  it('rejects a value broken by an unquoted space without repeating the rest', () => {
    const error = inputErrorFrom(() => parse('host=db password=Open Sesame42', NO_ENV, 'to'));
    expect(error.message).toMatch(/^to: conninfo is malformed near position \d+; expected key=value pairs/);
    expectNoSecret(error, 'Sesame42');
  });
});

describe('parseConnection: PG* environment', () => {
  const env: NodeJS.ProcessEnv = {
    PGHOST: 'env-host',
    PGPORT: '6000',
    PGUSER: 'env-user',
    PGPASSWORD: 'env-password',
    PGDATABASE: 'env-db',
    PGSSLMODE: 'require',
    PGAPPNAME: 'env-app',
    HOME: '/home/nobody',
  };

  it('fills in what the string leaves out; what the string says wins', () => {
    const spec = parse('postgres://alice@db.example.com/app', env);
    expect(spec.params).toEqual({
      host: 'db.example.com',
      port: '6000',
      user: 'alice',
      password: 'env-password',
      dbname: 'app',
      sslmode: 'require',
      application_name: 'env-app',
    });
  });

  it('lets a conninfo string win over the environment too', () => {
    const spec = parse('host=other sslmode=disable', env);
    expect(spec.params.host).toBe('other');
    expect(spec.params.sslmode).toBe('disable');
    expect(spec.params.user).toBe('env-user');
  });

  it.each([[''], ['   '], [undefined]])('uses the environment alone for %p', (raw) => {
    expect(parse(raw, env).params).toEqual({
      host: 'env-host',
      port: '6000',
      user: 'env-user',
      password: 'env-password',
      dbname: 'env-db',
      sslmode: 'require',
      application_name: 'env-app',
    });
  });

  it('ignores empty variables and variables that are not libpq ones', () => {
    expect(parse('', { PGHOST: '', PGUSER: 'u', PGFOO: 'bar' }).params).toEqual({ user: 'u' });
  });

  it('checks a port that comes from the environment', () => {
    const error = inputErrorFrom(() => parse('postgres://db/app', { PGPORT: 'fivefour' }));
    expect(error.message).toMatch(/^from: port "fivefour" is not a port number/);
  });
});

describe('connectionEnv', () => {
  const spec = parse(
    'postgres://alice:Xylophone%2177@db.example.com:6543/app?sslmode=verify-full&application_name=job&sslrootcert=/ca.pem&unknown_key=1',
  );

  it('maps keywords to PG* variables, with a default connect timeout', () => {
    expect(connectionEnv(spec)).toEqual({
      PGCONNECT_TIMEOUT: String(DEFAULT_CONNECT_TIMEOUT_SECONDS),
      PGHOST: 'db.example.com',
      PGPORT: '6543',
      PGUSER: 'alice',
      PGPASSWORD: 'Xylophone!77',
      PGDATABASE: 'app',
      PGSSLMODE: 'verify-full',
      PGAPPNAME: 'job',
      PGSSLROOTCERT: '/ca.pem',
    });
  });

  it('puts the password in PGPASSWORD and nowhere else', () => {
    const env = connectionEnv(spec);
    const holders = Object.entries(env).filter(([, value]) => value.includes('Xylophone'));
    expect(holders).toEqual([['PGPASSWORD', 'Xylophone!77']]);
    expect(Object.keys(env).join(' ')).not.toContain('Xylophone');
  });

  it('lets connect_timeout replace the default', () => {
    expect(connectionEnv(parse('host=db connect_timeout=3')).PGCONNECT_TIMEOUT).toBe('3');
  });

  it('sets no PGPASSWORD when there is no password', () => {
    expect(connectionEnv(parse('host=db user=u'))).not.toHaveProperty('PGPASSWORD');
  });
});

describe('describeConnection and secretsOf', () => {
  it('describes user@host:port/dbname without the password', () => {
    const spec = parse('postgres://alice:Quasar%40Vault%3A9@db.example.com:6543/app');
    const text = describeConnection(spec);
    expect(text).toBe('alice@db.example.com:6543/app');
    expect(text).not.toContain('Quasar');
  });

  it('fills defaults: localhost, 5432, the user name as the database', () => {
    expect(describeConnection(parse('user=bob password=Nebula55'))).toBe('bob@localhost:5432/bob');
    expect(describeConnection(parse(''))).toBe('localhost:5432/postgres');
    expect(describeConnection(parse('hostaddr=10.0.0.9'))).toBe('10.0.0.9:5432/postgres');
  });

  it('returns the password as written and URL-encoded', () => {
    const spec = parse('postgres://alice:p%40ss%3Aw%2Fo%25rd@db/app');
    expect(secretsOf(spec)).toEqual(['p@ss:w/o%rd', 'p%40ss%3Aw%2Fo%25rd']);
  });

  it('returns one entry when encoding changes nothing, none without a password', () => {
    expect(secretsOf(parse('password=plainpassword'))).toEqual(['plainpassword']);
    expect(secretsOf(parse('host=db'))).toEqual([]);
  });
});

describe('pgClientConfig', () => {
  it('turns the spec into node-postgres options', () => {
    const spec = parse('postgres://alice:pw@db:6543/app?connect_timeout=4&application_name=meta');
    expect(pgClientConfig(spec, { rejectUnauthorized: true, ca: 'PEM' })).toEqual({
      host: 'db',
      port: 6543,
      user: 'alice',
      password: 'pw',
      database: 'app',
      ssl: { rejectUnauthorized: true, ca: 'PEM' },
      connectionTimeoutMillis: 4000,
      application_name: 'meta',
    });
  });

  it('uses defaults and falls back to hostaddr', () => {
    const config = pgClientConfig(parse('hostaddr=10.1.2.3 user=bob'), false);
    expect(config).toEqual({
      host: '10.1.2.3',
      port: undefined,
      user: 'bob',
      password: undefined,
      database: 'bob',
      ssl: false,
      connectionTimeoutMillis: DEFAULT_CONNECT_TIMEOUT_SECONDS * 1000,
      application_name: 'pgferry',
    });
  });

  it.each(['0', '-5', 'soon'])('ignores connect_timeout=%s', (timeout) => {
    const config = pgClientConfig(parse(`host=db connect_timeout=${timeout}`), undefined);
    expect(config.connectionTimeoutMillis).toBe(DEFAULT_CONNECT_TIMEOUT_SECONDS * 1000);
  });
});

describe('parseConnection: bad input', () => {
  it('rejects a mysql:// URL, naming the input and the scheme only', () => {
    const error = inputErrorFrom(() => parse('mysql://root:Mys9lPassw0rd@db/app'));
    expect(error.input).toBe('from');
    expect(error.message).toMatch(/^from: "mysql:\/\/" URLs are not databases; expected postgres:\/\//);
    expectNoSecret(error, 'Mys9lPassw0rd');
  });

  it('rejects a bare word', () => {
    const error = inputErrorFrom(() => parse('Hunter2Secret', NO_ENV, 'to'));
    expect(error.input).toBe('to');
    expect(error.message).toMatch(
      /^to: is not a database connection; expected a postgres:\/\/ or postgresql/,
    );
    expectNoSecret(error, 'Hunter2Secret');
  });

  it.each([
    ['an unclosed IPv6 bracket', 'postgres://app:Malf0rmedPw@[::1/app', 'Malf0rmedPw'],
    ['a space in the host', 'postgresql://app:Sp4ceInHost@db host/app', 'Sp4ceInHost'],
    ['a non-numeric URL port', 'postgres://app:Lett3rPort@db:54x2/app', 'Lett3rPort'],
    ['a URL port out of range', 'postgres://app:P0rtTooBig@db:99999/app', 'P0rtTooBig'],
  ])('rejects a malformed URL (%s)', (_what, raw, password) => {
    const error = inputErrorFrom(() => parse(raw));
    expect(error.message).toMatch(/^from: is not a valid postgres URL; expected postgres:\/\//);
    expectNoSecret(error, password);
  });

  it('rejects a URL password that is not valid percent-encoding', () => {
    const error = inputErrorFrom(() => parse('postgres://app:Zebra%ZZsecret@db/app'));
    expect(error.message).toBe("from: the URL's password is not valid percent-encoding");
    expectNoSecret(error, 'Zebra%ZZsecret');
    expectNoSecret(error, 'Zebra');
  });

  it.each([
    ['letters', 'host=db port=12ab password=C0nninfoPort', '12ab'],
    ['out of range', 'host=db port=70000 password=C0nninfoPort', '70000'],
    ['zero', 'host=db port=0 password=C0nninfoPort', '0'],
    ['a list', 'host=a,b port=5432,5433 password=C0nninfoPort', '5432,5433'],
  ])('rejects a bad conninfo port (%s)', (_what, raw, port) => {
    const error = inputErrorFrom(() => parse(raw, NO_ENV, 'to'));
    expect(error.message).toBe(`to: port "${port}" is not a port number`);
    expectNoSecret(error, 'C0nninfoPort');
  });

  it('accepts the edges of the port range', () => {
    expect(parse('host=db port=1').params.port).toBe('1');
    expect(parse('host=db port=65535').params.port).toBe('65535');
  });
});

describe('URL query values', () => {
  it('keeps + as libpq does, instead of reading it as a space', () => {
    const spec = parseConnection('postgres://u@db/app?password=a+b%2Bc&application_name=x+y', 'from', {});
    expect(spec.params.password).toBe('a+b+c');
    expect(spec.params.application_name).toBe('x+y');
  });
});
