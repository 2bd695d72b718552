import { PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { tableCounts } from '../../core/jobs/table-counts.js';
import { stageClients } from '../../infra/stage-clients.js';
import type { LatestPointer, Manifest } from '../../core/storage/manifest.js';
import { loadDataset } from '../harness/dataset.js';
import { scratchesOf } from '../harness/database-state.js';
import { SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { startS3, type S3TestServer } from '../harness/s3.js';
import { s3Env, withEnv } from '../harness/s3-engine.js';
import {
  captureStdout,
  emfLines,
  lambdaContext,
  loadHandler,
  scheduledEvent,
  TASK_BUNDLE,
  type Handler,
} from '../harness/scheduled-job.js';
import { secretArn, startSecretsManager, type SecretsManagerStandIn } from '../harness/secrets-manager.js';
import { connUrl, createDatabase, mirrorUrl, server, sql, testbed } from '../harness/testbed.js';
import { jobBucketEnv, jobClientsEnv } from '../harness/job-env.js';
import type { SeedSummary } from '../../lambda/scheduled-job.js';

const BUCKET = 'pgferry-nightly';
const PREFIX = 'nightly';
let s3: S3TestServer;
let secrets: SecretsManagerStandIn;
let handler: Handler;
let dbA: string;
let dbB: string;
let sourceArn: string;
let scratch: string;

function rdsSecret(
  major: 17 | 18,
  dbname?: string,
  login = { username: 'postgres', password: testbed().password },
): string {
  return JSON.stringify({
    engine: 'postgres',
    host: '127.0.0.1',
    port: server(major).port,
    ...login,
    ...(dbname ? { dbname } : {}),
  });
}

beforeAll(async () => {
  [s3, secrets] = await Promise.all([startS3(), startSecretsManager()]);
  await s3.createBucket(BUCKET);
  dbA = await createDatabase(17, 'job_a');
  dbB = await createDatabase(17, 'job_b');
  // One after the other: the dataset creates roles, which are server-wide.
  await loadDataset(17, dbA, 400);
  await loadDataset(17, dbB, 100);
  sourceArn = secrets.put('pgferry/source', { value: rdsSecret(17, dbA) });
  handler = await loadHandler();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'pgferry-job-'));
});
afterAll(async () => {
  await Promise.all([s3?.close(), secrets?.close()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The environment infra/ would set, pointed at the local servers. */
function jobEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...s3Env(s3),
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    PGFERRY_SOURCE_SECRET_ARN: sourceArn,
    PGFERRY_SOURCE_SSLMODE: 'disable',
    PGFERRY_DATABASES: `${dbA},${dbB}`,
    ...jobBucketEnv(s3, BUCKET, PREFIX),
    ...jobClientsEnv(scratch),
    ...extra,
  };
}

async function invoke(
  event: unknown,
  env: Record<string, string> = {},
  remainingMs = 900_000,
): Promise<{ result?: Record<string, unknown>; error?: Error; lines: string[] }> {
  const { result, lines } = await captureStdout(() =>
    withEnv(jobEnv(env), () =>
      handler(event, lambdaContext(remainingMs)).then(
        (r) => ({ result: r as Record<string, unknown> }),
        (e: unknown) => ({ error: e as Error }),
      ),
    ),
  );
  return { ...result, lines };
}

async function latestOf(db: string): Promise<LatestPointer | undefined> {
  const text = await s3.getText(BUCKET, `${PREFIX}/${db}/latest.json`);
  return text === undefined ? undefined : (JSON.parse(text) as LatestPointer);
}

async function manifestOf(pointer: LatestPointer): Promise<Manifest> {
  return JSON.parse((await s3.getText(BUCKET, pointer.manifest)) ?? 'null') as Manifest;
}

async function countsOf(major: 17 | 18, db: string): Promise<{ tables: number; rows: number }> {
  const client = new pg.Client({ connectionString: connUrl(major, db) });
  await client.connect();
  try {
    const { tables, rows } = await tableCounts(client);
    return { tables, rows };
  } finally {
    await client.end();
  }
}

describe('the Lambda handler (built bundle, in process)', () => {
  it('a scheduled event backs up every configured database with manifests, latest.json and EMF lines', async () => {
    const { result, error, lines } = await invoke(scheduledEvent());
    expect(error?.message).toBeUndefined();
    expect(result?.ok).toBe(true);
    const backups = result?.backups as { database: string; manifest: string; bytes: number }[];
    expect(backups.map((b) => b.database)).toEqual([dbA, dbB]);

    for (const db of [dbA, dbB]) {
      const latest = await latestOf(db);
      expect(latest?.key).toMatch(
        new RegExp(`^${PREFIX}/${db}/\\d{4}/\\d\\d/\\d\\d/${db}-\\d{8}T\\d{6}\\.\\d{3}Z-[0-9a-f]{8}\\.dump$`),
      );
      const manifest = await manifestOf(latest as LatestPointer);
      expect(manifest.verification).toMatchObject({ method: 'list', result: 'passed' });
      expect(manifest.clientVersion).toMatch(/^17\./);
      // The stored object is what the manifest says it is.
      const body = await s3
        .client()
        .send(
          new (await import('@aws-sdk/client-s3')).GetObjectCommand({ Bucket: BUCKET, Key: manifest.key }),
        );
      const bytes = Buffer.from(
        await (body.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.sha256);
      expect(backups.find((b) => b.database === db)?.bytes).toBe(bytes.length);
    }

    // Every line is JSON; metric lines follow EMF; the password, the event and the env never appear.
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.length).toBeGreaterThan(5);
    const emf = emfLines(lines);
    for (const db of [dbA, dbB]) {
      const line = emf.find((m) => m.Database === db);
      expect(line).toMatchObject({ Job: 'backup', Success: 1, Failure: 0, VerifiedBackups: 1 });
      expect(line?.Bytes).toBeGreaterThan(0);
      expect(line?._aws.CloudWatchMetrics[0]?.Namespace).toBe('pgferry');
      expect(line?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['Job', 'Database']]);
    }
    expect(emf.find((m) => m.Database === undefined)).toMatchObject({
      Job: 'backup',
      Success: 1,
      Failure: 0,
    });
    const logs = parsed.filter((p) => !('_aws' in p));
    expect(logs.every((p) => typeof p.level === 'string' && ('step' in p || 'message' in p))).toBe(true);
    expect(logs.filter((p) => p.step === 'backup' && p.state === 'verified')).toHaveLength(2);
    const all = lines.join('\n');
    expect(all).not.toContain(testbed().password);
    expect(all).not.toContain('Scheduled Event');
    expect(all).not.toContain('PGFERRY_CACHE_DIR');
    expect(secrets.requests).toContain(sourceArn);
  });

  it('a run over several databases, one of them empty, backs up and verifies every one', async () => {
    const empty = await createDatabase(17, 'job_empty');
    const { result, error, lines } = await invoke(scheduledEvent(), { PGFERRY_DATABASES: `${dbB},${empty}` });
    expect(error?.message).toBeUndefined();
    expect(result?.ok).toBe(true);
    for (const db of [dbB, empty]) {
      const manifest = await manifestOf((await latestOf(db)) as LatestPointer);
      expect(manifest).toMatchObject({ database: db, verification: { method: 'list', result: 'passed' } });
      expect(emfLines(lines).find((m) => m.Database === db)).toMatchObject({
        Success: 1,
        VerifiedBackups: 1,
      });
    }
  });

  it('a direct invocation with verify: restore records the drill, its counts equal to the source', async () => {
    const { result, error } = await invoke({ job: 'backup', verify: 'restore', databases: [dbB] });
    expect(error?.message).toBeUndefined();
    expect(result?.ok).toBe(true);
    const manifest = await manifestOf((await latestOf(dbB)) as LatestPointer);
    const source = await countsOf(17, dbB);
    expect(manifest.verification).toEqual({
      method: 'restore',
      result: 'passed',
      tables: source.tables,
      rows: source.rows,
      // The drill downloads the whole stored object.
      bytesReadBack: manifest.bytes,
    });
    expect(source.rows).toBeGreaterThan(100);
    // The scratch database was dropped.
    const left = await sql<{ n: string }>(
      17,
      'postgres',
      "SELECT count(*) AS n FROM pg_database WHERE datname LIKE 'pgferry_drill_%'",
    );
    expect(left[0]?.n).toBe('0');
  });

  it('stops before the Lambda limit: upload aborted, latest.json unchanged, the error names Fargate', async () => {
    const latestBefore = await s3.getText(BUCKET, `${PREFIX}/${dbA}/latest.json`);
    const keysBefore = await s3.keys(BUCKET, `${PREFIX}/${dbA}/`);
    expect(latestBefore).toBeDefined();
    // A session holding a table lock keeps pg_dump waiting, as a large database keeps it busy.
    const blocker = new pg.Client({ connectionString: connUrl(17, dbA) });
    await blocker.connect();
    await blocker.query('BEGIN; LOCK TABLE sales.orders IN ACCESS EXCLUSIVE MODE');
    try {
      const { error, lines } = await invoke(
        scheduledEvent(),
        { PGFERRY_DATABASES: dbA, PGFERRY_DEADLINE_MARGIN_SECONDS: '60' },
        64_000,
      );
      expect(error?.message).toMatch(/time limit/);
      expect(error?.message).toMatch(/Fargate/);
      expect(error?.message).toMatch(/latest\.json was not moved/);
      expect(emfLines(lines).find((m) => m.Database === dbA)).toMatchObject({ Failure: 1, Success: 0 });
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    expect(await s3.getText(BUCKET, `${PREFIX}/${dbA}/latest.json`)).toBe(latestBefore);
    expect(await s3.keys(BUCKET, `${PREFIX}/${dbA}/`)).toEqual(keysBefore);
    // pg_dump was stopped, not left waiting on the lock.
    const waiting = await sql<{ n: string }>(
      17,
      'postgres',
      "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'pg_dump'",
    );
    expect(waiting[0]?.n).toBe('0');
  });

  it('seed: the latest verified backup into staging on another server, sanitized, with tables and rows', async () => {
    const staging = `staging_${Date.now().toString(36)}`;
    const stagingArn = secrets.put('pgferry/staging', { value: rdsSecret(18, staging) });
    const localSql = path.join(scratch, 'drop-audit.sql');
    writeFileSync(localSql, 'TRUNCATE audit.events;\n');
    await s3.client().send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'assets/anonymise.sql',
        Body: "UPDATE sales.customers SET email = 'customer' || id || '@example.invalid', name = 'Customer';\n",
      }),
    );
    const { result, error } = await invoke(
      { job: 'seed' },
      {
        PGFERRY_SEED_SECRET_ARN: stagingArn,
        PGFERRY_SEED_CONFIRM: staging,
        PGFERRY_SEED_SSLMODE: 'disable',
        PGFERRY_SANITIZE_SQL: `s3://${BUCKET}/assets/anonymise.sql,${localSql}`,
      },
    );
    expect(error?.message).toBeUndefined();
    const seed = result?.seed as {
      database: string;
      from: string;
      tables: number;
      rows: number;
      sanitizeFiles: number;
    };
    const latest = (await latestOf(dbA)) as LatestPointer;
    expect(seed.from).toBe(`s3://${BUCKET}/${latest.key}`);
    expect(seed.database).toBe(staging);
    expect(seed.sanitizeFiles).toBe(2);
    const source = await countsOf(17, dbA);
    const events = await sql<{ n: string }>(17, dbA, 'SELECT count(*) AS n FROM audit.events');
    const target = await countsOf(18, staging);
    expect(target).toEqual({ tables: source.tables, rows: source.rows - Number(events[0]?.n) });
    expect(seed).toMatchObject({ tables: target.tables, rows: target.rows });
    const emails = await sql<{ bad: string }>(
      18,
      staging,
      "SELECT count(*) AS bad FROM sales.customers WHERE email NOT LIKE '%@example.invalid'",
    );
    expect(emails[0]?.bad).toBe('0');
    const untouched = await sql<{ n: string }>(
      17,
      dbA,
      "SELECT count(*) AS n FROM sales.customers WHERE email LIKE '%@example.invalid'",
    );
    expect(untouched[0]?.n).toBe('0');
  });

  it('seed replaces an existing staging by swap, or in place with PGFERRY_SWAP=false for a user without CREATEDB', async () => {
    const staging = `staging_${randomBytes(4).toString('hex')}`;
    const login = {
      username: `stg_${randomBytes(4).toString('hex')}`,
      password: randomBytes(12).toString('hex'),
    };
    await sql(18, 'postgres', `CREATE ROLE ${login.username} LOGIN NOCREATEDB PASSWORD '${login.password}'`);
    await sql(18, 'postgres', `CREATE DATABASE ${staging} OWNER ${login.username}`);
    // Staging's own table, which the backup does not carry.
    await sql(
      18,
      staging,
      `CREATE TABLE public.staging_notes (id int); ALTER TABLE public.staging_notes OWNER TO ${login.username}`,
    );
    const stagingArn = secrets.put(`pgferry/${staging}`, { value: rdsSecret(18, staging, login) });
    const seedEnv = {
      PGFERRY_SEED_SECRET_ARN: stagingArn,
      PGFERRY_SEED_CONFIRM: staging,
      PGFERRY_SEED_SSLMODE: 'disable',
    };
    const oidOf = async (): Promise<string | undefined> =>
      (
        await sql<{ oid: string }>(
          18,
          'postgres',
          `SELECT oid::text FROM pg_database WHERE datname = '${staging}'`,
        )
      )[0]?.oid;
    const notesKept = async (): Promise<boolean> =>
      (await sql(18, staging, "SELECT 1 FROM pg_class WHERE relname = 'staging_notes'")).length === 1;
    const source = await countsOf(17, dbA);
    const first = await oidOf();

    // By default a swap, which needs CREATEDB: refused before anything is created, naming the variable.
    const refused = await invoke({ job: 'seed' }, seedEnv);
    expect(refused.error?.message).toMatch(
      /PGFERRY_SWAP: replacing ".*" by swap needs the CREATEDB privilege.*set it to false to restore in place/,
    );
    expect(await oidOf()).toBe(first);
    expect(await notesKept()).toBe(true);
    expect(await scratchesOf(18, staging)).toEqual([]);

    // PGFERRY_SWAP=false: dropped and restored in place, in the same database.
    const inPlace = await invoke({ job: 'seed' }, { ...seedEnv, PGFERRY_SWAP: 'false' });
    expect(inPlace.error?.message).toBeUndefined();
    expect(inPlace.result?.seed).toMatchObject({ database: staging, swapped: false });
    expect(inPlace.lines.join('\n')).toContain('clean: the drop and the restore run as one transaction');
    expect(inPlace.lines.join('\n')).not.toContain('swapping the new');
    expect(await oidOf()).toBe(first);
    // In place, clean replaces what the backup carries; staging's own table stays.
    expect(await notesKept()).toBe(true);
    expect(await countsOf(18, staging)).toEqual({ tables: source.tables + 1, rows: source.rows });

    // Given CREATEDB, the default builds the new staging beside the old and swaps it in whole.
    await sql(18, 'postgres', `ALTER ROLE ${login.username} CREATEDB`);
    const swapped = await invoke({ job: 'seed' }, seedEnv);
    expect(swapped.error?.message).toBeUndefined();
    expect(swapped.result?.seed).toMatchObject({ database: staging, swapped: true });
    expect(swapped.lines.join('\n')).toContain('swapping the new');
    expect(await oidOf()).not.toBe(first);
    expect(await notesKept()).toBe(false);
    expect(await countsOf(18, staging)).toEqual(source);
    const [owner] = await sql<{ owner: string }>(
      18,
      'postgres',
      `SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = '${staging}'`,
    );
    expect(owner?.owner).toBe(login.username);
    expect(await scratchesOf(18, staging)).toEqual([]);
  });

  it('seed refuses a staging database that is the source itself, and leaves it untouched', async () => {
    const before = await countsOf(17, dbA);
    const sameArn = secrets.put('pgferry/same-as-source', { value: rdsSecret(17, dbA) });
    const { error } = await invoke(
      { job: 'seed' },
      { PGFERRY_SEED_SECRET_ARN: sameArn, PGFERRY_SEED_CONFIRM: dbA, PGFERRY_SEED_SSLMODE: 'disable' },
    );
    expect(error?.message).toMatch(/PGFERRY_SEED_DATABASE: the staging database .* is the source itself/);
    expect(await countsOf(17, dbA)).toEqual(before);
  });
});

