import { existsSync, statSync } from 'node:fs';
import { parseBoolean } from '../core/values.js';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DATABASE_NAME, literal, resolveSslMode } from './prop-rules.js';
import { fail } from './props-error.js';
import type { PgferryBackupProps, SslMode } from './props.js';

export interface ResolvedSeed {
  schedule: events.Schedule;
  targetSecret: secretsmanager.ISecret;
  targetDatabase?: string;
  fromDatabase: string;
  confirm: string;
  sanitizeSql?: string;
  sslMode: SslMode;
  swap: boolean;
}

/** Seeding: from a database that is backed up, confirmed by the target's name, with an existing SQL file. */
export function resolveSeed(props: PgferryBackupProps, databases: string[]): ResolvedSeed | undefined {
  const seed = props.seed;
  if (!seed) return undefined;
  if (!seed.schedule) fail('seed.schedule', 'is required');
  if (!seed.targetSecret) fail('seed.targetSecret', 'is required: the staging server secret');
  const fromDatabase = seed.fromDatabase ?? databases[0]!;
  if (!databases.includes(fromDatabase)) {
    fail('seed.fromDatabase', `"${fromDatabase}" is not among databases (${databases.join(', ')})`);
  }
  if (
    seed.targetDatabase !== undefined &&
    literal(seed.targetDatabase) &&
    !DATABASE_NAME.test(seed.targetDatabase)
  ) {
    fail('seed.targetDatabase', `"${seed.targetDatabase}" is not a valid database name`);
  }
  if (!seed.confirm)
    fail('seed.confirm', "is required: the staging database's name (seeding replaces its contents)");
  if (seed.targetDatabase !== undefined && literal(seed.confirm) && seed.confirm !== seed.targetDatabase) {
    fail('seed.confirm', `"${seed.confirm}" does not equal seed.targetDatabase "${seed.targetDatabase}"`);
  }
  if (
    seed.sanitizeSql !== undefined &&
    !(existsSync(seed.sanitizeSql) && statSync(seed.sanitizeSql).isFile())
  ) {
    fail('seed.sanitizeSql', `${seed.sanitizeSql} is not a file`);
  }
  return {
    schedule: seed.schedule,
    targetSecret: seed.targetSecret,
    targetDatabase: seed.targetDatabase,
    fromDatabase,
    confirm: seed.confirm,
    sanitizeSql: seed.sanitizeSql,
    sslMode: resolveSslMode('seed.sslMode', seed.sslMode),
    // The job parses the same text from PGFERRY_SWAP: one rule for both.
    swap: parseBoolean(seed.swap === undefined ? undefined : String(seed.swap), 'seed.swap', true),
  };
}
