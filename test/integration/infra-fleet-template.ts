// Reading a synthesized template the way the fleet tests compare it: a role's grants as text with the
// stack-specific parts (logical ids, secret ARNs, resource ids) reduced to their kind, and the state
// machine's definition as JSON.
import type { Template } from 'aws-cdk-lib/assertions';
import type { Json, Resources } from './infra-stacks.js';

function list(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** A CloudFormation value as flat text, each reference replaced by the type of what it names. */
export function flat(value: unknown, resources: Resources): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => flat(p, resources)).join(sep);
  }
  const kind = (id: string) => resources[id]?.Type ?? id;
  if (Array.isArray(v['Fn::GetAtt'])) {
    const [id, attribute] = v['Fn::GetAtt'] as [string, string];
    return `<${kind(id)}.${attribute}>`;
  }
  if (v.Ref !== undefined) return `<${kind(String(v.Ref))}>`;
  return JSON.stringify(value);
}

/** What differs between two deployments of the same grant: which secret, which RDS resource and user. */
function shape(text: string): string {
  return text
    .replace(/arn:aws:secretsmanager:[^:]+:\d+:secret:[A-Za-z0-9/_+=.@-]+/g, '<secret>')
    .replace(/dbuser:[^/]+\/.+$/, 'dbuser:<resourceId>/<user>');
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: unknown;
  Resource: unknown;
  Condition?: unknown;
}

/** The statements of every policy attached to the role with logical id `roleId`. */
export function roleStatements(resources: Resources, roleId: string): Statement[] {
  const out: Statement[] = [];
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    if (!list(r.Properties?.Roles).some((x) => (x as Json).Ref === roleId)) continue;
    out.push(...((r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement ?? []));
  }
  return out;
}

/** Every allow of the role as `action resource [condition]`, shaped, one line per action × resource. */
export function grantShapes(resources: Resources, roleId: string): string[] {
  const out = new Set<string>();
  for (const s of roleStatements(resources, roleId)) {
    if (s.Effect !== 'Allow') throw new Error(`unexpected ${s.Effect} statement`);
    for (const action of list(s.Action))
      for (const resource of list(s.Resource))
        out.add(
          shape(`${String(action)} ${flat(resource, resources)}`) +
            (s.Condition ? ` ${JSON.stringify(s.Condition)}` : ''),
        );
  }
  return [...out].sort();
}

/** Logical ids of the roles that `service` assumes. */
export function rolesAssumedBy(resources: Resources, service: string): string[] {
  return Object.entries(resources)
    .filter(
      ([, r]) =>
        r.Type === 'AWS::IAM::Role' &&
        JSON.stringify(r.Properties?.AssumeRolePolicyDocument).includes(service),
    )
    .map(([id]) => id);
}

export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: { Next: string; Variable?: string; StringEquals?: string }[];
  ItemProcessor?: { StartAt: string; States: Record<string, AslState> };
  ItemsPath?: string;
  MaxConcurrency?: number;
  Resource?: string;
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number; IntervalSeconds?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Parameters?: Json;
  Result?: Json;
}
export interface Asl {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
}

/** The one state machine's definition, references replaced by `<Type>` so that it parses. */
export function definitionOf(template: Template): Asl {
  const resources = template.toJSON().Resources as Resources;
  const machines = Object.values(resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  return JSON.parse(flat(machines[0]!.Properties?.DefinitionString, resources)) as Asl;
}

/** Every state of the definition, nested ones too, by name. */
export function allStates(states: Record<string, AslState>): Record<string, AslState> {
  const out: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(states)) {
    out[name] = state;
    if (state.ItemProcessor) Object.assign(out, allStates(state.ItemProcessor.States));
  }
  return out;
}

/**
 * State transitions of one execution where every unit succeeds first time: each state entered
 * counts one (a Map too, its inline iterations nothing more), `pick` chooses a Choice's branch and
 * `items` says how many items each Map gets.
 */
export function transitions(
  machine: { StartAt: string; States: Record<string, AslState> },
  items: (mapName: string) => number,
  pick: (choiceName: string, state: AslState) => string,
): number {
  let count = 0;
  let name: string | undefined = machine.StartAt;
  while (name) {
    const state: AslState = machine.States[name]!;
    count += 1;
    if (state.Type === 'Map') count += items(name) * transitions(state.ItemProcessor!, items, pick);
    name = state.Type === 'Choice' ? pick(name, state) : state.End ? undefined : state.Next;
  }
  return count;
}
