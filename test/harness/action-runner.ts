import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './paths.js';

export const ACTION_BUNDLE = path.join(REPO_ROOT, 'action', 'dist', 'index.mjs');

/** The token every run of a real workflow has (`github.token`), as the harness's runner hands it out. */
export const WORKFLOW_TOKEN = 'ghs_harnessWorkflowToken0123456789';

/**
 * A default that is a workflow expression, evaluated as the runner would for this run: on
 * github.com (GITHUB_SERVER_URL unset or https://github.com) `github.token` is WORKFLOW_TOKEN.
 */
function evaluateDefault(value: string, env: Record<string, string>): string {
  if (!value.startsWith('${{')) return value;
  const onGithubCom = (env.GITHUB_SERVER_URL ?? 'https://github.com') === 'https://github.com';
  if (value === "${{ github.server_url == 'https://github.com' && github.token || '' }}") {
    return onGithubCom ? WORKFLOW_TOKEN : '';
  }
  throw new Error(`the harness cannot evaluate the default ${value}`);
}

interface ActionYml {
  inputs: Record<string, { default?: string }>;
}

export interface ActionRun {
  code: number | null;
  /** Everything the step printed (stdout and stderr), as the log would show it. */
  log: string;
  outputs: Record<string, string>;
  summary: string;
  path: string[];
  /** Values registered with `::add-mask::` (the runner consumes those lines and shows nothing). */
  masked: string[];
  /** Everything a person could see: the log (less mask commands), outputs, summary, PATH and env files. */
  everything: string;
}

/** Reads `name<<DELIM\nvalue\nDELIM` blocks the way the runner does. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '');
    if (m?.[1] && m[2]) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i] ?? '');
      out[m[1]] = value.join('\n');
    } else if (lines[i]?.includes('=')) {
      const [k, ...v] = (lines[i] ?? '').split('=');
      if (k) out[k] = v.join('=');
    }
  }
  return out;
}

/** A workflow command's data as the runner reads it back (@actions/core escapes `%`, CR and LF). */
function unescapeCommandData(data: string): string {
  return data.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

/** A runner's per-machine directories; share one between runs to see the tool cache work. */
export function runnerDirs(): { temp: string; toolCache: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pgferry-runner-'));
  const dirs = { temp: path.join(root, 'temp'), toolCache: path.join(root, 'tool-cache') };
  mkdirSync(dirs.temp);
  mkdirSync(dirs.toolCache);
  return dirs;
}

/**
 * Runs the committed bundle as the runner does: `node <main>` with INPUT_* (defaults from
 * action.yml filled in), GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_PATH / GITHUB_ENV files and
 * RUNNER_TEMP / RUNNER_TOOL_CACHE directories.
 */
export async function runAction(
  inputs: Record<string, string>,
  dirs = runnerDirs(),
  extraEnv: Record<string, string> = {},
  cwd?: string,
): Promise<ActionRun> {
  const yml = parse(readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')) as ActionYml;
  const files = mkdtempSync(path.join(dirs.temp, 'step-'));
  const output = path.join(files, 'output');
  const summary = path.join(files, 'summary');
  const ghPath = path.join(files, 'path');
  const ghEnv = path.join(files, 'env');
  for (const f of [output, summary, ghPath, ghEnv]) writeFileSync(f, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.homedir(),
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_PATH: ghPath,
    GITHUB_ENV: ghEnv,
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dirs.temp,
    RUNNER_TOOL_CACHE: dirs.toolCache,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    ...extraEnv,
  };
  for (const [name, spec] of Object.entries(yml.inputs)) {
    const value =
      inputs[name] ?? (spec.default === undefined ? undefined : evaluateDefault(spec.default, env));
    if (value !== undefined) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  for (const name of Object.keys(inputs)) {
    if (!(name in yml.inputs)) throw new Error(`action.yml has no input ${name}`);
  }
  const child = spawn(process.execPath, [ACTION_BUNDLE], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const outputs = parseCommandFile(readFileSync(output, 'utf8'));
  const summaryText = readFileSync(summary, 'utf8');
  const pathLines = readFileSync(ghPath, 'utf8').split('\n').filter(Boolean);
  const masked = log
    .split('\n')
    .filter((l) => l.startsWith('::add-mask::'))
    .map((l) => unescapeCommandData(l.slice('::add-mask::'.length)));
  const visibleLog = log
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
  return {
    code,
    log: visibleLog,
    masked,
    outputs,
    summary: summaryText,
    path: pathLines,
    everything: [
      visibleLog,
      JSON.stringify(outputs),
      summaryText,
      pathLines.join('\n'),
      readFileSync(ghEnv, 'utf8'),
    ].join('\n'),
  };
}

/** The message a failed step ends with (`::error::…`). */
export function failure(run: ActionRun): string {
  return (
    run.log
      .split('\n')
      .filter((l) => l.startsWith('::error::'))
      .map((l) => l.slice('::error::'.length).replace(/%0A/g, '\n').replace(/%25/g, '%'))
      .join('\n') || '(no ::error:: line)'
  );
}
