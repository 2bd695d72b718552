import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './paths.js';

export interface WorkflowStep {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
}

/** One ```yaml block of the README: a whole workflow, or a list of steps as most examples are. */
export interface ReadmeYamlBlock {
  /** The nearest heading above the block. */
  title: string;
  /** README line of the block's first YAML line (1-based). */
  line: number;
  /** The block as written. */
  text: string;
  /** A whole workflow: the block itself, or a bare list of steps wrapped in a minimal one. */
  workflow: string;
  /** Lines the wrapper put before the block's first line (0 for a whole workflow). */
  offset: number;
  /** Every step of every job, in order. */
  steps: WorkflowStep[];
}

// A bare list of steps becomes the one job of a workflow that grants nothing; its steps sit under
// `steps:` at six spaces, so the wrapper only indents the block.
const WRAPPER = [
  'on: workflow_dispatch',
  'permissions: {}',
  'jobs:',
  '  readme:',
  '    runs-on: ubuntu-24.04',
  '    steps:',
];

/** Every ```yaml block of the README, each as a workflow; a block that is neither kind throws. */
export function readmeYamlBlocks(
  readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'),
): ReadmeYamlBlock[] {
  const blocks: ReadmeYamlBlock[] = [];
  const lines = readme.split('\n');
  let title = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#+ (.+)$/.exec(lines[i] ?? '');
    if (heading?.[1]) title = heading[1];
    if (!/^```/.test(lines[i] ?? '')) continue;
    const fence = lines[i] ?? '';
    const start = i + 1;
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i++);
    if (!/^```ya?ml\s*$/.test(fence)) continue;
    const text = lines.slice(start, i).join('\n');
    const parsed: unknown = parse(text);
    if (Array.isArray(parsed)) {
      blocks.push({
        title,
        line: start + 1,
        text,
        workflow: [...WRAPPER, ...text.split('\n').map((l) => (l ? `      ${l}` : l))].join('\n') + '\n',
        offset: WRAPPER.length,
        steps: parsed as WorkflowStep[],
      });
    } else if (isWorkflow(parsed)) {
      const steps = Object.values(parsed.jobs).flatMap((job) => job.steps ?? []);
      blocks.push({ title, line: start + 1, text, workflow: `${text}\n`, offset: 0, steps });
    } else {
      throw new Error(`README.md:${start + 1}: a yaml block that is neither a workflow nor a list of steps`);
    }
  }
  return blocks;
}

function isWorkflow(value: unknown): value is { jobs: Record<string, { steps?: WorkflowStep[] }> } {
  return typeof value === 'object' && value !== null && 'jobs' in value && typeof value.jobs === 'object';
}
