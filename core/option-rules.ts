import type { InputProblems } from './errors.js';
import { dumpJobs } from './jobs/parallelism.js';
import type { JobOptions } from './options.js';
import type { S3Settings } from './storage/s3-settings.js';

/**
 * Checks across inputs, one small named rule each, run by the parser after every input was parsed
 * alone: they fail before anything is provisioned or connected. `options` is undefined when an
 * endpoint (from/to) was wrong; rules about endpoints then have nothing to say.
 */
interface RuleParts {
  content: { schemaOnly: boolean; dataOnly: boolean };
  s3: S3Settings;
}

export type OptionRule = (parts: RuleParts, options: JobOptions | undefined, problems: InputProblems) => void;

const schemaOnlyOrDataOnly: OptionRule = ({ content }, _o, problems) => {
  if (content.schemaOnly && content.dataOnly)
    problems.add('data-only', 'cannot be combined with schema-only');
};

const kmsKeyNeedsKms: OptionRule = ({ s3 }, _o, problems) => {
  if (s3.kmsKeyId && s3.sse !== 'aws:kms') problems.add('s3-kms-key-id', 'needs s3-sse: aws:kms');
};

/** pg_dump runs jobs only into a directory archive. */
const dumpJobsFitFormat: OptionRule = (_p, o, problems) => {
  if (o?.command === 'dump') problems.collect(() => dumpJobs(o.format, o.jobs));
};

/** A sharded backup's parts are custom archives, each streamed to its own object. */
const shardedBackupIsCustom: OptionRule = (_p, o, problems) => {
  if (o?.command === 'backup' && typeof o.jobs === 'number' && o.jobs > 1 && o.format !== 'custom')
    problems.add(
      'jobs',
      `${o.jobs} jobs shard a backup into custom archives, one per worker; the ${o.format} format cannot be sharded (use format custom or jobs 1)`,
    );
};

/** A dump streamed to S3 is one object in the custom format, under a key (a prefix is backup's). */
const s3DumpIsOneCustomObject: OptionRule = (_p, o, problems) => {
  if (o?.command !== 'dump' || o.destination.kind !== 's3') return;
  const { bucket, key } = o.destination;
  if (!key || key.endsWith('/'))
    problems.add(
      'to',
      `s3://${bucket}/${key} is a prefix; a dump needs an object key (use backup for a prefix)`,
    );
  if (o.format !== 'custom')
    problems.add('format', `a dump streamed to S3 is written in the custom format, not ${o.format}`);
};

export const OPTION_RULES: readonly OptionRule[] = [
  schemaOnlyOrDataOnly,
  kmsKeyNeedsKms,
  dumpJobsFitFormat,
  s3DumpIsOneCustomObject,
  shardedBackupIsCustom,
];
