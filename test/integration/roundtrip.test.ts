import path from 'node:path';
import { RecordingLogger } from '../../core/log.js';
import { dumpToPath } from '../../core/jobs/dump.js';
import { restoreFromPath } from '../../core/jobs/restore.js';
import { parseConnection } from '../../core/pg/connection.js';
import { SERVER_MAJORS } from '../harness/paths.js';
import { catalog, scratchDir } from '../harness/engine.js';
import { loadDataset } from '../harness/dataset.js';
import { rowHashes, schemaOf } from '../harness/compare.js';
import { connUrl, createDatabase, uniqueName } from '../harness/testbed.js';

const DATASET_RELATIONS = [
  '(large objects)',
  'audit.documents',
  'audit.events_2025',
  'audit.events_2026',
  'inventory.products',
  'sales.customers',
  'sales.daily_revenue',
  'sales.order_items',
  'sales.orders',
];

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

/** Which client each server major gets on this machine: 15 installed, 17/18 mirrored, others lowest newer. */
const EXPECTED_CLIENT: Record<number, number> = { 14: 15, 15: 15, 16: 17, 17: 17, 18: 18 };

describe.each(SERVER_MAJORS)('server %i: dump and restore with the chosen client', (major) => {
  it('restores into a fresh database with identical schema and rows', async () => {
    const source = await createDatabase(major, 'src');
    await loadDataset(major, source, 2000);
    const log = new RecordingLogger();
    const file = path.join(scratch.dir, `${source}.dump`);

    const dumped = await dumpToPath({
      from: parseConnection(connUrl(major, source), 'from', {}),
      to: file,
      format: 'custom',
      compress: 'auto',
      jobs: 'auto',
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    expect(dumped.client.version.major).toBe(EXPECTED_CLIENT[major]);
    expect(dumped.server.version.major).toBe(major);
    expect(dumped.archive.format).toBe('custom');
    expect(dumped.archive.serverVersion?.major).toBe(major);
    expect(dumped.compression.algorithm).toBe(dumped.client.version.major >= 16 ? 'zstd' : 'gzip');
    // The mirror's 17.5 and 18.0 are below the security floor and say so; Debian's 15 is above it.
    const floor =
      EXPECTED_CLIENT[major] === 15
        ? []
        : [
            expect.stringMatching(
              /^PostgreSQL client 1[78]\.\d+ \(.*\) is below the security floor: .*CVE-2026-6477/,
            ),
          ];
    if (EXPECTED_CLIENT[major] !== major) {
      expect(log.warnings.join('\n')).toContain(
        `no PostgreSQL ${major} client could be had; using ${EXPECTED_CLIENT[major]}`,
      );
    } else {
      expect(log.warnings).toEqual(floor);
    }

    const target = uniqueName('dst');
    const restored = await restoreFromPath({
      from: file,
      to: parseConnection(connUrl(major, target), 'to', {}),
      jobs: 'auto',
      postgresVersion: { kind: 'auto' },
      catalog: catalog(log),
      log,
    });
    expect(restored.createdDatabase).toBe(true);
    expect(restored.target.version.major).toBe(major);
    // A 16 server dumped by pg_dump 17 (no 16 client here) restores through the filtered script.
    expect(restored.path).toBe(major === 16 ? 'script' : 'pg_restore');
    if (major === 16)
      expect(restored.filtered).toEqual([expect.stringMatching(/^transaction_timeout \(1×: line \d+\)$/)]);

    expect(await schemaOf(dumped.client, major, target)).toBe(await schemaOf(dumped.client, major, source));
    const sourceRows = await rowHashes(major, source);
    expect(Object.keys(sourceRows).sort()).toEqual(DATASET_RELATIONS);
    expect(await rowHashes(major, target)).toEqual(sourceRows);
  });
});
