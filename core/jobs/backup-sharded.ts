import type pg from 'pg';
import type { Logger } from '../log.js';
import type { ConnectionSpec } from '../pg/connection.js';
import type { ExportedSnapshot } from '../pg/exported-snapshot.js';
import { KnockOnError, pipelineAbort, settlePipeline, type Progress } from '../pg/run.js';
import type { ServerFacts } from '../pg/server.js';
import { INCOMPLETE_TAG, partKey, TIER_TAG } from '../storage/backup-layout.js';
import type { PartManifest } from '../storage/manifest.js';
import type { S3Bucket } from '../storage/s3-bucket.js';
import { partSizeFor, queueSizeFor } from '../storage/upload.js';
import {
  startDumpToS3,
  type DumpToS3Options,
  type DumpToS3Result,
  type StartedDumpToS3,
} from './dump-to-s3.js';
import { balance, tableSizes, type TableSize } from './shard-plan.js';

/** One part of a sharded backup, dumped and stored (not yet verified). */
export interface DumpedPart {
  key: string;
  role: PartManifest['role'];
  tables: TableSize[];
  dumped: DumpToS3Result;
}

/** What each part's pg_dump shares: the backup's own dump options less what the plan sets. */
export type SharedDumpOptions = Omit<
  DumpToS3Options,
  'key' | 'tables' | 'excludeTableData' | 'dataOnly' | 'extraArgs' | 'expectedBytes' | 'onProgress'
> & { onProgress?: (p: Progress) => void };

/**
 * `"schema"."name"` as a pg_dump pattern that matches that table alone: inside double quotes every
 * pattern character (`*`, `?`, `.`, `$`, …) is literal and `""` is a quote, so spaces, dots, quotes,
 * unicode and 63-byte names all stay exact.
 */
export function exactTablePattern(t: Pick<TableSize, 'schema' | 'name'>): string {
  const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
  return `${quote(t.schema)}.${quote(t.name)}`;
}

/** On-disk size of the large objects: they stay in the main part, so it weighs that much in the plan. */
async function largeObjectBytes(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ bytes: string }>(
    "SELECT pg_catalog.pg_table_size('pg_catalog.pg_largeobject')::bigint AS bytes",
  );
  return Number(rows[0]?.bytes ?? 0);
}

type PlanItem = { kind: 'main'; bytes: number } | { kind: 'table'; bytes: number; table: TableSize };

export interface ShardPlan {
  /** Part 0 is the main part. */
  parts: { role: PartManifest['role']; tables: TableSize[]; bytes: number }[];
}

/**
 * The parts of a sharded backup: leaf tables balanced by size across `jobs` workers, the main part
 * one of them, weighted with the large objects it always holds. Fewer tables than workers: fewer
 * parts, said as a warning.
 */
export async function planShards(client: pg.Client, jobs: number, log: Logger): Promise<ShardPlan> {
  const tables = await tableSizes(client);
  const items: PlanItem[] = [
    { kind: 'main', bytes: await largeObjectBytes(client) },
    ...tables.map((table): PlanItem => ({ kind: 'table', bytes: table.bytes, table })),
  ];
  const bins = balance(items, jobs);
  if (bins.length < jobs) {
    log.warn(
      `jobs: ${jobs} workers clamped to ${bins.length}: the database has ${tables.length} table(s) to share out, and the main part takes one worker`,
    );
  }
  const parts = bins.map((bin) => ({
    role: bin.items.some((i) => i.kind === 'main') ? ('main' as const) : ('data' as const),
    tables: bin.items.flatMap((i) => (i.kind === 'table' ? [i.table] : [])),
    bytes: bin.bytes,
  }));
  parts.sort((a, b) => (a.role === b.role ? 0 : a.role === 'main' ? -1 : 1));
  return { parts };
}

/** Sums the workers' progress into one line's worth: bytes and rates add up. */
function summedProgress(n: number, onProgress: ((p: Progress) => void) | undefined) {
  if (!onProgress) return () => undefined;
  const last: (Progress | undefined)[] = Array.from({ length: n }, () => undefined);
  return (i: number) => (p: Progress) => {
    last[i] = p;
    const seen = last.filter((x): x is Progress => x !== undefined);
    onProgress({
      ...p,
      bytes: seen.reduce((s, x) => s + x.bytes, 0),
      bytesPerSecond: seen.reduce((s, x) => s + x.bytesPerSecond, 0),
      measured: seen.every((x) => x.measured),
      total: undefined,
    });
  };
}

/**
 * A sharded dump to S3: every part's pg_dump reads the snapshot held by `snapshot`, each streams
 * into its own gated upload, and no upload completes until every pg_dump exited 0 — any failure
 * aborts every part. If a completion then fails (some parts stored, others not), the stored ones are
 * tagged `pgferry-incomplete=true` for the lifecycle rule to expire, and the error is thrown.
 */
