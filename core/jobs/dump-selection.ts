import type { Writable } from 'node:stream';
import { pgDumpArgs, type ObjectFilters } from '../pg/args.js';
import { toolPath, type ClientTools } from '../pg/clients/tools.js';
import type { CompressionSpec } from '../pg/compression.js';
import { connectionEnv, secretsOf, type ConnectionSpec } from '../pg/connection.js';
import { runTool, type Progress, type ToolResult } from '../pg/run.js';

/** What pg_dump is told to take, picked out of a larger options object (nothing else leaks in). */
export interface DumpSelection extends ObjectFilters {
  schemaOnly?: boolean;
  dataOnly?: boolean;
  noOwner?: boolean;
  noPrivileges?: boolean;
  extraArgs?: string[];
}

export function dumpSelection(o: DumpSelection): DumpSelection {
  const { schemas, excludeSchemas, tables, excludeTables, excludeTableData } = o;
  const { schemaOnly, dataOnly, noOwner, noPrivileges, extraArgs } = o;
  return {
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
  });
}
