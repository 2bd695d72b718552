import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { parseLocation } from '../core/storage/location.js';
import { acknowledgeWildcards } from './nag.js';
import type { SourceAccess } from './resolve-props.js';

/** What the job writes: its dumps, manifests and latest.json — never a delete, never a listing. */
export const WRITE_ACTIONS = ['s3:PutObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload'] as const;
/** What the job reads back: the stored dump (verification, seeding) and latest.json. */
export const READ_ACTIONS = ['s3:GetObject'] as const;

export interface JobAccess {
  bucket: s3.IBucket;
  prefix: string;
  /** The bucket's KMS key, when objects are SSE-KMS. */
  encryptionKey?: kms.IKey;
  source: SourceAccess;
  seed?: {
    targetSecret: secretsmanager.ISecret;
    sanitizeSqlObjectArn?: string;
    /** `s3://bucket/key` of the masking rules. */
    maskingRules?: string;
    maskingKey?: secretsmanager.ISecret;
  };
}

function allow(role: iam.Role, statement: iam.PolicyStatement, wildcardReason?: string): void {
  role.addToPrincipalPolicy(statement);
  if (wildcardReason) acknowledgeWildcards(role, [statement], wildcardReason);
}

function grantSecretRead(role: iam.Role, secret: secretsmanager.ISecret, what: string): void {
  const grant = secret.grantRead(role);
  // A secret imported by name has a `-??????` suffix wildcard in its ARN.
  acknowledgeWildcards(
    role,
    grant.principalStatements,
    `Reads only the ${what} secret; the ? wildcards stand for the random suffix Secrets Manager appends to a secret imported by name.`,
  );
}

/** The ARN `rds-db:connect` names for one database user of one instance or cluster. */
export function rdsDbUserArn(stack: Stack, resourceId: string, username: string): string {
  return Arn.format(
    {
      service: 'rds-db',
      resource: 'dbuser',
      resourceName: `${resourceId}/${username}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    },
    stack,
  );
}

/**
 * Grants the job exactly what DESIGN.md allows: write and read objects under its prefix, use the
 * bucket's key through S3 only, read its secret(s) or connect with IAM, and (seeding) read the
 * sanitize SQL object. No delete, no list: retention is the bucket's lifecycle and readers follow
 * latest.json.
 */
export function grantJobAccess(role: iam.Role, a: JobAccess): void {
  grantStorageAccess(role, a);
  grantSourceAccess(role, a.source);
  if (a.seed) grantSeedAccess(role, a.seed);
}

/** Objects under the prefix, and the bucket's key through S3 only. */
export function grantStorageAccess(
  role: iam.Role,
  a: Pick<JobAccess, 'bucket' | 'prefix' | 'encryptionKey'>,
): void {
  const stack = Stack.of(role);
  const objects = a.bucket.arnForObjects(`${a.prefix}/*`);
  const underPrefix = `The job writes and reads only objects under its own prefix (${a.prefix}/), whose keys it names per database and date.`;
  allow(
    role,
    new iam.PolicyStatement({ sid: 'WriteBackups', actions: [...WRITE_ACTIONS], resources: [objects] }),
    underPrefix,
  );
  allow(
    role,
    new iam.PolicyStatement({ sid: 'ReadBackups', actions: [...READ_ACTIONS], resources: [objects] }),
    underPrefix,
  );
  if (a.encryptionKey) {
    allow(
      role,
      new iam.PolicyStatement({
        sid: 'UseBackupKeyThroughS3',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [a.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
      }),
    );
  }
}

/**
 * Reading one source's secret, or connecting to it with IAM (`sid` tells the statements of several
 * IAM sources apart).
 */
export function grantSourceAccess(role: iam.Role, source: SourceAccess, sid = 'ConnectWithIamAuth'): void {
  if (source.kind === 'secret') {
    grantSecretRead(role, source.secret, 'source database');
    return;
  }
  allow(
    role,
    new iam.PolicyStatement({
      sid,
      actions: ['rds-db:connect'],
      resources: [rdsDbUserArn(Stack.of(role), source.resourceId, source.username)],
    }),
  );
}

/** The ARN of the object `s3://bucket/key` names. */
export function s3ObjectArn(stack: Stack, uri: string): string {
  const location = parseLocation(uri, 'seed.maskingRules');
  if (location.kind !== 's3') throw new Error(`${uri} is not an s3:// object`);
  return Arn.format(
    { service: 's3', region: '', account: '', resource: location.bucket, resourceName: location.key },
    stack,
  );
}

/**
 * Reading one staging secret and, when there are, its sanitize SQL object, its masking rules
 * object and its masking key's secret.
 */
export function grantSeedAccess(
  role: iam.Role,
  seed: NonNullable<JobAccess['seed']>,
  /** Tells the statements of several seeds apart (a fleet's second seed: `2`). */
  sidSuffix = '',
): void {
  grantSecretRead(role, seed.targetSecret, 'staging database');
  if (seed.sanitizeSqlObjectArn) {
    const resources = [seed.sanitizeSqlObjectArn];
    allow(
      role,
      new iam.PolicyStatement({ sid: `ReadSanitizeSql${sidSuffix}`, actions: ['s3:GetObject'], resources }),
    );
  }
  if (seed.maskingRules !== undefined) {
    const resources = [s3ObjectArn(Stack.of(role), seed.maskingRules)];
    allow(
      role,
      new iam.PolicyStatement({ sid: `ReadMaskingRules${sidSuffix}`, actions: ['s3:GetObject'], resources }),
    );
  }
  if (seed.maskingKey) grantSecretRead(role, seed.maskingKey, 'masking key');
}
