import type { ResolvedProps } from './resolve-props.js';

/** A legal but risky combination of props: shown by `cdk synth`, acknowledgeable by its id. */
export interface RiskWarning {
  id: string;
  message: string;
}

/** Above this, a dump is unlikely to finish inside Lambda's 15 minutes. */
export const LAMBDA_SIZE_LIMIT_GIB = 10;
/** A restore drill roughly doubles a run: warn earlier. */
export const LAMBDA_DRILL_SIZE_LIMIT_GIB = 5;

export function riskyCombinations(p: ResolvedProps): RiskWarning[] {
  const out: RiskWarning[] = [];
  const size = p.expectedSizeGiB;
  if (!p.alarmTopic && !p.alarmEmail) {
    out.push({
      id: 'pgferry:alarmsGoNowhere',
      message:
        'No alarmTopic and no alarmEmail: the alarms notify a new topic that nobody is subscribed to. Pass alarmEmail or alarmTopic, or subscribe to the created topic.',
    });
  }
  if (p.compute.kind === 'lambda' && size !== undefined && size > LAMBDA_SIZE_LIMIT_GIB) {
    out.push({
      id: 'pgferry:lambdaTooSmall',
      message: `expectedSizeGiB is ${size}: a dump that large may not finish within Lambda's 15 minutes (the job stops cleanly and the alarm fires). Use compute: Compute.fargate().`,
    });
  }
  if (
    p.compute.kind === 'lambda' &&
    p.verify === 'restore' &&
    size !== undefined &&
    size > LAMBDA_DRILL_SIZE_LIMIT_GIB
  ) {
    out.push({
      id: 'pgferry:lambdaRestoreDrill',
      message: `verify: 'restore' on Lambda with expectedSizeGiB ${size}: the restore drill runs in the same 15 minutes as the dump. Use Compute.fargate() or verify: 'list'.`,
    });
  }
  const localDiskGiB =
    p.compute.kind === 'lambda'
      ? p.compute.ephemeralStorage.toMebibytes() / 1024
      : p.compute.ephemeralStorageGiB;
  if ((p.seed || p.verify === 'restore') && size !== undefined && size > localDiskGiB) {
    out.push({
      id: 'pgferry:diskSmallerThanBackup',
      message: `expectedSizeGiB (${size}) is larger than the job's local disk (${localDiskGiB} GiB): seeding or a restore drill that downloads the archive may run out of space. Raise the compute's ephemeral storage.`,
    });
  }
  if (p.objectLock && p.objectLock.days > p.retentionDays.daily) {
    out.push({
      id: 'pgferry:objectLockOutlivesDaily',
      message: `objectLockRetention (${p.objectLock.days} days) is longer than dailyRetention (${p.retentionDays.daily} days): expired daily backups stay stored, as locked noncurrent versions, until their lock ends.`,
    });
  }
  return out;
}
