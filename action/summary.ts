import * as core from '@actions/core';
import type { JobReport } from '../core/jobs/report.js';
import type { JobOptions } from '../core/options.js';
import { describeConnection } from '../core/pg/connection.js';
import { formatLocation } from '../core/storage/location.js';

function mib(bytes: number | undefined): string | undefined {
  return bytes === undefined ? undefined : `${(bytes / 1048576).toFixed(1)} MiB (${bytes} bytes)`;
}

/** From and to as a reader should see them: databases as user@host:port/db, never a password. */
export function endpoints(options: JobOptions): { from?: string; to?: string } {
  switch (options.command) {
    case 'install':
      return { from: options.source && describeConnection(options.source) };
    case 'dump':
      return { from: describeConnection(options.source), to: formatLocation(options.destination) };
    case 'restore':
      return { from: formatLocation(options.archive), to: describeConnection(options.target) };
    case 'copy':
      return { from: describeConnection(options.source), to: describeConnection(options.target) };
    case 'backup':
      return {
        from: options.sources[0] && describeConnection(options.sources[0]),
        to: formatLocation(options.destination),
      };
  }
}

export async function writeSummary(options: JobOptions, report: JobReport): Promise<void> {
  const { from, to } = endpoints(options);
  const rows: [string, string | undefined][] = [
    ['from', from],
    ['to', to],
    ['client', `PostgreSQL ${report.clientVersion} — ${report.reason}`],
    ['server', report.serverVersion],
    ['format', report.format],
    ['archive version', report.archiveVersion],
    ['size', mib(report.bytes)],
    ['sha256', report.sha256],
    ['TOC entries', report.tocEntries?.toString()],
    ['tables', report.tables?.toString()],
    ['filtered settings', report.filtered.length ? report.filtered.join(', ') : undefined],
    ['duration', `${report.durationSeconds.toFixed(1)} s`],
  ];
  const summary = core.summary.addHeading(`pgferry ${report.command}`, 3).addTable([
    [
      { data: 'what', header: true },
      { data: 'value', header: true },
    ],
    ...rows.filter((r): r is [string, string] => r[1] !== undefined).map(([k, v]) => [k, v]),
  ]);
  if (report.warnings.length) summary.addList(report.warnings.map((w) => `⚠️ ${w}`));
  await summary.write();
}
