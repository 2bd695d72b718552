import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './paths.js';

/** The built Lambda bundle and the Fargate task bundle (`npm run build:lambda`). */
export const HANDLER_BUNDLE = path.join(REPO_ROOT, 'dist', 'lambda', 'handler.mjs');
export const TASK_BUNDLE = path.join(REPO_ROOT, 'dist', 'lambda', 'task.mjs');

export type Handler = (event: unknown, context: unknown) => Promise<unknown>;

export async function loadHandler(): Promise<Handler> {
  const mod = (await import(pathToFileURL(HANDLER_BUNDLE).href)) as { handler: Handler };
  return mod.handler;
}

/** What EventBridge sends for a schedule rule. */
export function scheduledEvent(at = new Date()): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: at.toISOString().replace(/\.\d+Z$/, 'Z'),
    region: 'eu-west-1',
    resources: ['arn:aws:events:eu-west-1:123456789012:rule/pgferry-nightly-backup'],
    detail: {},
  };
}

/** A Lambda context whose clock runs down in real time from `remainingMs`. */
export function lambdaContext(remainingMs: number): Record<string, unknown> {
  const deadline = Date.now() + remainingMs;
  return {
    awsRequestId: randomUUID(),
    functionName: 'pgferry-backup',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:pgferry-backup',
    memoryLimitInMB: '2048',
    logGroupName: '/aws/lambda/pgferry-backup',
    logStreamName: '2026/11/24/[$LATEST]0123456789abcdef',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** Runs `work` with process.stdout captured line by line (the handler's logs and metric lines). */
export async function captureStdout<T>(work: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  let partial = '';
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    partial += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    return true;
  }) as typeof process.stdout.write;
  try {
    const result = await work();
    return { result, lines };
  } finally {
    process.stdout.write = original;
    if (partial) lines.push(partial);
  }
}

export interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit?: string }[];
    }[];
  };
  [key: string]: unknown;
}

const UNITS = new Set(['Count', 'Bytes', 'Seconds', 'Milliseconds', 'None']);

/**
 * The metric lines among `lines`, each checked against the embedded metric format's rules: a
 * Timestamp, a namespace, dimension sets whose keys are root members holding strings, and metric
 * names that are root members holding numbers. Throws on the first violation.
 */
export function emfLines(lines: readonly string[]): EmfLine[] {
  const out: EmfLine[] = [];
  for (const line of lines) {
    const value = JSON.parse(line) as Record<string, unknown>;
    if (!('_aws' in value)) continue;
    const emf = value as EmfLine;
    const problems: string[] = [];
    if (!Number.isInteger(emf._aws.Timestamp)) problems.push('Timestamp is not an integer');
    if (!Array.isArray(emf._aws.CloudWatchMetrics) || emf._aws.CloudWatchMetrics.length === 0)
      problems.push('no CloudWatchMetrics');
    for (const directive of emf._aws.CloudWatchMetrics ?? []) {
      if (!/^[^:].{0,254}$/.test(directive.Namespace ?? '')) problems.push('bad Namespace');
      for (const set of directive.Dimensions) {
        if (set.length > 30) problems.push('more than 30 dimensions');
        for (const key of set)
          if (typeof emf[key] !== 'string') problems.push(`dimension ${key} is not a string member`);
      }
      if (directive.Metrics.length === 0 || directive.Metrics.length > 100) problems.push('bad metric count');
      for (const metric of directive.Metrics) {
        if (typeof emf[metric.Name] !== 'number')
          problems.push(`metric ${metric.Name} is not a number member`);
        if (metric.Unit !== undefined && !UNITS.has(metric.Unit)) problems.push(`unit ${metric.Unit}`);
      }
    }
    if (problems.length) throw new Error(`not EMF (${problems.join('; ')}): ${line}`);
    out.push(emf);
  }
  return out;
}

/** Every string in the job's JSON log lines, one per line, so a refusal can be matched as printed. */
export function messagesIn(stdout: string): string {
  const strings: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') strings.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  for (const line of stdout.split('\n').filter(Boolean)) walk(JSON.parse(line));
  return strings.join('\n');
}
