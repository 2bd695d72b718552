import { existsSync, statSync } from 'node:fs';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { literal, resolveSslMode } from './prop-rules.js';
import { checkAsTheJobWill } from './resolve-engine-values.js';
import { PropProblems } from './props-error.js';
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

/**
 * Seeding: from a database that is backed up, confirmed by the target's name, with an existing SQL
 * file. Every bad seed prop is reported at once.
 */
export function resolveSeed(props: PgferryBackupProps, databases: string[]): ResolvedSeed | undefined {
  const seed = props.seed;
  if (!seed) return undefined;
  const problems = new PropProblems();
  if (!seed.schedule) problems.add('seed.schedule', 'is required');
  if (!seed.targetSecret) problems.add('seed.targetSecret', 'is required: the staging server secret');
  const fromDatabase = seed.fromDatabase ?? databases[0]!;
  problems.collect(() => checkAsTheJobWill('PGFERRY_SEED_FROM_DATABASE', fromDatabase));
  if (!databases.includes(fromDatabase))
    problems.add('seed.fromDatabase', `"${fromDatabase}" is not among databases (${databases.join(', ')})`);
  const target = seed.targetDatabase;
  problems.collect(() => checkAsTheJobWill('PGFERRY_SEED_DATABASE', target));
  if (!seed.confirm)
    problems.add('seed.confirm', "is required: the staging database's name (seeding replaces its contents)");
  else if (target !== undefined && literal(seed.confirm) && seed.confirm !== target)
    problems.add('seed.confirm', `"${seed.confirm}" does not equal seed.targetDatabase "${target}"`);
  const sql = seed.sanitizeSql;
  if (sql !== undefined && !(existsSync(sql) && statSync(sql).isFile()))
    problems.add('seed.sanitizeSql', `${sql} is not a file`);
  const sslMode = problems.collect(() => resolveSslMode('PGFERRY_SEED_SSLMODE', seed.sslMode));
  const swap = problems.collect(() => checkAsTheJobWill('PGFERRY_SWAP', seed.swap));
  problems.throwIfAny();
  return {
    schedule: seed.schedule,
    targetSecret: seed.targetSecret,
    targetDatabase: target,
    fromDatabase,
    confirm: seed.confirm,
    sanitizeSql: sql,
    sslMode: sslMode as SslMode,
    swap: swap ?? true,
  };
}
