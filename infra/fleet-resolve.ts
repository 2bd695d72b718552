import { existsSync, statSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Compute } from './compute.js';
import type { FleetSeed, FleetSource, PgferryFleetProps } from './fleet-props.js';
import { literal } from './prop-rules.js';
import { PgferryBackupPropsError, PropProblems } from './props-error.js';
import type { PgferryBackupProps, SeedMaskingProps, SslMode } from './props.js';
import {
  resolveFargate,
  resolveLambda,
  type ResolvedFargate,
  type ResolvedLambda,
} from './resolve-compute.js';
import {
  checkAsTheJobWill,
  resolveCompress,
  resolveJobs,
  resolvePostgresVersion,
  resolveVerify,
} from './resolve-engine-values.js';
import { DEFAULT_SCHEDULE_EXPRESSION, resolveStaleAfter } from './resolve-props.js';
import { resolveDatabases, resolveMajors, resolveSource, type SourceAccess } from './resolve-source.js';
import { resolveMasking } from './resolve-seed.js';
import { resolveStorage, type ResolvedStorage } from './resolve-storage.js';

/**
 * The fixed part of every run's estimate on the unit's side (connect, client start-up, verification,
 * manifest and latest.json): a Lambda whose timeout less its deadline margin is not above it can hold
 * no unit at all, whatever the database's size.
 */
export const UNIT_OVERHEAD_SECONDS = 30;
export const DEFAULT_CONCURRENCY = { overall: 4, perServer: 1 } as const;
export const DEFAULT_EXECUTION_TIMEOUT_HOURS = 23;
// An id is a unit-name segment, a metric dimension and a state machine item: kept plain and short.
const FLEET_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const ENCRYPTING: readonly SslMode[] = ['require', 'verify-ca', 'verify-full'];

export interface ResolvedFleetSource {
  id: string;
  access: SourceAccess;
  sslMode: SslMode;
  sslRootCert?: string;
  databases: string[];
}

export interface ResolvedFleetSeed extends SeedMaskingProps {
  id: string;
  from: string;
  targetSecret: secretsmanager.ISecret;
  targetDatabase: string;
  confirm: string;
  sanitizeSql?: string;
  sslMode: SslMode;
  sslRootCert?: string;
  swap: boolean;
}

export interface ResolvedFleetCompute {
  kind: 'lambda' | 'fargate' | 'auto';
  lambda?: ResolvedLambda;
  fargate?: ResolvedFargate;
}

export interface ResolvedFleet extends ResolvedStorage {
  sources: ResolvedFleetSource[];
  /** Every backup unit, `<sourceId>/<database>`, in the order given. */
  units: string[];
  seeds: ResolvedFleetSeed[];
  /** `servers`: how many servers run at once, so that servers × perServer ≤ overall. */
  concurrency: { overall: number; perServer: number; servers: number };
  compute: ResolvedFleetCompute;
  vpc: ec2.IVpc;
  vpcSubnets: ec2.SubnetSelection;
  postgresMajors: number[];
  postgresVersion: string;
  compress: string;
  jobs?: number;
  verify: 'list' | 'full' | 'restore';
  minClientVersion?: string;
  clientSource?: string;
  clientMirror?: string;
  clientCacheDir?: string;
  schedule: events.Schedule;
  props: PgferryFleetProps;
  staleAfterHours: number;
  executionTimeout: Duration;
  logRetention: logs.RetentionDays;
}

/** Runs `check`, naming its problems under `to` instead of `from` (`database.endpoint` → `sources[1].endpoint`). */
function renamed<T>(problems: PropProblems, from: string, to: string, check: () => T): T | undefined {
  return problems.collect(() => {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof PgferryBackupPropsError)) throw error;
      throw new PgferryBackupPropsError(
        error.problems.map((p) => ({
          prop: p.prop === from || p.prop.startsWith(`${from}.`) ? to + p.prop.slice(from.length) : p.prop,
          problem: p.problem,
        })),
      );
    }
  });
}

function checkId(problems: PropProblems, prop: string, id: string, taken: Set<string>): void {
  if (typeof id !== 'string' || !literal(id) || !FLEET_ID.test(id))
    problems.add(prop, `"${String(id)}" is not an id; expected letters, digits, _ - (at most 32, literal)`);
  else if (taken.has(id)) problems.add(prop, `"${id}" is used twice; ids are unique in the fleet`);
  taken.add(id);
}