describe('masking in the seed job (PGFERRY_MASKING_RULES, the key from a secret)', () => {
  let pii: string;
  let keyArn: string;
  const KEY = `masking-${randomBytes(8).toString('hex')}`;
  const RULES = 'columns:\n  public.customers.email: email\n  public.customers.name: name\n';
  const ROWS = 'SELECT id, email, name, contact_email FROM customers ORDER BY id';
  type Row = { id: number; email: string; name: string; contact_email: string };

  beforeAll(async () => {
    pii = await createDatabase(17, 'job_pii');
    // contact_email looks personal by its name and has no rule: the coverage report's case.
    await sql(
      17,
      pii,
      `CREATE TABLE customers (id int PRIMARY KEY, email text, name text, contact_email text);
       INSERT INTO customers SELECT i, 'real' || i || '@corp.test', 'Real Person ' || i, 'c' || i || '@corp.test'
         FROM generate_series(1, 40) i`,
    );
    keyArn = secrets.put('pgferry/masking-key', { value: KEY });
    const backup = await invoke({ job: 'backup', databases: [pii] });
    expect(backup.error?.message).toBeUndefined();
  });

  async function seedInto(staging: string, env: Record<string, string>) {
    const stagingArn = secrets.put(`pgferry/${staging}`, { value: rdsSecret(18, staging) });
    return invoke(
      { job: 'seed' },
      {
        PGFERRY_DATABASES: pii,
        PGFERRY_SEED_SECRET_ARN: stagingArn,
        PGFERRY_SEED_CONFIRM: staging,
        PGFERRY_SEED_SSLMODE: 'disable',
        PGFERRY_MASKING_KEY_SECRET_ARN: keyArn,
        ...env,
      },
    );
  }

  it('masks staging with rules from a path and from s3://, alike, and reports what no rule covers', async () => {
    const file = path.join(scratch, 'masking.yml');
    writeFileSync(file, RULES);
    await s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'assets/masking.yml', Body: RULES }));
    const source = await sql<Row>(17, pii, ROWS);
    const results: Row[][] = [];
    for (const [name, rules] of [
      ['path', file],
      ['s3', `s3://${BUCKET}/assets/masking.yml`],
    ]) {
      const staging = `staging_mask_${name}_${randomBytes(3).toString('hex')}`;
      const { result, error, lines } = await seedInto(staging, { PGFERRY_MASKING_RULES: rules! });
      expect(error?.message).toBeUndefined();
      const seed = result?.seed as SeedSummary;
      expect(seed.masking).toMatchObject({
        rules,
        tables: [{ table: 'public.customers', masked: 40, truncated: 0 }],
        leakCheck: [
          { column: 'public.customers.email', transformer: 'email', checkedRows: 40, leaks: 0 },
          { column: 'public.customers.name', transformer: 'name', checkedRows: 40, leaks: 0 },
        ],
        coverage: [{ column: 'public.customers.contact_email', reason: 'its name reads as e-mail' }],
      });
      expect(seed.masking?.lines).toContain(
        'coverage: public.customers.contact_email has no rule and its name reads as e-mail',
      );
      const log = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(log).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message:
            'masking coverage: public.customers.contact_email has no rule and its name reads as e-mail',
        }),
      );
      // A ruled column is not reported; the summary line carries the report too.
      expect(lines.join('\n')).not.toMatch(/masking coverage: public\.customers\.(email|name) /);
      expect(log.find((l) => l.step === 'summary')).toMatchObject({ seed: { masking: { rules } } });
      // The one uncovered column is a metric too, under the job alone (what the construct alarms on).
      expect(emfLines(lines).filter((m) => 'UncoveredColumns' in m)).toEqual([
        expect.objectContaining({ Job: 'seed', UncoveredColumns: 1 }),
      ]);
      expect(emfLines(lines).find((m) => 'UncoveredColumns' in m)).not.toHaveProperty('Database');
      expect(lines.join('\n')).not.toContain(KEY);
      const rows = await sql<Row>(18, staging, ROWS);
      expect(rows).toHaveLength(40);
      for (const [i, row] of rows.entries()) {
        expect(row.email).not.toBe(source[i]?.email);
        expect(row.name).not.toBe(source[i]?.name);
        expect(row.contact_email).toBe(source[i]?.contact_email);
      }
      results.push(rows);
    }
    // Deterministic: the same rules and key mask the same way, whichever way the rules came.
    expect(results[1]).toEqual(results[0]);
    expect(new Set(results[0]?.map((r) => r.email)).size).toBe(40);
    expect(secrets.requests).toContain(keyArn);
  });

  it.each([
    [
      'an unknown transformer',
      'columns:\n  public.customers.email: scramble\n',
      /line 2 \(public\.customers\.email\): unknown transformer "scramble"/,
    ],
    [
      'a column the backup does not have',
      'columns:\n  public.customers.mail: email\n',
      /line 2 \(public\.customers\.mail\): the table public\.customers has no column mail/,
    ],
  ])(
    'bad rules (%s) fail naming PGFERRY_MASKING_RULES before staging changes',
    async (_what, text, message) => {
      const file = path.join(scratch, `bad-${randomBytes(3).toString('hex')}.yml`);
      writeFileSync(file, text);
      const staging = await createDatabase(18, 'staging_kept');
      await sql(18, staging, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before')");
      const { error } = await seedInto(staging, { PGFERRY_MASKING_RULES: file });
      expect(error?.message).toMatch(/(^|: )PGFERRY_MASKING_RULES: /m);
      expect(error?.message).toMatch(message);
      expect(await sql(18, staging, 'SELECT v FROM kept')).toEqual([{ v: 'before' }]);
      expect(await scratchesOf(18, staging)).toEqual([]);
    },
  );

  it('the handler refuses a plain PGFERRY_MASKING_KEY: on Lambda the key comes from its secret', async () => {
    const file = path.join(scratch, 'masking.yml');
    const staging = `staging_plain_${randomBytes(3).toString('hex')}`;
    const { error, lines } = await seedInto(staging, {
      PGFERRY_MASKING_RULES: file,
      PGFERRY_MASKING_KEY_SECRET_ARN: '',
      PGFERRY_MASKING_KEY: KEY,
    });
    expect(error?.message).toMatch(/PGFERRY_MASKING_KEY: is not read on Lambda/);
    expect(lines.join('\n')).not.toContain(KEY);
    expect(secrets.requests).not.toContain(secretArn(`pgferry/${staging}`));
  });

  it('a masking key secret that cannot be read fails the run before staging is reached', async () => {
    const denied = secrets.put('pgferry/masking-key-denied', { deny: true });
    const file = path.join(scratch, 'masking.yml');
    const staging = await createDatabase(18, 'staging_kept');
    const { error } = await seedInto(staging, {
      PGFERRY_MASKING_RULES: file,
      PGFERRY_MASKING_KEY_SECRET_ARN: denied,
    });
    expect(error?.message).toMatch(
      /PGFERRY_MASKING_KEY_SECRET_ARN: secret pgferry\/masking-key-denied.*AccessDeniedException/,
    );
    expect(await scratchesOf(18, staging)).toEqual([]);
    expect(secrets.requests).not.toContain(secretArn(`pgferry/${staging}`));
  });
});

