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
export {
  Compute,
  type AutoComputeOptions,
  type FargateComputeOptions,
  type LambdaComputeOptions,
} from './compute.js';
export { PgferryFleet } from './pgferry-fleet.js';
export type { FleetConcurrency, FleetSeed, FleetSource, PgferryFleetProps } from './fleet-props.js';
export { PgferryBackupPropsError } from './resolve-props.js';
export { applyNag, nagAcknowledgments, nagFindings } from './nag.js';
