import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadDataset } from '../harness/dataset.js';
import { rowHashes } from '../harness/compare.js';
import { REPO_ROOT } from '../harness/paths.js';
import { connUrl, createDatabase, mirrorUrl, testbed, uniqueName } from '../harness/testbed.js';
import { failure, runAction, runnerDirs } from '../harness/action-runner.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Env } from '../harness/s3-engine.js';

const BUCKET = 'pgferry-e2e';
const CLI = path.join(REPO_ROOT, 'dist', 'pgferry.mjs');
let s3: S3TestServer;
let db: string;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  db = await createDatabase(16, 'e2e_s3');
  await loadDataset(16, db, 300);
});
afterAll(async () => s3?.close());

function s3Inputs(): Record<string, string> {
  return {
    's3-endpoint': s3.endpoint,
    's3-force-path-style': 'true',
    's3-region': s3.region,
    mirror: mirrorUrl(),
  };
}

/** The built CLI as a separate process; returns its exit code, stdout and stderr. */
function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...s3Env(s3), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('dump → S3 → restore', () => {
  it('through the Action: backup, then restore the latest verified backup', async () => {
    const dirs = runnerDirs();
    const backup = await runAction(
      { command: 'backup', from: connUrl(16, db), to: `s3://${BUCKET}/action/`, ...s3Inputs() },
      dirs,
      s3Env(s3),
    );
    expect(failure(backup)).toBe('(no ::error:: line)');
    expect(backup.outputs.manifest).toMatch(
      new RegExp(
        `^s3://${BUCKET}/action/${db}/\\d{4}/\\d\\d/\\d\\d/${db}-\\d{8}T\\d{6}\\.\\d{3}Z-[0-9a-f]{8}\\.dump\\.json$`,
      ),
    );
    expect(backup.outputs.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(backup.outputs['client-version']).toBe('17.5');

    const target = uniqueName('e2e_s3_dst');
    const restore = await runAction(
      { command: 'restore', from: `s3://${BUCKET}/action/${db}/`, to: connUrl(16, target), ...s3Inputs() },
      dirs,
      s3Env(s3),
    );
    expect(failure(restore)).toBe('(no ::error:: line)');
    expect(restore.outputs.location).toBe(backup.outputs.location);
    expect(await rowHashes(16, target)).toEqual(await rowHashes(16, db));
    for (const run of [backup, restore]) expect(run.everything).not.toContain(testbed().password);
  });

  it('through the CLI: dump to a key, restore from it, flags and PGFERRY_ variables alike', async () => {
    const key = `cli/${db}.dump`;
    const dump = await cli([
      'dump',
      '--from',
      connUrl(16, db),
      '--to',
      `s3://${BUCKET}/${key}`,
      '--s3-endpoint',
      s3.endpoint,
      '--mirror',
      mirrorUrl(),
      '--json',
    ]);
    expect(dump.stderr).not.toContain(testbed().password);
    expect(dump.stderr).not.toMatch(/^pgferry: /m);
    expect(dump.code).toBe(0);
    const report = JSON.parse(dump.stdout) as { location: string; sha256: string; bytes: number };
    expect(report.location).toBe(`s3://${BUCKET}/${key}`);
    // The object and its manifest, which vouches for it as a backup's does.
    expect(await s3.keys(BUCKET, 'cli/')).toEqual([key, `${key}.json`]);
    expect(JSON.parse((await s3.getText(BUCKET, `${key}.json`)) ?? '{}')).toMatchObject({
      database: db,
      bucket: BUCKET,
      key,
      bytes: report.bytes,
      sha256: report.sha256,
      format: 'custom',
    });

    const target = uniqueName('e2e_cli_dst');
    const restore = await cli(['restore', '--json'], {
      PGFERRY_FROM: `s3://${BUCKET}/${key}`,
      PGFERRY_TO: connUrl(16, target),
      PGFERRY_S3_ENDPOINT: s3.endpoint,
      PGFERRY_MIRROR: mirrorUrl(),
      PGFERRY_JOBS: '1',
    });
    expect(restore.code).toBe(0);
    expect(await rowHashes(16, target)).toEqual(await rowHashes(16, db));
  });

  it('through the CLI: bad input is named, with the usage exit code', async () => {
    // The source by its variable: the refusal alone on stderr, without the argv password warning.
    const run = await cli(['backup', '--to', '/tmp/not-s3'], { PGFERRY_FROM: connUrl(16, db) });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'pgferry: --to: backup stores to S3; expected an s3://bucket/prefix/ URI, not "/tmp/not-s3"\n',
    );
    const unknown = await cli(['dump', '--frm', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^pgferry: unknown arguments?: --frm/);
  });
});
