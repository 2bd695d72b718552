import type { LineSink } from './json-log.js';

/**
 * CloudWatch embedded metric format: one JSON log line that CloudWatch turns into metrics, so the job
 * needs no PutMetricData permission. infra/ alarms on these names.
 */
export type MetricName =
  | 'Success'
  | 'Failure'
  | 'Bytes'
  | 'DurationSeconds'
  | 'LatestVerifiedBackupAgeSeconds'
  | 'VerifiedBackups'
  | 'UncoveredColumns';

const UNITS: Readonly<Record<MetricName, string>> = {
  Success: 'Count',
  Failure: 'Count',
  Bytes: 'Bytes',
  DurationSeconds: 'Seconds',
  LatestVerifiedBackupAgeSeconds: 'Seconds',
  VerifiedBackups: 'Count',
  // A masked seed's personal-looking columns that no rule covers (its coverage report).
  UncoveredColumns: 'Count',
};

export type MetricValues = Partial<Record<MetricName, number>>;

/** What a verified backup reports, in the single job and in a fleet's unit alike. */
export function verifiedBackupMetrics(manifest: { bytes: number; durationSeconds: number }): MetricValues {
  return {
    Success: 1,
    Failure: 0,
    VerifiedBackups: 1,
    Bytes: manifest.bytes,
    DurationSeconds: manifest.durationSeconds,
    LatestVerifiedBackupAgeSeconds: 0,
  };
}

export class Metrics {
  constructor(
    private readonly sink: LineSink,
    private readonly namespace: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** One line with `values` under the given dimensions, e.g. `{Job: 'backup', Database: 'app'}`. */
  emit(dimensions: Record<string, string>, values: MetricValues): void {
    const names = (Object.keys(values) as MetricName[]).filter((n) => Number.isFinite(values[n]));
    if (names.length === 0) return;
    this.sink(
      JSON.stringify({
        _aws: {
          Timestamp: this.now().getTime(),
          CloudWatchMetrics: [
            {
              Namespace: this.namespace,
              Dimensions: [Object.keys(dimensions)],
              Metrics: names.map((Name) => ({ Name, Unit: UNITS[Name] })),
            },
          ],
        },
        ...dimensions,
        ...Object.fromEntries(names.map((n) => [n, values[n]])),
      }),
    );
  }
}
