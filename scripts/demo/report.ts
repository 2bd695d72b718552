/**
 * The demo's report: printed, and written as JSON to PGFERRY_DEMO_REPORT when set (CI reads its
 * `rowsMatch` and `bytes`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CliReport } from './cli.js';
import { durations, mib, redact, say } from './output.js';

/** What the phases found, for the report. */
export interface DemoOutcome {
  major: number;
  bucket: string;
  sourceTables: number;
  sourceRows: number;
  sourceBytes: number;
  online: boolean;
  clientArchives: string;
  backup: CliReport;
  restore: CliReport;
  mismatches: string[];
  /** performance.now() when the demo started. */
  started: number;
}

export function demoReport(o: DemoOutcome) {
  const { backup, restore } = o;
  const bytes = backup.bytes ?? 0;
  return {
    rowsMatch: o.mismatches.length === 0,
    mismatches: o.mismatches,
    tables: o.sourceTables,
    rows: o.sourceRows,
    databaseBytes: o.sourceBytes,
    bytes,
    compressionRatio: bytes > 0 ? Number((o.sourceBytes / bytes).toFixed(2)) : null,
    online: o.online,
    clientArchives: o.clientArchives,
    backup: {
      clientVersion: backup.clientVersion,
      clientSource: backup.clientSource,
      serverVersion: backup.serverVersion,
      reason: backup.reason,
      location: backup.location,
      manifest: backup.manifest,
      format: backup.format,
      archiveVersion: backup.archiveVersion,
      sha256: backup.sha256,
      warnings: backup.warnings,
    },
    restore: {
      clientVersion: restore.clientVersion,
      clientSource: restore.clientSource,
      serverVersion: restore.serverVersion,
      reason: restore.reason,
      location: restore.location,
      tables: restore.tables,
      warnings: restore.warnings,
    },
    durationsSeconds: { ...durations, total: Number(((performance.now() - o.started) / 1000).toFixed(2)) },
  };
}
type DemoReport = ReturnType<typeof demoReport>;

export function printReport(o: DemoOutcome, report: DemoReport): void {
  const { backup, restore } = o;
  say('');
  say('pgferry demo — report');
  say(
    `  source        PostgreSQL ${backup.serverVersion ?? o.major}, ${report.tables} tables, ${o.sourceRows} rows`,
  );
  say(`  client source ${o.clientArchives}`);
  say(`  backup        pg_dump ${backup.clientVersion} (${backup.clientSource}): ${backup.reason}`);
  say(`  restore       pg_restore ${restore.clientVersion} (${restore.clientSource}): ${restore.reason}`);
  say(`  stored        ${backup.location}`);
  say(
    `  manifest      ${backup.manifest?.startsWith('s3://') ? backup.manifest : `s3://${o.bucket}/${backup.manifest}`}`,
  );
  say(
    `  size          database ${mib(o.sourceBytes)} → backup ${mib(report.bytes)} (${report.bytes} bytes, ${report.compressionRatio ?? '?'}× smaller, ${backup.format ?? 'custom'} archive ${backup.archiveVersion ?? ''})`,
  );
  say(
    `  durations     ${Object.entries(report.durationsSeconds)
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
      .join(', ')}`,
  );
  say(
    `  row counts    ${report.rowsMatch ? `all ${report.tables} tables match (${o.sourceRows} rows)` : 'MISMATCH'}`,
  );
  for (const m of o.mismatches) say(`                ${m}`);
  for (const w of [...backup.warnings, ...restore.warnings]) say(`  warning       ${w}`);
}

/** The report as JSON at `file`, redacted like every printed line. */
export function writeReport(file: string, report: DemoReport): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, `${redact(JSON.stringify(report, null, 2))}\n`);
}
