import * as core from '@actions/core';
import type { JobReport } from '../core/jobs/report.js';
import type { JobOptions } from '../core/options.js';
import { outputValues } from '../core/outputs.js';
import { describeConnection } from '../core/pg/connection.js';
import { formatSizeExact } from '../core/sizes.js';
import { formatLocation } from '../core/storage/location.js';

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
        from: options.sources.map((s) => describeConnection(s)).join('\n'),
        to: formatLocation(options.destination),
      };
    case 'clone':
      return {
        from: describeConnection(options.source),
        to: options.copies.map((c) => describeConnection(c)).join('\n'),
      };
  }
}

/** S3 keys of the objects a report names (`s3://bucket/key`, one per line), for the summary. */
function keysOf(location: string | undefined): string | undefined {
  const keys = (location ?? '')
    .split('\n')
    .map((l) => /^s3:\/\/[^/]+\/(.+)$/.exec(l)?.[1])
    .filter((k): k is string => k !== undefined);
  return keys.length ? keys.join('\n') : undefined;
}

/**
 * The summary's rows: where from and to, then every output the step set (sizes in their unit, with
 * the exact count), then what the outputs do not carry: the S3 key, a backup's verification, the
 * settings the script filter dropped.
 */
export function summaryRows(options: JobOptions, report: JobReport): [string, string][] {
  const { from, to } = endpoints(options);
  const outputs = outputValues(report).map(([name, value]): [string, string | undefined] => [
    name,
    name === 'bytes' ? formatSizeExact(Number(value)) : String(value),
  ]);
  const rows: [string, string | undefined][] = [
    ['from', from],
    ['to', to],
    ['client', `PostgreSQL ${report.clientVersion} — ${report.reason}`],
    ...outputs,
    ['key', keysOf(report.location)],
    ['verification', report.verification],
    ['filtered settings', report.filtered.length ? report.filtered.join(', ') : undefined],
    ['masking', report.masking?.join('\n')],
  ];
  return rows.filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '');
}

/** Several values (one per database) stay one per line in the table. */
const cell = (text: string): string => escapeHtml(text).split('\n').join('<br>');

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

export async function writeSummary(options: JobOptions, report: JobReport): Promise<void> {
  const summary = core.summary.addHeading(`pgferry ${report.command}`, 3).addTable([
    [
      { data: 'what', header: true },
      { data: 'value', header: true },
    ],
    ...summaryRows(options, report).map(([k, v]) => [k, cell(v)]),
  ]);
  if (report.warnings.length) summary.addList(report.warnings.map((w) => `⚠️ ${escapeHtml(w)}`));
  await summary.write();
}
