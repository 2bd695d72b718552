import { existsSync, statSync } from 'node:fs';
import { Token } from 'aws-cdk-lib';
import { isS3Uri } from '../core/storage/location.js';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { literal, resolveSslMode } from './prop-rules.js';
import { checkAsTheJobWill } from './resolve-engine-values.js';
import { PropProblems } from './props-error.js';
import type { PgferryBackupProps, SeedMaskingProps, SslMode } from './props.js';

export interface ResolvedSeed extends SeedMaskingProps {
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
  problems.collect(() => resolveMasking(seed, 'seed'));
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
    maskingRules: seed.maskingRules,
    maskingKey: seed.maskingKey,
  };
}

/**
 * The masking props (of `at`: `seed` or `seeds[i]`), checked as the job will read them; the rules
 * must be an S3 object (a path would have to exist inside the bundle), and a key without rules
 * would be read for nothing.
 */
export function resolveMasking(seed: SeedMaskingProps, at: string): void {
  const problems = new PropProblems();
  const rules = seed.maskingRules;
  problems.collect(() => checkAsTheJobWill('PGFERRY_MASKING_RULES', rules, `${at}.maskingRules`));
  if (rules !== undefined && !Token.isUnresolved(rules) && !isS3Uri(rules))
    problems.add(
      `${at}.maskingRules`,
      `"${rules}" is not an s3:// URI; expected s3://bucket/key of the rules object (the job may read exactly it)`,
    );
  const key = seed.maskingKey;
  if (typeof key === 'string')
    problems.collect(() => checkAsTheJobWill('PGFERRY_MASKING_KEY_SECRET_ARN', key, `${at}.maskingKey`));
  if (key !== undefined && rules === undefined)
    problems.add(`${at}.maskingKey`, `is set without ${at}.maskingRules; nothing would use the key`);
  problems.throwIfAny();
}