describe('the handler with the client tools staged as the Lambda layer', () => {
  it('backs up with the staged 17 and downloads nothing', async () => {
    const layer = path.join(scratch, 'layer');
    await stageClients({ majors: [17], outDir: layer, mirror: mirrorUrl(), cacheDir: SHARED_CLIENT_CACHE });
    const env = {
      PGFERRY_DATABASES: dbB,
      PGFERRY_CLIENTS_DIR: path.join(layer, 'pgferry', 'pg'),
      PGFERRY_PROVISION: 'false',
      PGFERRY_MIRROR: '',
      PGFERRY_CACHE_DIR: path.join(scratch, 'empty-cache'),
    };
    const { result, error, lines } = await invoke(scheduledEvent(), env);
    expect(error?.message).toBeUndefined();
    const backups = result?.backups as { database: string; clientVersion: string }[];
    expect(backups).toMatchObject([{ database: dbB, clientVersion: '17.5' }]);
    expect(lines.join('\n')).not.toMatch(/download/i);

    // A server major the layer does not carry, with provisioning off, says how to get it.
    await rm(path.join(layer, 'pgferry', 'pg', '17'), { recursive: true });
    const missing = await invoke(scheduledEvent(), env);
    expect(missing.error?.message).toMatch(/17/);
    expect(missing.error?.message).toMatch(/postgresMajors|PGFERRY_PROVISION/);
  });
});

