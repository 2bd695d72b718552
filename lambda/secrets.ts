import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PgferryError } from '../core/errors.js';

/** The RDS secret format Secrets Manager's rotation templates write. */
export interface RdsSecret {
  host: string;
  port: number;
  username: string;
  password: string;
  dbname?: string;
}

function secretName(arn: string): string {
  // The ARN is not secret; its last part names the secret for a readable message.
  return arn.split(':secret:')[1] ?? arn;
}

/** Why a fetch failed, in words that say what to fix; never a fallback to other credentials. */
function explainFetchError(error: unknown, variable: string, arn: string): PgferryError {
  const e = error as { name?: string; message?: string };
  const which = `${variable}: secret ${secretName(arn)}`;
  switch (e.name) {
    case 'AccessDeniedException':
      return new PgferryError(
        `${which}: Secrets Manager denied GetSecretValue (AccessDeniedException); the job's role needs secretsmanager:GetSecretValue on it (and kms:Decrypt on its key). No other credentials are tried`,
      );
    case 'ResourceNotFoundException':
      return new PgferryError(
        `${which} does not exist (ResourceNotFoundException); check the ARN and region`,
      );
    case 'DecryptionFailure':
      return new PgferryError(
        `${which} cannot be decrypted (DecryptionFailure); the role needs kms:Decrypt on its key`,
      );
    default:
      return new PgferryError(
        `${which} could not be read (${e.name ?? 'error'}: ${(e.message ?? '').split('\n')[0]}); no other credentials are tried`,
        { cause: error },
      );
  }
}

/**
 * Reads one secret's string. A fetch that fails, or a binary secret, is an error naming the
 * variable and the secret, never its value. `expected` says what the string should hold.
 */
export async function fetchSecretString(
  client: SecretsManagerClient,
  arn: string,
  variable: string,
  expected: string,
): Promise<string> {
  let text: string | undefined;
  try {
    text = (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
  } catch (error) {
    throw explainFetchError(error, variable, arn);
  }
  if (text === undefined)
    throw new PgferryError(
      `${variable}: secret ${secretName(arn)} has no SecretString (binary secrets are not supported); expected ${expected}`,
    );
  return text;
}

/**
 * Reads one RDS-format secret. A fetch that fails, a value that is not JSON or lacks a field is an
 * error naming the variable and the missing fields, never the value itself.
 */
export async function fetchRdsSecret(
  client: SecretsManagerClient,
  arn: string,
  variable: string,
): Promise<RdsSecret> {
  const text = await fetchSecretString(client, arn, variable, 'the RDS JSON format');
  const which = `${variable}: secret ${secretName(arn)}`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PgferryError(
      `${which} is not JSON; expected the RDS format {"host", "port", "username", "password", "dbname"}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new PgferryError(`${which} is not a JSON object; expected the RDS format`);
  const v = value as Record<string, unknown>;
  const text_ = (k: string): string | undefined =>
    typeof v[k] === 'string' && v[k] !== '' ? (v[k] as string) : undefined;
  const port = typeof v.port === 'number' ? v.port : typeof v.port === 'string' ? Number(v.port) : 5432;
  const missing = ['host', 'username', 'password'].filter((k) => text_(k) === undefined);
  const problems = [
    ...(missing.length ? [`lacks ${missing.join(', ')}`] : []),
    ...(!Number.isInteger(port) || port < 1 || port > 65535 ? ['has a port that is not 1–65535'] : []),
  ];
  if (problems.length)
    throw new PgferryError(
      `${which} ${problems.join(' and ')}; expected the RDS format {"host", "port", "username", "password", "dbname"}`,
    );
  return {
    host: text_('host') ?? '',
    port,
    username: text_('username') ?? '',
    password: text_('password') ?? '',
    dbname: text_('dbname'),
  };
}
