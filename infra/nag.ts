import { Stack, Validations, type App, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** Runs cdk-nag's AwsSolutions pack on every synth of `app` (a finding fails the synth). */
export function applyNag(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/** The AwsSolutions findings under `scope` that no acknowledgment covers (synthesize first). */
export function nagFindings(scope: IConstruct): PolicyValidationPluginReport['violations'] {
  return new AwsSolutionsChecks().validateScope(scope).violations;
}

export interface RecordedAcknowledgment {
  path: string;
  id: string;
  reason: string;
}

/** Every acknowledgment recorded under `scope`, with the construct path it sits on. */
export function nagAcknowledgments(scope: IConstruct): RecordedAcknowledgment[] {
  const out: RecordedAcknowledgment[] = [];
  for (const node of scope.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        out.push({ path: node.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return out;
}

/** A CloudFormation value as the text cdk-nag puts in a finding id (`<Logical.Arn>/prefix/*`). */
function findingText(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [delimiter, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(findingText).join(delimiter);
    }
    if ('Fn::Sub' in v) return findingText(v['Fn::Sub']);
    if (Array.isArray(v['Fn::GetAtt'])) {
      const [resource, attribute] = v['Fn::GetAtt'] as [unknown, unknown];
      return `<${findingText(resource)}.${findingText(attribute)}>`;
    }
    if ('Fn::ImportValue' in v) return findingText(v['Fn::ImportValue']);
    if ('Ref' in v) return `<${findingText(v.Ref)}>`;
  }
  return JSON.stringify(value);
}

function asList(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

const acknowledged = new WeakMap<IConstruct, Set<string>>();

/**
 * Acknowledges, on `holder` (the role whose policy carries the statements), the AwsSolutions-IAM5
 * findings the wildcards of `statements` cause — each with the reason those statements need them.
 * Wildcards added later by anyone else stay findings.
 */
export function acknowledgeWildcards(
  holder: IConstruct,
  statements: readonly iam.PolicyStatement[] | iam.PolicyDocument,
  reason: string,
): void {
  const stack = Stack.of(holder);
  const json = Array.isArray(statements)
    ? statements.map((s) => s.toStatementJson())
    : (((statements as iam.PolicyDocument).toJSON() as { Statement?: unknown[] } | undefined)?.Statement ??
      []);
  for (const statement of stack.resolve(json) as {
    Effect?: string;
    Action?: unknown;
    Resource?: unknown;
  }[]) {
    if (statement.Effect !== 'Allow') continue;
    const findings = [
      ...asList(statement.Action)
        .map((a) => String(a))
        .filter((a) => a.includes('*'))
        .map((a) => `Action::${a}`),
      ...asList(statement.Resource)
        .map(findingText)
        .filter((r) => r.includes('*'))
        .map((r) => `Resource::${r}`),
    ];
    for (const finding of findings) {
      const id = `AwsSolutions-IAM5[${finding}]`;
      const done = acknowledged.get(holder) ?? new Set<string>();
      if (done.has(id)) continue;
      done.add(id);
      acknowledged.set(holder, done);
      Validations.of(holder).acknowledge({ id, reason });
    }
  }
}