function sslModeOf(problems: PropProblems, prop: string, mode: SslMode | undefined): SslMode {
  const chosen = mode ?? 'require';
  if (!ENCRYPTING.includes(chosen))
    problems.add(prop, `"${String(chosen)}" is not allowed; expected ${ENCRYPTING.join(', ')}`);
  return chosen;
}

function needsRootCert(problems: PropProblems, prop: string, mode: SslMode, cert?: string): void {
  if ((mode === 'verify-ca' || mode === 'verify-full') && !cert)
    problems.add(prop, `is required with sslMode ${mode}: the CA bundle path where the job runs`);
}

function resolveFleetSource(s: FleetSource, i: number, problems: PropProblems): ResolvedFleetSource {
  const at = `sources[${i}]`;
  const access = renamed(problems, 'database', at, () =>
    resolveSource({ database: s } as unknown as PgferryBackupProps),
  );
  const databases =
    renamed(problems, 'databases', `${at}.databases`, () => resolveDatabases(s.databases)) ?? [];
  const sslMode = sslModeOf(problems, `${at}.sslMode`, s.sslMode);
  needsRootCert(problems, `${at}.sslRootCert`, sslMode, s.sslRootCert);
  return { id: s.id, access: access!, sslMode, sslRootCert: s.sslRootCert, databases };
}

function resolveSources(sources: FleetSource[], problems: PropProblems): ResolvedFleetSource[] {
  if (!Array.isArray(sources) || sources.length === 0) {
    problems.add('sources', 'needs at least one server with its databases');
    return [];
  }
  const ids = new Set<string>();
  return sources.map((s, i) => {
    checkId(problems, `sources[${i}].id`, s.id, ids);
    return resolveFleetSource(s, i, problems);
  });
}

function resolveFleetSeed(
  seed: FleetSeed,
  at: string,
  units: string[],
  problems: PropProblems,
): ResolvedFleetSeed {
  if (!units.includes(seed.from))
    problems.add(`${at}.from`, `"${seed.from}" is not a unit of the fleet; expected <sourceId>/<database>`);
  if (!seed.targetSecret) problems.add(`${at}.targetSecret`, 'is required: the staging server secret');
  problems.collect(() =>
    checkAsTheJobWill('PGFERRY_SEED_DATABASE', seed.targetDatabase, `${at}.targetDatabase`),
  );
  if (!seed.targetDatabase) problems.add(`${at}.targetDatabase`, 'is required: the staging database');
  if (!seed.confirm)
    problems.add(`${at}.confirm`, "is required: the staging database's name (seeding replaces its contents)");
  else if (literal(seed.confirm) && seed.confirm !== seed.targetDatabase)
    problems.add(`${at}.confirm`, `"${seed.confirm}" does not equal targetDatabase "${seed.targetDatabase}"`);
  if (
    seed.sanitizeSql !== undefined &&
    !(existsSync(seed.sanitizeSql) && statSync(seed.sanitizeSql).isFile())
  )
    problems.add(`${at}.sanitizeSql`, `${seed.sanitizeSql} is not a file`);
  const sslMode = sslModeOf(problems, `${at}.sslMode`, seed.sslMode);
  needsRootCert(problems, `${at}.sslRootCert`, sslMode, seed.sslRootCert);
  problems.collect(() => resolveMasking(seed, at));
  return { ...seed, sslMode, swap: seed.swap ?? true };
}

function resolveSeeds(
  props: PgferryFleetProps,
  units: string[],
  problems: PropProblems,
): ResolvedFleetSeed[] {
  const ids = new Set((props.sources ?? []).map((s) => s.id));
  return (props.seeds ?? []).map((seed, i) => {
    checkId(problems, `seeds[${i}].id`, seed.id, ids);
    return resolveFleetSeed(seed, `seeds[${i}]`, units, problems);
  });
}

function positiveInteger(problems: PropProblems, prop: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    problems.add(prop, `${value} is not a limit; expected a whole number of units ≥ 1`);
}

