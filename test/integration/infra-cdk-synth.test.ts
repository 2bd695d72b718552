// `npx cdk synth` of the example app (cdk.json → infra/app.ts) as a user runs it: a child process from
// the repository root, clients staged from the test mirror, every other network access refused.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SHARED_CLIENT_CACHE } from '../harness/engine.js';
import { REPO_ROOT } from '../harness/paths.js';
import { mirrorUrl } from '../harness/testbed.js';

interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: REPO_ROOT, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const out = mkdtempSync(path.join(os.tmpdir(), 'pgferry-cdk-synth-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

test('npx cdk synth renders the example app offline, cdk-nag clean', async () => {
  const deadProxy = 'http://127.0.0.1:9';
  const result = await run('npx', ['cdk', 'synth', '--quiet', '--output', out], {
    ...process.env,
    PGFERRY_MIRROR: mirrorUrl(),
    PGFERRY_CACHE_DIR: SHARED_CLIENT_CACHE,
    PGFERRY_MAJORS: '17,18',
    CDK_DISABLE_VERSION_CHECK: '1',
    // Anything the CLI would fetch (notices, telemetry, version checks) goes nowhere; the mirror is on loopback.
    HTTP_PROXY: deadProxy,
    HTTPS_PROXY: deadProxy,
    NO_PROXY: '127.0.0.1,localhost',
  });
  if (result.code !== 0) throw new Error(`npx cdk synth exited ${result.code}:\n${result.stderr}`);
  expect(result.stderr).not.toMatch(/NOTICES|telemetry|AwsSolutions-/i);

  const template = JSON.parse(readFileSync(path.join(out, 'PgferryBackupExample.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  };
  const types = Object.values(template.Resources).map((r) => r.Type);
  expect(types).toEqual(
    expect.arrayContaining([
      'AWS::Lambda::Function',
      'AWS::Lambda::LayerVersion',
      'AWS::S3::Bucket',
      'AWS::CloudWatch::Alarm',
    ]),
  );
  // The database's security group lets the job in.
  expect(types).toContain('AWS::EC2::SecurityGroupIngress');
  const report = JSON.parse(readFileSync(path.join(out, 'validation-report.json'), 'utf8')) as {
    pluginReports: unknown[];
  };
  expect(report.pluginReports).toEqual([]);
});
