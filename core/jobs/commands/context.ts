import type { Logger } from '../../log.js';
import type { ClientTools } from '../../pg/clients/tools.js';
import type { ClientStore } from '../../pg/clients/store.js';
import { ClientCatalog } from '../../pg/clients/catalog.js';
import type { Progress } from '../../pg/run.js';
import { formatVersion } from '../../pg/version.js';
import type { ClientOptions } from '../../options.js';
import type { JobReport } from '../report.js';

/** What the front end gives a run besides its options: where to log, stop, report progress, cache. */
export interface FrontEndContext {
  log: Logger;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** The Action's tool cache; elsewhere the default cache directory. */
  store?: ClientStore;
  cacheDir?: string;
  /** Explicit client bin directory (PGFERRY_BIN_DIR). */
  binDir?: string;
  /** GitHub token for the releases API. */
  token?: string;
  /**
   * Told each time a step of the run has changed something for good (a restore committed, an object
   * stored), in words; a front end's failure summary says which changes happened before the failure.
   */
  onCommitted?: (what: string) => void;
}

/** One run of a command: its context, the client catalog and when it started. */
export interface CommandRun {
  ctx: FrontEndContext;
  catalog: ClientCatalog;
  started: number;
  /** The engine's hooks every job takes. */
  hooks: { catalog: ClientCatalog; log: Logger; signal?: AbortSignal; onProgress?: (p: Progress) => void };
}

export function startRun(options: ClientOptions, ctx: FrontEndContext): CommandRun {
  const catalog = new ClientCatalog({
    log: ctx.log,
    mirror: options.mirror,
    clientSource: options.clientSource,
    cache: options.cache,
    minClientVersion: options.minClientVersion,
    cacheDir: ctx.cacheDir,
    store: ctx.store,
    binDir: ctx.binDir,
    token: ctx.token,
    signal: ctx.signal,
  });
  const hooks = { catalog, log: ctx.log, signal: ctx.signal, onProgress: ctx.onProgress };
  return { ctx, catalog, started: Date.now(), hooks };
}

export function secondsSince(started: number): number {
  return (Date.now() - started) / 1000;
}

/** The report fields every command has about its client. */
export function clientFields(
  tools: ClientTools,
): Pick<JobReport, 'clientVersion' | 'clientSource' | 'binDir'> {
  return { clientVersion: formatVersion(tools.version), clientSource: tools.source, binDir: tools.binDir };
}