describe('the Fargate task entry (built bundle, separate process)', () => {
  it('makes the same backup from environment variables and exits 0', async () => {
    const before = await latestOf(dbB);
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [TASK_BUNDLE], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          ...jobEnv({ PGFERRY_DATABASES: dbB }),
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    // Logs go to stdout as JSON; stderr carries only Node's and the SDK's own warnings.
    expect(run.stderr).not.toContain(testbed().password);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const summary = JSON.parse(lines.at(-1) ?? '{}') as { step?: string; ok?: boolean };
    expect(summary).toMatchObject({ step: 'summary', ok: true });
    expect(emfLines(lines).find((m) => m.Database === dbB)).toMatchObject({ VerifiedBackups: 1 });
    const after = (await latestOf(dbB)) as LatestPointer;
    // A new verified backup: it finished after the one the pointer named before.
    expect(Date.parse(after.finishedAt)).toBeGreaterThan(Date.parse(before?.finishedAt ?? '1970-01-01'));
    expect((await manifestOf(after)).verification.result).toBe('passed');
  });
});

describe('bad input to the scheduled job', () => {
  it('an unknown job or a credential in the event is refused, naming the field', async () => {
    const unknown = await invoke({ job: 'restore' });
    expect(unknown.error?.message).toMatch(/event\.job: "restore" is not a job; expected backup or seed/);
    const credential = await invoke({ job: 'backup', password: 'hunter2' });
    expect(credential.error?.message).toMatch(
      /event\.password: is not accepted: credentials come from Secrets Manager/,
    );
    expect(credential.lines.join('\n')).not.toContain('hunter2');
  });

  it('a secret that is not JSON, lacks fields or cannot be fetched fails clearly, with no fallback', async () => {
    const cases: [string, { value: string } | { deny: true }, RegExp][] = [
      ['pgferry/not-json', { value: 'host=db password=oops' }, /is not JSON; expected the RDS format/],
      [
        'pgferry/partial',
        { value: JSON.stringify({ host: '127.0.0.1', port: 5432 }) },
        /lacks username, password/,
      ],
      [
        'pgferry/denied',
        { deny: true },
        /denied GetSecretValue \(AccessDeniedException\).*No other credentials are tried/,
      ],
    ];
    for (const [name, secret, expected] of cases) {
      const arn = secrets.put(name, secret);
      const keysBefore = await s3.keys(BUCKET, `${PREFIX}/`);
      const { error, lines } = await invoke(scheduledEvent(), { PGFERRY_SOURCE_SECRET_ARN: arn });
      expect(error?.message).toMatch(expected);
      expect(error?.message).toContain('PGFERRY_SOURCE_SECRET_ARN');
      expect(lines.join('\n')).not.toContain('oops');
      expect(await s3.keys(BUCKET, `${PREFIX}/`)).toEqual(keysBefore);
    }
  });

  it('missing and invalid variables are all reported at once', async () => {
    const { error } = await captureStdout(() =>
      withEnv(
        {
          PGFERRY_SOURCE_SECRET_ARN: '',
          PGFERRY_BUCKET: 'Bad_Bucket',
          PGFERRY_VERIFY: 'maybe',
          PGFERRY_JOB: 'seed',
        },
        () =>
          handler(scheduledEvent(), lambdaContext(900_000)).then(
            () => ({ error: undefined }),
            (e: unknown) => ({ error: e as Error }),
          ),
      ),
    ).then((r) => r.result);
    const message = error?.message ?? '';
    for (const name of [
      'PGFERRY_SOURCE_SECRET_ARN',
      'PGFERRY_BUCKET',
      'PGFERRY_VERIFY',
      'PGFERRY_SEED_SECRET_ARN',
      'PGFERRY_SEED_CONFIRM',
    ])
      expect(message).toContain(`${name}:`);
  });
});