export async function dumpShards(o: {
  from: ConnectionSpec;
  key: string;
  plan: ShardPlan;
  snapshot: ExportedSnapshot;
  shared: SharedDumpOptions;
  tier: string;
  server: ServerFacts;
}): Promise<DumpedPart[]> {
  const { bucket, input, log } = o.shared;
  const dataTables = o.plan.parts.filter((p) => p.role === 'data').flatMap((p) => p.tables);
  const progress = summedProgress(o.plan.parts.length, o.shared.onProgress);
  const { controller, signal } = pipelineAbort(o.shared.signal);
  const keys = o.plan.parts.map((_, i) => partKey(o.key, i));
  log.info(
    `sharded backup: ${o.plan.parts.length} parts from snapshot ${o.snapshot.id} (${o.plan.parts
      .map((p, i) => `part ${i}: ${p.role}, ${p.tables.length} table(s), ${p.bytes} bytes on disk`)
      .join('; ')})`,
  );
  const startPart = (i: number): Promise<StartedDumpToS3> => {
    const part = o.plan.parts[i] as ShardPlan['parts'][number];
    const main = part.role === 'main';
    return startDumpToS3({
      ...o.shared,
      from: o.from,
      key: keys[i] as string,
      server: o.server,
      signal,
      extraArgs: [`--snapshot=${o.snapshot.id}`],
      expectedBytes: Math.max(part.bytes, 1),
      // The workers share one object's budget of parts in flight (at least one each), so memory
      // does not grow with their number.
      partsInFlight: Math.max(1, Math.floor(queueSizeFor(partSizeFor(part.bytes)) / o.plan.parts.length)),
      onProgress: progress(i),
      ...(main
        ? { excludeTableData: dataTables.map(exactTablePattern) }
        : {
            dataOnly: true,
            tables: part.tables.map(exactTablePattern),
            // Statistics, policies and sequence values are the main part's, once.
            statistics: false,
            noPolicies: undefined,
            sequenceData: undefined,
          }),
    });
  };
  const started: StartedDumpToS3[] = [];
  const stopAll = async (error: unknown) => {
    controller.abort(error);
    await Promise.all(started.map((s) => s.abort(error)));
  };
  try {
    // The first start provisions the client; the others find it provisioned.
    started.push(await startPart(0));
    for (const s of await Promise.all(o.plan.parts.slice(1).map((_, i) => startPart(i + 1)))) started.push(s);
    await settlePipeline(
      controller,
      started.map((s) => s.ready),
    );
  } catch (error) {
    await stopAll(error);
    throw error;
  }
  // Every pg_dump exited 0 and every stream ended: only now may any part appear.
  const committed = await Promise.allSettled(started.map((s) => s.commit()));
  const failed = committed.flatMap((c) => (c.status === 'rejected' ? [c.reason as unknown] : []));
  if (failed.length) {
    const stored = committed.flatMap((c, i) => (c.status === 'fulfilled' ? [keys[i] as string] : []));
    await markIncomplete(bucket, stored, o.tier, input, log);
    throw failed.find((e) => !(e instanceof KnockOnError)) ?? failed[0];
  }
  return committed.map((c, i) => {
    const part = o.plan.parts[i] as ShardPlan['parts'][number];
    return {
      key: keys[i] as string,
      role: part.role,
      tables: part.tables,
      dumped: (c as PromiseFulfilledResult<DumpToS3Result>).value,
    };
  });
}

/** Tags the parts that were stored of a backup that failed, so the lifecycle rule expires them. */
async function markIncomplete(
  bucket: S3Bucket,
  keys: readonly string[],
  tier: string,
  input: string,
  log: Logger,
): Promise<void> {
  for (const key of keys) {
    await bucket.putTags(key, { [TIER_TAG]: tier, [INCOMPLETE_TAG]: 'true' }, input).then(
      () =>
        log.warn(
          `${bucket.uri(key)} was stored but its backup failed: tagged ${INCOMPLETE_TAG}=true to expire`,
        ),
      (error: unknown) =>
        log.warn(
          `${bucket.uri(key)} was stored but its backup failed, and tagging it failed too: ${(error as Error).message}`,
        ),
    );
  }
}

/** A sharded backup's parts, as its manifest lists them. */
export function partManifests(parts: readonly DumpedPart[]): PartManifest[] {
  return parts.map((p) => ({
    key: p.key,
    bytes: p.dumped.bytes,
    sha256: p.dumped.sha256,
    proof: p.dumped.proof.kind,
    tocEntries: p.dumped.archive.tocEntries,
    role: p.role,
    tables: p.tables.map(({ schema, name }) => ({ schema, name })),
  }));
}
