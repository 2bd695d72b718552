import { InputProblems } from '../core/errors.js';
import type { EventOverrides } from './event.js';
import {
  JOB_VARIABLES,
  type JobVariable,
  type JobVariableName,
  type JobVariableValue,
} from './job-variables.js';

/** The variables a direct invocation's event may override, and the field that does. */
const EVENT_FIELDS = {
  PGFERRY_JOB: 'event.job',
  PGFERRY_DATABASES: 'event.databases',
  PGFERRY_VERIFY: 'event.verify',
  PGFERRY_COMPRESS: 'event.compress',
  PGFERRY_POSTGRES_VERSION: 'event.postgresVersion',
  PGFERRY_JOBS: 'event.jobs',
} as const satisfies Partial<Record<JobVariableName, string>>;

/**
 * The job's `PGFERRY_*` variables with the event's overrides on top, each read through its parser in
 * lambda/job-variables.ts, each problem collected and named as written: the variable, or
 * `event.<field>` where the event set it.
 */
export class VariableReader {
  readonly problems = new InputProblems();
  private readonly fromEvent: Partial<Record<JobVariableName, string>>;

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

  label(name: JobVariableName): string {
    const field = (EVENT_FIELDS as Partial<Record<JobVariableName, string>>)[name];
    return this.fromEvent[name] !== undefined && field !== undefined ? field : name;
  }

  raw(name: JobVariableName): string | undefined {
    const value = this.fromEvent[name] ?? this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  add(name: string, problem: string): void {
    this.problems.add(name, problem);
  }

  /** The variable's value by its parser, or `fallback` when the parser refused it (the problem is kept). */
  value<K extends JobVariableName>(name: K, fallback: JobVariableValue<K>): JobVariableValue<K> {
    const variable = JOB_VARIABLES[name] as JobVariable<JobVariableValue<K>>;
    return this.problems.collect(() => variable.parse(this.raw(name), this.label(name))) ?? fallback;
  }

  /** A value that must be set: its parser's value, or a problem saying what is expected. */
  required<K extends JobVariableName>(name: K, what: string): NonNullable<JobVariableValue<K>> | undefined {
    if (this.raw(name) === undefined) {
      this.problems.add(this.label(name), `is required; expected ${what}`);
      return undefined;
    }
    return this.value(name, undefined as JobVariableValue<K>) ?? undefined;
  }
}
