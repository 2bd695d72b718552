import { personalByName, personalByValues } from '../../core/masking/coverage.js';

/** The coverage report's signs: what reads as personal, and look-alikes that must not. */

describe('personal by name', () => {
  it.each([
    ['email', 'e-mail'],
    ['E-Mail', 'e-mail'],
    ['contactEmail', 'e-mail'],
    ['mobile_no', 'phone'],
    ['firstName', 'a person’s name'],
    ['LAST_NAME', 'a person’s name'],
    ['full_name', 'a person’s name'],
    ['surname', 'a person’s name'],
    ['street', 'address'],
    ['zip', 'address'],
    ['postcode', 'address'],
    ['date_of_birth', 'birth date'],
    ['dob', 'birth date'],
    ['ssn', 'social security number'],
    ['passport_no', 'passport'],
    ['iban', 'IBAN'],
    ['card_last4', 'card number'],
    ['api_token', 'token'],
    ['client_secret', 'secret'],
    ['password_hash', 'password'],
    ['last_login_ip', 'IP address'],
  ])('%s reads as %s', (column, what) => {
    expect(personalByName(column)).toContain(what);
  });

  it.each([
    'description',
    'ship_date',
    'tipping',
    'scorecard',
    'zipped',
    'filename',
    'name',
    'status',
    'recipe',
  ])('%s reads as nothing personal', (column) => {
    expect(personalByName(column)).toEqual([]);
  });
});

describe('personal by sampled values', () => {
  it('flags a column when at least half of its sample looks alike, and says how many', () => {
    expect(personalByValues(['a@example.com', 'b@example.org', 'n/a'])).toBe(
      'values look like e-mail addresses (2 of 3 sampled)',
    );
    expect(personalByValues(['+49 151 2345678', '(030) 123-4567'])).toMatch(
      /^values look like phone numbers/,
    );
    expect(personalByValues(['DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432'])).toMatch(/IBANs/);
    expect(personalByValues(['4111 1111 1111 1111', '5500-0000-0000-0004'])).toMatch(/card numbers/);
  });

  it('leaves alone dates, plain numbers, IBAN- and card-shaped strings whose checksums fail, and free text', () => {
    expect(personalByValues(['2024-01-15', '1999.12.31', '12/05/2020'])).toBeUndefined();
    expect(personalByValues(['12345678', '90000001'])).toBeUndefined();
    expect(personalByValues(['DE00370400440532013000'])).toBeUndefined();
    expect(personalByValues(['4111 1111 1111 1112'])).toBeUndefined();
    expect(personalByValues(['one mail a@example.com in a note', 'plain', 'text'])).toBeUndefined();
    expect(personalByValues([])).toBeUndefined();
  });
});