function resolveConcurrency(props: PgferryFleetProps, problems: PropProblems): ResolvedFleet['concurrency'] {
  const overall = props.concurrency?.overall ?? DEFAULT_CONCURRENCY.overall;
  const perServer = props.concurrency?.perServer ?? DEFAULT_CONCURRENCY.perServer;
  positiveInteger(problems, 'concurrency.overall', overall);
  positiveInteger(problems, 'concurrency.perServer', perServer);
  if (perServer > overall)
    problems.add('concurrency.perServer', `${perServer} is above concurrency.overall (${overall})`);
  return { overall, perServer, servers: Math.max(1, Math.floor(overall / perServer)) };
}

function resolveFleetCompute(compute: Compute | undefined, problems: PropProblems): ResolvedFleetCompute {
  const chosen = compute ?? Compute.lambda();
  const lambda = chosen.kind === 'fargate' ? undefined : resolveLambda(chosen.lambdaOptions ?? {}, problems);
  const fargate =
    chosen.kind === 'lambda' ? undefined : resolveFargate(chosen.fargateOptions ?? {}, problems);
  if (lambda) {
    const room = lambda.timeout.toSeconds() - lambda.deadlineMarginSeconds;
    if (room <= UNIT_OVERHEAD_SECONDS)
      problems.add(
        'compute.timeout',
        `${lambda.timeout.toHumanString()} less the ${lambda.deadlineMarginSeconds} s deadline margin leaves ${room} s, which holds no unit (every run needs more than ${UNIT_OVERHEAD_SECONDS} s); raise the timeout, lower the margin or use Compute.fargate()`,
      );
  }
  return { kind: chosen.kind, lambda, fargate };
}

function resolveExecutionTimeout(value: Duration | undefined, problems: PropProblems): Duration {
  const timeout = value ?? Duration.hours(DEFAULT_EXECUTION_TIMEOUT_HOURS);
  const seconds = timeout.toSeconds();
  // Standard workflows run for at most a year; under ten minutes no unit of any size could finish.
  if (seconds < 600 || seconds > 365 * 86400)
    problems.add('executionTimeout', `${timeout.toHumanString()} is outside 10 minutes–365 days`);
  return timeout;
}

/** Every fleet prop checked at once and the defaults applied; one error names every bad prop. */
export function resolveFleet(props: PgferryFleetProps): ResolvedFleet {
  const problems = new PropProblems();
  if (!props.vpc) problems.add('vpc', 'is required');
  const check = <T>(resolve: () => T): T => problems.collect(resolve) as T;
  const sources = resolveSources(props.sources, problems);
  const units = sources.flatMap((s) => s.databases.map((d) => `${s.id}/${d}`));
  const seeds = resolveSeeds(props, units, problems);
  const concurrency = resolveConcurrency(props, problems);
  const compute = resolveFleetCompute(props.compute, problems);
  const postgresMajors = check(() => resolveMajors(props.postgresMajors));
  const postgresVersion =
    postgresMajors && check(() => resolvePostgresVersion(props.postgresVersion, postgresMajors));
  const compress = check(() => resolveCompress(props.compress));
  const jobs = check(() => resolveJobs(props.jobs));
  const verify = check(() => resolveVerify(props.verify));
  if (props.minClientVersion !== undefined)
    check(() => checkAsTheJobWill('PGFERRY_MIN_CLIENT_VERSION', props.minClientVersion));
  if (props.clientSource !== undefined)
    check(() => checkAsTheJobWill('PGFERRY_CLIENT_SOURCE', props.clientSource));
  if (props.metricsNamespace !== undefined)
    check(() => checkAsTheJobWill('PGFERRY_METRICS_NAMESPACE', props.metricsNamespace));
  const storage = check(() => resolveStorage(props));
  const staleAfterHours = check(() => resolveStaleAfter(props.staleAfter));
  const executionTimeout = resolveExecutionTimeout(props.executionTimeout, problems);
  problems.throwIfAny();
  return {
    ...storage,
    sources,
    units,
    seeds,
    concurrency,
    compute,
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    postgresMajors,
    postgresVersion,
    compress,
    jobs,
    verify,
    minClientVersion: props.minClientVersion,
    clientSource: props.clientSource,
    clientMirror: props.clientMirror,
    clientCacheDir: props.clientCacheDir,
    schedule: props.schedule ?? events.Schedule.expression(DEFAULT_SCHEDULE_EXPRESSION),
    props,
    staleAfterHours,
    executionTimeout,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
  };
}
