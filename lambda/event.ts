import { InputError, InputProblems } from '../core/errors.js';

/** What a direct invocation may change; credentials, bucket and prefix come only from the environment. */
export interface EventOverrides {
  job?: string;
  databases?: string[];
  verify?: string;
  compress?: string;
  postgresVersion?: string;
  jobs?: string;
}

const FIELDS = ['job', 'databases', 'verify', 'compress', 'postgresVersion', 'jobs'] as const;

/** EventBridge's scheduled events carry no configuration: everything comes from the environment. */
function isScheduledEvent(event: Record<string, unknown>): boolean {
  return event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event';
}

/**
 * The handler's input: a scheduled event (no overrides) or `{"job": "backup" | "seed", …}`. Anything
 * else is refused, and a field that looks like a credential gets told where credentials belong.
 */
export function parseEvent(event: unknown): EventOverrides {
  if (event === undefined || event === null) return {};
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InputError(
      'event',
      'is not an object; expected a scheduled event or {"job": "backup" | "seed"}',
    );
  }
  const record = event as Record<string, unknown>;
  if (isScheduledEvent(record)) return {};
  const problems = new InputProblems();
  const out: EventOverrides = {};
  for (const [key, value] of Object.entries(record)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      problems.add(
        `event.${key}`,
        /pass|secret|key|token|cred|url|conn/i.test(key)
          ? 'is not accepted: credentials come from Secrets Manager or IAM authentication, never from the event'
          : `is not a field the job takes; expected ${FIELDS.join(', ')}`,
      );
      continue;
    }
    if (key === 'databases') {
      const list = typeof value === 'string' ? [value] : value;
      if (
        !Array.isArray(list) ||
        list.length === 0 ||
        !list.every((d) => typeof d === 'string' && d !== '')
      ) {
        problems.add('event.databases', 'expected a non-empty array of database names');
      } else out.databases = list as string[];
      continue;
    }
    if (typeof value === 'number' && key === 'jobs') out.jobs = String(value);
    else if (typeof value === 'string') out[key as Exclude<(typeof FIELDS)[number], 'databases'>] = value;
    else problems.add(`event.${key}`, 'expected a string');
  }
  problems.throwIfAny();
  return out;
}
