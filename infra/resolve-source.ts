import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DATABASE_NAME, literal } from './prop-rules.js';
import { fail, PropProblems } from './props-error.js';
import { checkAsTheJobWill } from './resolve-engine-values.js';
import type { PgferryBackupProps } from './props.js';
import { KNOWN_MAJORS } from '../core/pg/known-majors.js';

/** How the construct lets the job log in to the source: a secret it may read, or RDS IAM auth. */
export type SourceAccess =
  | { kind: 'secret'; secret: secretsmanager.ISecret }
  | { kind: 'iam'; endpoint: string; port: number; username: string; resourceId: string };

/**
 * The oldest client major the construct stages into the layer or image (KNOWN_MAJORS, shared with
 * the engine); newer majors have no bound here: staging fails clearly if the releases lack one.
 */
export const OLDEST_STAGED_MAJOR = KNOWN_MAJORS.oldestStaged;
const RESOURCE_ID = /^(db|cluster)-[A-Za-z0-9]+$/;

/** How the job logs in: exactly one of a secret and IAM authentication (every problem at once). */
export function resolveSource(props: PgferryBackupProps): SourceAccess {
  const { secret, iamAuth, endpoint, port } = props.database;
  if (secret && iamAuth) fail('database', 'give either secret or iamAuth, not both');
  if (!secret && !iamAuth)
    fail('database', 'give secret (a Secrets Manager secret) or iamAuth (RDS IAM authentication)');
  const problems = new PropProblems();
  problems.collect(() => checkAsTheJobWill('PGFERRY_SOURCE_PORT', port));
  if (secret) {
    problems.throwIfAny();
    return { kind: 'secret', secret };
  }
  const iam = iamAuth!;
  if (!endpoint) problems.add('database.endpoint', 'is required with iamAuth: the host the job connects to');
  if (!iam.username)
    problems.add('database.iamAuth.username', 'is required: the database user granted rds_iam');
  if (literal(iam.resourceId) && !RESOURCE_ID.test(iam.resourceId))
    problems.add(
      'database.iamAuth.resourceId',
      `"${iam.resourceId}" is not a resource id; expected db-… or cluster-… (DbiResourceId)`,
    );
  problems.throwIfAny();
  return {
    kind: 'iam',
    endpoint: endpoint!,
    port: port ?? 5432,
    username: iam.username,
    resourceId: iam.resourceId,
  };
}

/** The databases to back up: literal, valid, distinct names. */
export function resolveDatabases(databases: string[]): string[] {
  if (!Array.isArray(databases) || databases.length === 0)
    fail('databases', 'needs at least one database name');
  const seen = new Set<string>();
  for (const name of databases) {
    // Each database gets its own alarm, so names must be known at synth time.
    if (!literal(name))
      fail('databases', 'names must be literal strings, not tokens (each database gets its own alarm)');
    if (!DATABASE_NAME.test(name)) {
      fail(
        'databases',
        `"${name}" is not a valid database name; expected letters, digits, _ $ . - (at most 63, not starting with . or -)`,
      );
    }
    if (seen.has(name)) fail('databases', `"${name}" is listed twice`);
    seen.add(name);
  }
  return [...databases];
}

/** The client majors to stage, sorted and distinct. */
export function resolveMajors(majors: number[]): number[] {
  if (!Array.isArray(majors) || majors.length === 0) {
    fail('postgresMajors', `needs at least one major (${OLDEST_STAGED_MAJOR} or newer)`);
  }
  const bad = majors.filter((m) => !Number.isInteger(m) || m < OLDEST_STAGED_MAJOR);
  if (bad.length > 0) {
    fail(
      'postgresMajors',
      `${bad.join(', ')} not supported; expected majors ${OLDEST_STAGED_MAJOR} or newer`,
    );
  }
  return [...new Set(majors)].sort((a, b) => a - b);
}
