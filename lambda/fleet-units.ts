import { InputError } from '../core/errors.js';
import type { ScheduledJobConfig, ScheduledJobName } from './config.js';
import type { FleetConfig, FleetSeed, FleetSource } from './fleet-config.js';

/** One unit of work of the fleet: a database to back up, or a staging database to seed. */
export type FleetUnit =
  | { job: 'backup'; unit: string; source: FleetSource; database: string }
  | { job: 'seed'; unit: string; source: FleetSource; seed: FleetSeed };

/** Every backup unit, `<sourceId>/<database>`, in the order the fleet lists them. */
export function backupUnits(fleet: FleetConfig): string[] {
  return fleet.sources.flatMap((s) => s.databases.map((d) => `${s.id}/${d}`));
}

/**
 * The unit an event or the Fargate task names: a backup unit is `<sourceId>/<database>`, a seed unit
 * its seed's id. Anything the fleet does not list is refused: the state machine only ever sends
 * units it was built from, so anything else is a mistake or someone else's request.
 */
export function findUnit(fleet: FleetConfig, unit: string, job: ScheduledJobName, input: string): FleetUnit {
  if (job === 'seed') {
    const seed = fleet.seeds.find((s) => s.id === unit);
    const source = fleet.sources.find((s) => s.id === seed?.from.source);
    if (seed && source) return { job, unit, source, seed };
    const ids = fleet.seeds.map((s) => s.id);
    throw new InputError(
      input,
      `"${unit}" is not a seed of this fleet; expected ${ids.length ? `one of ${ids.join(', ')}` : 'no seed (the fleet has none)'}`,
    );
  }
  const slash = unit.indexOf('/');
  const source = fleet.sources.find((s) => s.id === unit.slice(0, slash));
  const database = unit.slice(slash + 1);
  if (slash > 0 && source?.databases.includes(database)) return { job, unit, source, database };
  throw new InputError(
    input,
    `"${unit}" is not a unit of this fleet; expected <sourceId>/<database>, one of ${backupUnits(fleet).join(', ')}`,
  );
}

/**
 * Where a source's backups live: `<prefix>/<sourceId>/<database>/…`. Two servers may each have an
 * `app` database; without the source's id their backups and latest.json would be one.
 */
export function unitPrefix(fleet: FleetConfig, source: FleetSource): string {
  return fleet.shared.prefix ? `${fleet.shared.prefix}/${source.id}` : source.id;
}

/** The single-database job's configuration for one unit, so both run the very same code. */
export function unitJobConfig(fleet: FleetConfig, u: FleetUnit): ScheduledJobConfig {
  const base = {
    ...fleet.shared,
    prefix: unitPrefix(fleet, u.source),
    source: u.source.auth,
    sourceSslmode: u.source.sslmode,
    deadlineMarginSeconds: fleet.deadlineMarginSeconds,
  };
  if (u.job === 'backup')
    return { ...base, job: 'backup', sslRootCert: u.source.sslRootCert, databases: [u.database] };
  const seed = u.seed;
  return {
    ...base,
    job: 'seed',
    // The single job has one CA bundle for both servers: the seed's own when it names one.
    sslRootCert: seed.sslRootCert ?? u.source.sslRootCert,
    databases: [seed.from.database],
    seed: {
      secretArn: seed.secretArn,
      database: seed.database,
      fromDatabase: seed.from.database,
      confirm: seed.confirm,
      sslmode: seed.sslmode,
      sanitizeSql: seed.sanitizeSql,
      swap: seed.swap,
      ...(seed.maskingRules ? { maskingRules: seed.maskingRules } : {}),
      ...(seed.maskingKeySecretArn ? { maskingKeySecretArn: seed.maskingKeySecretArn } : {}),
    },
  };
}
