import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Signer } from '@aws-sdk/rds-signer';
import { PgferryError } from '../core/errors.js';
import type { ConnectionSpec } from '../core/pg/connection.js';
import type { ScheduledJobConfig } from './config.js';
import { fetchRdsSecret, type RdsSecret } from './secrets.js';

export interface ServerLogin {
  /** The server with no database chosen yet (each backed-up database gets its own spec). */
  base: ConnectionSpec;
  /** The secret's own database, when it names one. */
  defaultDatabase?: string;
  /** Strings no log line may carry. */
  secrets: string[];
}

function spec(params: Record<string, string>, rootCert: string | undefined): ConnectionSpec {
  return {
    params: { application_name: 'pgferry', ...params, ...(rootCert ? { sslrootcert: rootCert } : {}) },
  };
}

function secretLogin(s: RdsSecret, sslmode: string, rootCert: string | undefined): ServerLogin {
  return {
    base: spec(
      { host: s.host, port: String(s.port), user: s.username, password: s.password, sslmode },
      rootCert,
    ),
    defaultDatabase: s.dbname,
    secrets: [s.password],
  };
}

/** The source server's login, from its secret or an RDS IAM token (valid 15 minutes, enough to connect). */
export async function sourceLogin(
  config: ScheduledJobConfig,
  secrets: SecretsManagerClient,
  region: string | undefined,
): Promise<ServerLogin> {
  const source = config.source;
  if (source.kind === 'secret') {
    const secret = await fetchRdsSecret(secrets, source.secretArn, 'PGFERRY_SOURCE_SECRET_ARN');
    return secretLogin(secret, config.sourceSslmode, config.sslRootCert);
  }
  let token: string;
  try {
    token = await new Signer({
      hostname: source.host,
      port: source.port,
      username: source.user,
      region,
    }).getAuthToken();
  } catch (error) {
    throw new PgferryError(
      `PGFERRY_SOURCE_IAM_AUTH: could not sign an RDS IAM token for ${source.user}@${source.host}:${source.port} (${(error as Error).name}); the job needs AWS credentials and a region`,
    );
  }
  return {
    base: spec(
      {
        host: source.host,
        port: String(source.port),
        user: source.user,
        password: token,
        sslmode: config.sourceSslmode,
      },
      config.sslRootCert,
    ),
    secrets: [token],
  };
}

/** The staging server's login for `seed`. */
export async function seedLogin(
  config: ScheduledJobConfig,
  secrets: SecretsManagerClient,
): Promise<ServerLogin> {
  const seed = config.seed;
  if (!seed) throw new PgferryError('PGFERRY_SEED_SECRET_ARN: is required for the seed job');
  const secret = await fetchRdsSecret(secrets, seed.secretArn, 'PGFERRY_SEED_SECRET_ARN');
  return secretLogin(secret, seed.sslmode, config.sslRootCert);
}
