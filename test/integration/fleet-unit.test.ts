import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { LatestPointer, Manifest } from '../../core/storage/manifest.js';
import { handler } from '../../lambda/fleet-unit.js';
import { REPO_ROOT } from '../harness/paths.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Env, withEnv } from '../harness/s3-engine.js';
import { captureStdout, emfLines, lambdaContext } from '../harness/scheduled-job.js';
import { startSecretsManager, type SecretsManagerStandIn } from '../harness/secrets-manager.js';
import { connUrl, createDatabase, server, sql, testbed } from '../harness/testbed.js';
import { until } from '../harness/until.js';
import { jobBucketEnv, jobClientsEnv } from '../harness/job-env.js';

const BUCKET = 'pgferry-fleet';
const PREFIX = 'fleet';
// A table name that breaks anything that splits or quotes names carelessly.
const TABLE = '"Ünïcode ""quoted"" table; select"';
let s3: S3TestServer;
let secrets: SecretsManagerStandIn;
let scratch: string;
let east: { arn: string; a: string; b: string };
let west: { arn: string; c: string };

function rdsSecret(major: 17 | 18, port = server(major).port): string {
  return JSON.stringify({ host: '127.0.0.1', port, username: 'postgres', password: testbed().password });
}

async function fill(major: 17 | 18, db: string, rows: number): Promise<void> {
  await sql(major, db, `CREATE TABLE ${TABLE} (id int PRIMARY KEY, note text)`);
  await sql(major, db, `INSERT INTO ${TABLE} SELECT g, md5(g::text) FROM generate_series(1, ${rows}) g`);
}

