import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ResolvedFleet } from './fleet-resolve.js';
import { unitChain, type UnitRunners } from './fleet-units.js';
import { acknowledgeWildcards } from './nag.js';

/**
 * The execution's input, fixed in the definition so that a manual start needs none: the servers
 * with their units (`<sourceId>/<database>`), and the seed units.
 */
export function fleetLayout(f: ResolvedFleet): {
  servers: { server: string; units: { unit: string; job: 'backup' }[] }[];
  seeds: { unit: string; job: 'seed' }[];
} {
  return {
    servers: f.sources.map((s) => ({
      server: s.id,
      units: s.databases.map((d) => ({ unit: `${s.id}/${d}`, job: 'backup' as const })),
    })),
    seeds: f.seeds.map((s) => ({ unit: s.id, job: 'seed' as const })),
  };
}

/** Outer Map over servers, inner Map over each server's units: at most servers × perServer at once. */
function backups(scope: Construct, f: ResolvedFleet, runners: UnitRunners): sfn.Map {
  const perServer = new sfn.Map(scope, 'Back up the databases of one server', {
    itemsPath: '$.units',
    maxConcurrency: f.concurrency.perServer,
    // Each server's result: its id and the outcome of each of its units.
    resultPath: '$.units',
  });
  perServer.itemProcessor(unitChain(scope, 'Backup', f.compute.kind, runners));
  const servers = new sfn.Map(scope, 'Back up every server', {
    itemsPath: '$.layout.servers',
    maxConcurrency: f.concurrency.servers,
    resultPath: '$.backups',
  });
  servers.itemProcessor(perServer);
  return servers;
}

/** Seeds after every backup has finished: a seed reads the latest verified backup of its unit. */
function seeds(scope: Construct, f: ResolvedFleet, runners: UnitRunners): sfn.Map {
  const map = new sfn.Map(scope, 'Seed the staging databases', {
    itemsPath: '$.layout.seeds',
    maxConcurrency: f.concurrency.perServer,
    resultPath: '$.seeds',
  });
  map.itemProcessor(unitChain(scope, 'Seed', f.compute.kind, runners));
  return map;
}

export function fleetDefinition(scope: Construct, f: ResolvedFleet, runners: UnitRunners): sfn.IChainable {
  const layout = new sfn.Pass(scope, 'The fleet', {
    result: sfn.Result.fromObject(fleetLayout(f)),
    resultPath: '$.layout',
  });
  const result = new sfn.Pass(scope, 'Every outcome', {
    parameters: {
      'backups.$': '$.backups',
      ...(f.seeds.length > 0 ? { 'seeds.$': '$.seeds' } : {}),
    },
  });
  const chain = layout.next(backups(scope, f, runners));
  return (f.seeds.length > 0 ? chain.next(seeds(scope, f, runners)) : chain).next(result);
}

/** Reasons for the wildcards CDK's grants put on the state machine's role, by the actions they serve. */
const ROLE_WILDCARD_REASONS: [RegExp, string][] = [
  [
    /^lambda:InvokeFunction$/,
    'Invokes only the fleet unit function; the :* form covers its versions and aliases, which LambdaInvoke names with the function ARN.',
  ],
  [
    /^logs:/,
    'CloudWatch Logs delivery for Step Functions (CreateLogDelivery, PutResourcePolicy, DescribeLogGroups, …) has no resource-level permissions.',
  ],
  [
    /^xray:/,
    'X-Ray tracing actions (PutTraceSegments, PutTelemetryRecords, GetSampling*) have no resource-level permissions.',
  ],
  [
    /^ecs:RunTask$/,
    "Runs only the fleet's task definition; the :* stands for its revisions (CDK names the family unless the app sets @aws-cdk/aws-stepfunctions-tasks:fixRunEcsTaskPolicy).",
  ],
  [
    /^ecs:(StopTask|DescribeTasks)$/,
    'The ids of the unit tasks the state machine starts are not known before they start; it can only run the one task definition.',
  ],
];

/** Acknowledges the role's wildcards one statement family at a time; an unknown one stays a finding. */
function acknowledgeRoleWildcards(role: iam.IRole): void {
  const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  const json = policy?.document.toJSON() as { Statement?: iam.PolicyStatement[] } | undefined;
  for (const raw of json?.Statement ?? []) {
    const statement = iam.PolicyStatement.fromJson(raw);
    const reason = ROLE_WILDCARD_REASONS.find(([actions]) => statement.actions.every((a) => actions.test(a)));
    if (reason) acknowledgeWildcards(role, [statement], reason[1]);
  }
}

/** The Standard state machine, logged (ALL, with execution data: only unit names) and traced. */
export function fleetStateMachine(
  scope: Construct,
  f: ResolvedFleet,
  runners: UnitRunners,
): sfn.StateMachine {
  const logGroup = new logs.LogGroup(scope, 'StateMachineLogs', {
    retention: f.logRetention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const machine = new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromChainable(fleetDefinition(scope, f, runners)),
    timeout: f.executionTimeout,
    tracingEnabled: true,
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    comment: 'pgferry fleet: every database its own unit, backed up, then seeded',
  });
  acknowledgeRoleWildcards(machine.role);
  return machine;
}
