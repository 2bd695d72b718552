import { InputProblems } from '../core/errors.js';
import { databaseNameProblem } from '../core/storage/database-name.js';
import { parseBoolean } from '../core/values.js';
import type { EventOverrides } from './event.js';

const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

/** The variables a direct invocation's event may override, and the field that does. */
const EVENT_FIELDS = {
  PGFERRY_JOB: 'event.job',
  PGFERRY_DATABASES: 'event.databases',
  PGFERRY_VERIFY: 'event.verify',
  PGFERRY_COMPRESS: 'event.compress',
  PGFERRY_POSTGRES_VERSION: 'event.postgresVersion',
  PGFERRY_JOBS: 'event.jobs',
} as const;

/**
 * The job's `PGFERRY_*` variables with the event's overrides on top, read one at a time, each problem
 * collected and named as written: the variable, or `event.<field>` where the event set it.
 */
export class VariableReader {
  readonly problems = new InputProblems();
  private readonly fromEvent: Record<string, string | undefined>;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    overrides: EventOverrides,
  ) {
    this.fromEvent = {
      PGFERRY_JOB: overrides.job,
      PGFERRY_DATABASES: overrides.databases?.join(','),
      PGFERRY_VERIFY: overrides.verify,
      PGFERRY_COMPRESS: overrides.compress,
      PGFERRY_POSTGRES_VERSION: overrides.postgresVersion,
      PGFERRY_JOBS: overrides.jobs,
    };
  }

  label(name: string): string {
    const field = (EVENT_FIELDS as Record<string, string>)[name];
    return this.fromEvent[name] !== undefined && field !== undefined ? field : name;
  }

  raw(name: string): string | undefined {
    const value = this.fromEvent[name] ?? this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  add(name: string, problem: string): void {
    this.problems.add(name, problem);
  }

  /** `parse` applied to the variable, named by its label; `fallback` when it failed. */
  parsed<T>(name: string, parse: (raw: string | undefined, input: string) => T, fallback: T): T {
    return this.problems.collect(() => parse(this.raw(name), this.label(name))) ?? fallback;
  }

  bool(name: string, fallback = false): boolean {
    return this.parsed(name, (raw, input) => parseBoolean(raw, input, fallback), fallback);
  }

  required(name: string, what: string): string {
    const v = this.raw(name);
    if (v === undefined) this.problems.add(name, `is required; expected ${what}`);
    return v ?? '';
  }

  secretArn(name: string): string {
    const v = this.required(name, 'a Secrets Manager secret ARN');
    if (v && !SECRET_ARN.test(v))
      this.problems.add(
        name,
        'is not a Secrets Manager secret ARN; expected arn:aws:secretsmanager:<region>:<account>:secret:<name>',
      );
    return v;
  }

  sslmode(name: string): string {
    const v = this.raw(name) ?? 'require';
    if (!SSLMODES.includes(v))
      this.problems.add(name, `"${v}" is not an sslmode; expected one of ${SSLMODES.join(', ')}`);
    return v;
  }

  /** Database names become key segments and metric dimensions: the one rule of core/. */
  database(name: string, value: string): string | undefined {
    const problem = databaseNameProblem(value);
    if (problem === undefined) return value;
    this.problems.add(this.label(name), problem);
    return undefined;
  }
}

export const verifying = (mode: string): boolean => mode === 'verify-ca' || mode === 'verify-full';
