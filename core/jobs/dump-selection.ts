import type { Writable } from 'node:stream';
import { pgDumpArgs, type ObjectFilters } from '../pg/args.js';
import { toolPath, type ClientTools } from '../pg/clients/tools.js';
import type { CompressionSpec } from '../pg/compression.js';
import type { FilterFile } from '../pg/filter-file.js';
import { connectionEnv, secretsOf, type ConnectionSpec } from '../pg/connection.js';
import { runTool, type Progress, type ProgressTotal, type ToolResult } from '../pg/run.js';
import { tableDataBytes } from '../pg/server.js';

/** What pg_dump is told to take, picked out of a larger options object (nothing else leaks in). */
export interface DumpSelection extends ObjectFilters {
  schemaOnly?: boolean;
  dataOnly?: boolean;
  noOwner?: boolean;
  noPrivileges?: boolean;
  extraArgs?: string[];
  /** pg_dump 17/18 features (options.ts NewerDumpOptions), gated on the client when argv is built. */
  statistics?: boolean | 'when-supported';
  filter?: FilterFile;
  noPolicies?: boolean;
  sequenceData?: boolean;
}

export function dumpSelection(o: DumpSelection): DumpSelection {
  const { schemas, excludeSchemas, tables, excludeTables, excludeTableData } = o;
  const { schemaOnly, dataOnly, noOwner, noPrivileges, extraArgs } = o;
  const { statistics, filter, noPolicies, sequenceData } = o;
  return {
    statistics,
    filter,
    noPolicies,
    sequenceData,
    schemas,
    excludeSchemas,
    tables,
    excludeTables,
    excludeTableData,
    schemaOnly,
    dataOnly,
    noOwner,
    noPrivileges,
    extraArgs,
  };
}

/**
 * What a dump's output can be compared with for a percentage: the on-disk size of the table data
 * (heap and TOAST of user tables, large objects), not pg_database_size, which counts indexes and
 * catalogs that a dump writes as a line of DDL. Only for an uncompressed dump of everything: text
 * rows are near their on-disk size, compressed ones are a fraction of it, and a filtered selection
 * is not the whole database's data. Undefined otherwise, and the line shows bytes and rate alone.
 */
export async function dumpProgressTotal(
  from: ConnectionSpec,
  selection: DumpSelection,
  compression: CompressionSpec,
  onProgress: unknown,
): Promise<ProgressTotal | undefined> {
  const filtered = [
    selection.schemas,
    selection.excludeSchemas,
    selection.tables,
    selection.excludeTables,
    selection.excludeTableData,
    selection.filter?.rules,
    // A backup's own --snapshot takes nothing away; any other extra argument might.
    selection.extraArgs?.filter((arg) => !arg.startsWith('--snapshot=')),
  ].some((list) => (list?.length ?? 0) > 0);
  if (!onProgress || filtered || selection.schemaOnly || compression.algorithm !== 'none') return undefined;
  const bytes = await tableDataBytes(from);
  return bytes ? { bytes, of: 'table data on disk', estimate: true } : undefined;
}

/** pg_dump of `from` in the custom format to a stream (a copy's restore, an upload). */
export function streamCustomDump(o: {
  client: ClientTools;
  from: ConnectionSpec;
  selection: DumpSelection;
  compression: CompressionSpec;
  stdout: Writable;
  signal: AbortSignal;
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
  /** The dump's total for a percentage (dumpProgressTotal), when one can be estimated. */
  total?: ProgressTotal;
  /** A copy's stream rather than a dump written. */
  counts?: 'written' | 'streamed';
}): Promise<ToolResult> {
  return runTool({
    file: toolPath(o.client, 'pg_dump'),
    args: pgDumpArgs({
      ...dumpSelection(o.selection),
      clientMajor: o.client.version.major,
      format: 'custom',
      compression: o.compression,
    }),
    env: connectionEnv(o.from),
    secrets: secretsOf(o.from),
    stdout: o.stdout,
    signal: o.signal,
    onProgress: o.onProgress,
    progressIntervalMs: o.progressIntervalMs,
    meter: { counts: o.counts ?? 'written', ...(o.total ? { total: o.total } : {}) },
  });
}
