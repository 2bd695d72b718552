// The pgferry CDK construct library: `new PgferryBackup(stack, 'Backup', { … })`.
export { PgferryBackup } from './pgferry-backup.js';
export type {
  IamAuth,
  ObjectLockMode,
  PgferryBackupProps,
  SeedProps,
  SourceDatabase,
  SslMode,
} from './props.js';
export { Compute, type FargateComputeOptions, type LambdaComputeOptions } from './compute.js';
export { PgferryBackupPropsError } from './resolve-props.js';
export { applyNag, nagAcknowledgments, nagFindings } from './nag.js';