beforeAll(async () => {
  [s3, secrets] = await Promise.all([startS3(), startSecretsManager()]);
  await s3.createBucket(BUCKET);
  const [a, b, c] = await Promise.all([
    createDatabase(17, 'fleet_a'),
    createDatabase(17, 'fleet_b'),
    createDatabase(18, 'fleet_c'),
  ]);
  await Promise.all([fill(17, a, 3000), fill(17, b, 2000), fill(18, c, 1000)]);
  east = { arn: secrets.put('fleet/east', { value: rdsSecret(17) }), a, b };
  west = { arn: secrets.put('fleet/west', { value: rdsSecret(18) }), c };
  scratch = mkdtempSync(path.join(os.tmpdir(), 'pgferry-fleet-'));
});
afterAll(async () => {
  await Promise.all([s3?.close(), secrets?.close()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function fleetJson(extra: Record<string, unknown> = {}, sources?: unknown[]): string {
  return JSON.stringify({
    sources: sources ?? [
      { id: 'east', secretArn: east.arn, sslMode: 'disable', databases: [east.a, east.b] },
      { id: 'west', secretArn: west.arn, sslMode: 'disable', databases: [west.c] },
    ],
    lambdaLimitSeconds: 900,
    deadlineMarginSeconds: 60,
    ...extra,
  });
}

/** The environment the construct sets, pointed at the local servers. */
function fleetEnv(fleet = fleetJson()): Record<string, string> {
  return {
    ...s3Env(s3),
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    PGFERRY_FLEET: fleet,
    ...jobBucketEnv(s3, BUCKET, PREFIX),
    ...jobClientsEnv(scratch),
  };
}

type Outcome = { unit: string; outcome: string; error?: string; message?: string } & Record<string, unknown>;

/** What the state machine's Catch records: the result, or the error's name and message. */
async function invoke(event: Record<string, unknown>): Promise<Outcome> {
  try {
    return (await handler(event, lambdaContext(900_000) as never)) as unknown as Outcome;
  } catch (error) {
    const e = error as Error;
    return { unit: String(event.unit), outcome: 'failed', error: e.name, message: e.message };
  }
}

/** Runs `work` over `items` with at most `limit` at a time, as the Map state's concurrency does. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let running = 0;
  let peak = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      running++;
      peak = Math.max(peak, running);
      results[i] = await work(items[i] as T).finally(() => running--);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  expect(peak).toBeLessThanOrEqual(limit);
  return results;
}

/** Predict, then run where the prediction says (here always Lambda), as one Map item does. */
async function unitOnLambda(unit: string): Promise<Outcome> {
  const prediction = await invoke({ unit, job: 'backup', phase: 'predict' });
  if (prediction.outcome === 'failed') return prediction;
  expect(prediction).toMatchObject({ unit, compute: 'lambda', fitsLambda: true });
  return invoke({ unit, job: 'backup', phase: 'run' });
}

async function latestOf(unit: string): Promise<LatestPointer | undefined> {
  const text = await s3.getText(BUCKET, `${PREFIX}/${unit}/latest.json`);
  return text === undefined ? undefined : (JSON.parse(text) as LatestPointer);
}

async function manifest(key: string): Promise<Manifest> {
  return JSON.parse((await s3.getText(BUCKET, key)) ?? 'null') as Manifest;
}

/**
 * Terminates the backend of the first pg_dump that reads `db`: a session holds an exclusive lock on
 * the table, so pg_dump waits on it, seen in pg_stat_activity, and is terminated from another
 * connection while its upload is open.
 */
async function terminateDumpOf(db: string): Promise<() => Promise<number>> {
  const locker = new pg.Client({ connectionString: connUrl(17, db) });
  await locker.connect();
  const lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
  await locker.query('BEGIN');
  await locker.query(`LOCK TABLE ${TABLE} IN ACCESS EXCLUSIVE MODE`);
  let terminated = 0;
  const watching = until(
    `a pg_dump waiting on ${db}`,
    async () => {
      const rows = await sql<{ ok: boolean }>(
        17,
        'postgres',
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE datname = '${db}' AND wait_event_type = 'Lock' AND pid <> ${lockerPid}`,
      );
      terminated += rows.filter((r) => r.ok).length;
      return terminated > 0;
    },
    120,
    50,
  );
  watching.catch(() => {}); // awaited below; this only keeps an early timeout from going unhandled
  return async () => {
    await watching.finally(() => locker.end());
    return terminated;
  };
}

describe('fleet unit entry', () => {
  it('backs up 3 databases on 2 servers two at a time; a terminated dump fails only its own unit', async () => {
    const units = [`east/${east.a}`, `east/${east.b}`, `west/${west.c}`];
    const first = await captureStdout(() => withEnv(fleetEnv(), () => pool(units, 2, unitOnLambda)));
    expect(first.result.map((r) => [r.unit, r.outcome, r.error])).toEqual(
      units.map((u) => [u, 'done', undefined]),
    );
    for (const r of first.result) {
      const pointer = await latestOf(r.unit);
      expect(pointer?.manifest).toBe(r.manifestKey);
      const m = await manifest(String(r.manifestKey));
      expect(m.databaseBytes).toBeGreaterThan(0);
      expect(m.estimateSeconds).toBe(r.estimateSeconds);
      expect(m.durationSeconds).toBe(r.durationSeconds);
    }
    const metrics = emfLines(first.lines).filter((l) => l.Job === 'backup' && l.Success === 1);
    expect(metrics.map((l) => l.Database).sort()).toEqual([...units].sort());

    const before = await Promise.all(units.map(latestOf));
    const keysBefore = await s3.keys(BUCKET, `${PREFIX}/east/${east.b}/`);
    const terminated = await terminateDumpOf(east.b);
    const second = await captureStdout(() => withEnv(fleetEnv(), () => pool(units, 2, unitOnLambda)));
    expect(await terminated()).toBe(1);
    // The execution's result: every unit with its outcome.
    expect(second.result.map((r) => [r.unit, r.outcome, r.error])).toEqual([
      [units[0], 'done', undefined],
      [units[1], 'failed', 'PgferryFailed'],
      [units[2], 'done', undefined],
    ]);
    expect(second.result[1]?.message).toMatch(/^east\/fleet_b_\w+: pg_dump /);
    const after = await Promise.all(units.map(latestOf));
    expect(after[1]).toEqual(before[1]);
    expect(after[0]?.key).not.toBe(before[0]?.key);
    expect(after[2]?.key).not.toBe(before[2]?.key);
    // Nothing of the failed run was stored: no dump, no manifest.
    expect(await s3.keys(BUCKET, `${PREFIX}/east/${east.b}/`)).toEqual(keysBefore);
    // The second night learned from the first one's manifest.
    const predictions = second.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.step === 'predict');
    expect(predictions.map((p) => p.basis)).toEqual(['history', 'history', 'history']);
    const failures = emfLines(second.lines).filter((l) => l.Failure === 1);
    expect(failures.map((l) => l.Database)).toEqual([units[1]]);
    expect(second.lines.join('\n')).not.toContain(testbed().password);
  });

  it('refuses on Lambda what its estimate says cannot fit, and the Fargate entry runs it', async () => {
    const unit = `west/${west.c}`;
    // 30 s of fixed overhead alone exceeds 40 s less a 15 s margin.
    const env = fleetEnv(fleetJson({ lambdaLimitSeconds: 40, deadlineMarginSeconds: 15 }));
    const before = await latestOf(unit);
    const { result } = await captureStdout(() =>
      withEnv(env, async () => [
        await invoke({ unit, job: 'backup', phase: 'predict' }),
        await invoke({ unit, job: 'backup', phase: 'run' }),
      ]),
    );
    const [prediction, run] = result;
    expect(prediction).toMatchObject({ unit, fitsLambda: false, compute: 'fargate' });
    expect(prediction?.estimateSeconds).toBeGreaterThanOrEqual(30);
    expect(run).toMatchObject({ outcome: 'failed', error: 'PgferryWontFit' });
    expect(run?.message).toContain(`the estimate is ${String(prediction?.estimateSeconds)} s`);
    expect(run?.message).toMatch(/Compute\.fargate\(\.\.\.\).*Compute\.auto\(\)/);
    expect(await latestOf(unit)).toEqual(before);

    const task = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [path.join(REPO_ROOT, 'scripts', 'run-ts.mjs'), 'lambda/task.ts'],
        {
          cwd: REPO_ROOT,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '',
            ...env,
            PGFERRY_FLEET_FARGATE: '1',
            PGFERRY_FLEET_UNIT: unit,
            PGFERRY_FLEET_JOB: 'backup',
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('close', (code) => resolve({ code, stdout }));
    });
    expect(task.code).toBe(0);
    const lines = task.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const done = lines.find((l) => l.step === 'result');
    expect(done).toMatchObject({ unit, outcome: 'done' });
    expect((await latestOf(unit))?.manifest).toBe(done?.manifestKey);
  });

  it('retries a unit whose server refuses connections, before anything is uploaded', async () => {
    // A port that was just free: nothing listens, so the connection is refused.
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    const down = secrets.put('fleet/down', { value: rdsSecret(17, port) });
    const env = fleetEnv(
      fleetJson({}, [{ id: 'down', secretArn: down, sslMode: 'disable', databases: ['app'] }]),
    );
    const { result } = await captureStdout(() =>
      withEnv(env, async () => [
        await invoke({ unit: 'down/app', job: 'backup', phase: 'predict' }),
        await invoke({ unit: 'down/app', job: 'backup', phase: 'run' }),
        await invoke({ unit: 'down/other', job: 'backup', phase: 'run' }),
      ]),
    );
    expect(result[0]).toMatchObject({
      error: 'PgferryRetryable',
      message: expect.stringMatching(/connection refused/),
    });
    expect(result[1]).toMatchObject({ error: 'PgferryRetryable' });
    expect(result[2]).toMatchObject({
      error: 'PgferryFailed',
      message: expect.stringMatching(/"down\/other" is not a unit of this fleet/),
    });
    expect(await s3.keys(BUCKET, `${PREFIX}/down/`)).toEqual([]);
  });
  it('seeds staging from the latest verified backup of its unit, as a unit of its own', async () => {
    const staging = await createDatabase(18, 'fleet_stg');
    const stagingArn = secrets.put('fleet/staging', { value: rdsSecret(18) });
    const seeds = [
      {
        id: 'staging',
        from: `east/${east.a}`,
        secretArn: stagingArn,
        database: staging,
        confirm: staging,
        sslMode: 'disable',
      },
    ];
    const env = fleetEnv(fleetJson({ seeds }));
    const { result } = await captureStdout(() =>
      withEnv(env, async () => [
        await invoke({ unit: `east/${east.a}`, job: 'backup', phase: 'run' }),
        await invoke({ unit: 'staging', job: 'seed', phase: 'predict' }),
        await invoke({ unit: 'staging', job: 'seed', phase: 'run' }),
        await invoke({ unit: `east/${east.a}`, job: 'seed', phase: 'run' }),
      ]),
    );
    const [backup, prediction, seeded, wrong] = result;
    expect(backup).toMatchObject({ outcome: 'done' });
    expect(prediction).toMatchObject({ unit: 'staging', compute: 'lambda', fitsLambda: true });
    expect(seeded).toMatchObject({ unit: 'staging', outcome: 'done', manifestKey: backup?.manifestKey });
    expect(wrong).toMatchObject({
      error: 'PgferryFailed',
      message: expect.stringMatching(/is not a seed of this fleet; expected one of staging/),
    });
    expect(await sql<{ n: string }>(18, staging, `SELECT count(*) AS n FROM ${TABLE}`)).toEqual([
      { n: '3000' },
    ]);
  });

  it('seeds with its own masking rules and key secret: staging holds only masked values', async () => {
    const staging = await createDatabase(18, 'fleet_masked');
    const rules = path.join(scratch, 'fleet rules.json');
    // The hostile table name, quoted as SQL quotes it, inside a JSON rules file.
    writeFileSync(rules, JSON.stringify({ columns: { [`public.${TABLE}.note`]: 'hash' } }));
    const seeds = [
      {
        id: 'masked',
        from: `east/${east.a}`,
        secretArn: secrets.put('fleet/masked', { value: rdsSecret(18) }),
        database: staging,
        confirm: staging,
        sslMode: 'disable',
        maskingRules: rules,
        maskingKeySecretArn: secrets.put('fleet/masking-key', { value: 'fleet-masking-key' }),
      },
    ];
    const env = fleetEnv(fleetJson({ seeds }));
    const { result, lines } = await captureStdout(() =>
      withEnv(env, async () => [
        await invoke({ unit: `east/${east.a}`, job: 'backup', phase: 'run' }),
        await invoke({ unit: 'masked', job: 'seed', phase: 'run' }),
      ]),
    );
    const [backup, seeded] = result;
    expect(backup).toMatchObject({ outcome: 'done' });
    expect(seeded).toMatchObject({ unit: 'masked', outcome: 'done', manifestKey: backup?.manifestKey });
    // Its coverage report as the metric the fleet's alarm for this seed reads: under its unit.
    expect(emfLines(lines).filter((m) => 'UncoveredColumns' in m)).toEqual([
      expect.objectContaining({ Job: 'seed', Database: 'masked', UncoveredColumns: 0 }),
    ]);
    const notes = async (major: 17 | 18, db: string): Promise<Map<number, string>> =>
      new Map(
        (await sql<{ id: number; note: string }>(major, db, `SELECT id, note FROM ${TABLE}`)).map((r) => [
          r.id,
          r.note,
        ]),
      );
    // The fleet's Lambda, like the single job's, takes the key from its secret only: a plain key
    // in its environment is refused before staging is reached.
    const plainKey = 'plain-masking-key-in-the-environment';
    const refused = await captureStdout(() =>
      withEnv(
        {
          ...fleetEnv(fleetJson({ seeds: [{ ...seeds[0], maskingKeySecretArn: undefined }] })),
          PGFERRY_MASKING_KEY: plainKey,
        },
        () => invoke({ unit: 'masked', job: 'seed', phase: 'run' }),
      ),
    );
    expect(refused.result).toMatchObject({
      outcome: 'failed',
      message: expect.stringMatching(/PGFERRY_MASKING_KEY: is not read on Lambda/),
    });
    expect(refused.lines.join('\n')).not.toContain(plainKey);
    const [source, masked] = await Promise.all([notes(17, east.a), notes(18, staging)]);
    expect([...masked.keys()].sort((a, b) => a - b)).toEqual([...source.keys()].sort((a, b) => a - b));
    const kept = [...masked].filter(([id, note]) => source.get(id) === note);
    expect(kept).toEqual([]);
    // hash: 32 hex digits of a keyed digest (refused without a key: the secret was read).
    expect([...masked.values()].every((n) => /^[0-9a-f]{32}$/.test(n))).toBe(true);
  });
});
