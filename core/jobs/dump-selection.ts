import type { ObjectFilters } from '../pg/args.js';

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
