import { literal, wholeDays } from './prop-rules.js';
import { fail, PropProblems } from './props-error.js';
import { checkAsTheJobWill } from './resolve-engine-values.js';
import type { ObjectLockMode, PgferryBackupProps } from './props.js';

export const DEFAULT_PREFIX = 'backups';
export const DEFAULT_RETENTION_DAYS = { daily: 7, weekly: 35, monthly: 400, noncurrent: 30 } as const;
// Prefix segments: no wildcards (IAM), no empty segments, no leading or trailing `/`.
const PREFIX = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

export interface ResolvedStorage {
  prefix: string;
  retentionDays: { daily: number; weekly: number; monthly: number; noncurrent: number };
  objectLock?: { days: number; mode: ObjectLockMode };
}

/** The job's rule for a prefix, and the construct's stricter one: the prefix also goes into IAM resources. */
function resolvePrefix(value: string | undefined): string {
  const prefix = value ?? DEFAULT_PREFIX;
  checkAsTheJobWill('PGFERRY_PREFIX', prefix);
  if (!literal(prefix) || !PREFIX.test(prefix)) {
    fail(
      'prefix',
      `"${prefix}" is not a key prefix; expected segments of letters, digits, _ . - separated by / (no leading or trailing /, no . or ..)`,
    );
  }
  return prefix;
}

/** The props storage reads (PgferryFleet has the same ones). */
export type StorageProps = Pick<
  PgferryBackupProps,
  | 'bucket'
  | 'prefix'
  | 'objectLockRetention'
  | 'objectLockMode'
  | 'dailyRetention'
  | 'weeklyRetention'
  | 'monthlyRetention'
  | 'noncurrentVersionRetention'
  | 'accessLogsBucket'
>;

/** Props that only a bucket created here can honour. */
function checkExistingBucket(props: StorageProps): void {
  const createdOnly: (keyof StorageProps)[] = [
    'objectLockRetention',
    'objectLockMode',
    'dailyRetention',
    'weeklyRetention',
    'monthlyRetention',
    'noncurrentVersionRetention',
    'accessLogsBucket',
  ];
  const problems = new PropProblems();
  for (const prop of createdOnly) {
    if (props[prop] === undefined) continue;
    problems.collect(() =>
      fail(
        prop,
        prop.startsWith('objectLock')
          ? 'needs a bucket created by PgferryBackup; an existing bucket cannot be checked for versioning and Object Lock here — configure Object Lock on that bucket itself'
          : 'needs a bucket created by PgferryBackup; an existing bucket keeps its own lifecycle and logging',
      ),
    );
  }
  problems.throwIfAny();
}

/** Where and how long backups are kept; lifecycle and Object Lock only on a bucket created here. */
export function resolveStorage(props: StorageProps): ResolvedStorage {
  const problems = new PropProblems();
  if (props.bucket) problems.collect(() => checkExistingBucket(props));
  problems.collect(() => {
    if (props.objectLockMode !== undefined && props.objectLockRetention === undefined) {
      fail('objectLockMode', 'needs objectLockRetention');
    }
    if (props.objectLockMode !== undefined && !['governance', 'compliance'].includes(props.objectLockMode)) {
      fail('objectLockMode', `"${String(props.objectLockMode)}" is not governance or compliance`);
    }
  });
  const prefix = problems.collect(() => resolvePrefix(props.prefix)) ?? DEFAULT_PREFIX;
  problems.throwIfAny();
  return {
    prefix,
    retentionDays: {
      daily: wholeDays('dailyRetention', props.dailyRetention, DEFAULT_RETENTION_DAYS.daily),
      weekly: wholeDays('weeklyRetention', props.weeklyRetention, DEFAULT_RETENTION_DAYS.weekly),
      monthly: wholeDays('monthlyRetention', props.monthlyRetention, DEFAULT_RETENTION_DAYS.monthly),
      noncurrent: wholeDays(
        'noncurrentVersionRetention',
        props.noncurrentVersionRetention,
        DEFAULT_RETENTION_DAYS.noncurrent,
      ),
    },
    objectLock:
      props.objectLockRetention === undefined
        ? undefined
        : {
            days: wholeDays('objectLockRetention', props.objectLockRetention, 1),
            mode: props.objectLockMode ?? 'governance',
          },
  };
}
