import type { Logger } from '../log.js';
import type { ClientCatalog } from '../pg/clients/catalog.js';
import type { Progress } from '../pg/run.js';

/** What every job is given to work with: clients, a voice, a way to stop and a progress sink. */
export interface JobHooks {
  catalog: ClientCatalog;
  log: Logger;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** How often onProgress is called; 10 s unless a caller wants it livelier. */
  progressIntervalMs?: number;
}
