import { Annotations, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ResolvedProps } from './resolve-props.js';

/** The tag the engine puts on each backup object (core/storage/backup-layout.ts), one lifecycle rule per value. */
export const TIER_TAG = 'pgferry-tier';
export const TIERS = ['daily', 'weekly', 'monthly'] as const;
/**
 * Put on the stored parts of a sharded backup whose other parts failed to complete (no manifest names
 * them; core/storage/backup-layout.ts): the writer role cannot delete, so a lifecycle rule does.
 */
export const INCOMPLETE_TAG = 'pgferry-incomplete';
export const INCOMPLETE_EXPIRY_DAYS = 1;
/** Where the backup bucket's access logs go inside the logs bucket. */
export const ACCESS_LOG_PREFIX = 'backup-bucket/';
export const ACCESS_LOG_RETENTION_DAYS = 365;

/**
 * Holds the backup bucket's server access logs. Log delivery is allowed by bucket policy (ACLs stay
 * disabled), whatever the app's feature flags say.
 */
function createAccessLogsBucket(scope: Construct): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'AccessLogs', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    // S3 delivers server access logs only to SSE-S3 buckets.
    encryption: s3.BucketEncryption.S3_MANAGED,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [
      { id: 'expire-access-logs', expiration: Duration.days(ACCESS_LOG_RETENTION_DAYS) },
      { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'This bucket is the destination of the backup bucket access logs; logging it too would need yet another bucket, and every write to it comes from the S3 log delivery service.',
  });
  return bucket;
}

/** Points the backup bucket's server access logs at `logs`, allowed by a bucket policy statement. */
function logAccessTo(bucket: s3.Bucket, logs: s3.IBucket): void {
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  cfn.loggingConfiguration = { destinationBucketName: logs.bucketName, logFilePrefix: ACCESS_LOG_PREFIX };
  const added = logs.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'S3ServerAccessLogsForBackupBucket',
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [logs.arnForObjects(`${ACCESS_LOG_PREFIX}*`)],
      conditions: {
        ArnLike: { 'aws:SourceArn': bucket.bucketArn },
        StringEquals: { 'aws:SourceAccount': Stack.of(bucket).account },
      },
    }),
  );
  if (!added.statementAdded) {
    Annotations.of(bucket).addWarningV2(
      'pgferry:accessLogsPolicyNotAdded',
      `accessLogsBucket is imported: allow logging.s3.amazonaws.com to s3:PutObject under ${ACCESS_LOG_PREFIX} in its bucket policy yourself.`,
    );
  }
}

/** What the bucket is made from (PgferryFleet resolves the same fields). */
export type BucketSettings = Pick<
  ResolvedProps,
  'prefix' | 'retentionDays' | 'objectLock' | 'encryptionKey' | 'accessLogsBucket'
>;

function lifecycleRules(p: BucketSettings): s3.LifecycleRule[] {
  const days = p.retentionDays;
  return [
    // A dump that failed mid-upload is aborted by the job; this catches a job that was killed.
    { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ...TIERS.map((tier): s3.LifecycleRule => ({
      id: `expire-${tier}-backups`,
      prefix: `${p.prefix}/`,
      tagFilters: { [TIER_TAG]: tier },
      expiration: Duration.days(days[tier]),
    })),
    {
      id: 'expire-incomplete-sharded-backups',
      prefix: `${p.prefix}/`,
      tagFilters: { [INCOMPLETE_TAG]: 'true' },
      expiration: Duration.days(INCOMPLETE_EXPIRY_DAYS),
    },
    {
      id: 'expire-noncurrent-versions',
      noncurrentVersionExpiration: Duration.days(days.noncurrent),
      expiredObjectDeleteMarker: true,
    },
  ];
}

/**
 * The backup bucket: versioned, no public access, TLS 1.2+ only, encrypted (SSE-S3 or the given KMS
 * key with an S3 Bucket Key), tier lifecycle, optional Object Lock, server access logs. Retained when
 * the stack is deleted: these are the backups.
 */
export function createBackupBucket(scope: Construct, p: BucketSettings): s3.Bucket {
  const lock = p.objectLock;
  const bucket = new s3.Bucket(scope, 'Bucket', {
    versioned: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    ...(p.encryptionKey
      ? { encryption: s3.BucketEncryption.KMS, encryptionKey: p.encryptionKey, bucketKeyEnabled: true }
      : { encryption: s3.BucketEncryption.S3_MANAGED }),
    lifecycleRules: lifecycleRules(p),
    ...(lock
      ? {
          objectLockEnabled: true,
          objectLockDefaultRetention:
            lock.mode === 'compliance'
              ? s3.ObjectLockRetention.compliance(Duration.days(lock.days))
              : s3.ObjectLockRetention.governance(Duration.days(lock.days)),
        }
      : {}),
    removalPolicy: RemovalPolicy.RETAIN,
  });
  logAccessTo(bucket, p.accessLogsBucket ?? createAccessLogsBucket(scope));
  return bucket;
}
