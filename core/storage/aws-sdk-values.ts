// The AWS SDK's S3 values pgferry uses, in one module that only core/storage/aws-sdk.ts imports
// (dynamically): a run that never touches S3 never evaluates the SDK.
export {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
export { Upload } from '@aws-sdk/lib-storage';
