// The README's CDK examples, synthesized as written: the deploy program, and the same program with
// the seeding example in place of its PgferryBackup. Only the import of the construct is pointed at
// this checkout; clients are staged from the test mirror.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { REPO_ROOT } from '../harness/paths.js';
import { mirrorUrl } from '../harness/testbed.js';
import { warmClientCache } from './infra-stacks.js';

// The examples name no mirror: their staging finds the clients in the shared cache, filled first.
beforeAll(warmClientCache);

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

function blockAfter(heading: string): string {
  const from = readme.indexOf(heading);
  if (from < 0) throw new Error(`README has no "${heading}"`);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(from));
  if (!match?.[1]) throw new Error(`no ts block after "${heading}"`);
  return match[1];
}

const deploy = blockAfter('### Deploy it with CDK');
const seed = blockAfter('### Seed staging from the latest backup');

function withSeed(program: string): string {
  const start = program.indexOf('const backup = new PgferryBackup(');
  const end = program.indexOf('});\n', start) + '});\n'.length;
  return (
    `import * as events from 'aws-cdk-lib/aws-events';\nimport * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';\n` +
    program.slice(0, start) +
    seed +
    program.slice(end)
  );
}

const work = mkdtempSync(path.join(os.tmpdir(), 'pgferry-readme-cdk-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function synth(name: string, program: string): Promise<Record<string, { Type: string }>> {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, 'sql'), { recursive: true });
  writeFileSync(
    path.join(dir, 'sql', 'anonymise.sql'),
    "UPDATE app.users SET email = id || '@example.invalid';\n",
  );
  const entry = path.join(dir, `${name}.ts`);
  writeFileSync(
    entry,
    program.replace("'./infra/index.js'", JSON.stringify(path.join(REPO_ROOT, 'infra', 'index.ts'))),
  );
  const out = path.join(dir, 'cdk.out');
  const code = await new Promise<number>((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(REPO_ROOT, 'scripts', 'run-ts.mjs'), entry],
      {
        cwd: dir,
        env: {
          ...process.env,
          CDK_OUTDIR: out,
          PGFERRY_MIRROR: mirrorUrl(),
          PGFERRY_CACHE_DIR: SHARED_CLIENT_CACHE,
        },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, _stdout, stderr) => (error ? reject(new Error(`${name} failed:\n${stderr}`)) : resolve(0)),
    );
  });
  expect(code).toBe(0);
  const file = readdirSync(out).find((f) => f.endsWith('.template.json'));
  if (!file) throw new Error('no template');
  return (
    JSON.parse(readFileSync(path.join(out, file), 'utf8')) as { Resources: Record<string, { Type: string }> }
  ).Resources;
}

test('the deploy example synthesizes: backup bucket, function, layer, schedule, alarms', async () => {
  const types = Object.values(await synth('readme-deploy', deploy)).map((r) => r.Type);
  for (const type of [
    'AWS::S3::Bucket',
    'AWS::Lambda::Function',
    'AWS::Lambda::LayerVersion',
    'AWS::Events::Rule',
  ])
    expect(types).toContain(type);
  expect(types.filter((t) => t === 'AWS::CloudWatch::Alarm').length).toBeGreaterThanOrEqual(2);
  expect(types).toContain('AWS::EC2::SecurityGroupIngress');
});

test('the seeding example synthesizes: a second schedule whose input is the seed job', async () => {
  const resources = await synth('readme-seed', withSeed(deploy));
  const rules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule');
  expect(rules).toHaveLength(2);
  expect(JSON.stringify(rules)).toContain('{\\"job\\":\\"seed\\"}');
});
