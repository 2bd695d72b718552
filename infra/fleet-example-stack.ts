import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { Compute } from './compute.js';
import { exampleVpc } from './example-vpc.js';
import type { FleetSource } from './fleet-props.js';
import { PgferryFleet } from './pgferry-fleet.js';

export interface FleetExampleStackProps extends StackProps {
  postgresMajors: number[];
  compute: 'lambda' | 'fargate' | 'auto';
  clientMirror?: string;
  clientCacheDir?: string;
  alarmEmail: string;
}

/** The example's three servers: two log in with a secret, one with RDS IAM authentication. */
const SERVERS = [
  { id: 'orders', databases: ['orders', 'payments', 'invoices', 'refunds'] },
  { id: 'catalog', databases: ['products', 'prices', 'stock', 'search'] },
  {
    id: 'accounts',
    databases: ['users', 'sessions', 'audit', 'billing'],
    iam: 'db-ABCDEFGHIJKLMNOPQRSTUVWXY0',
  },
] as const;

/**
 * Nightly backups of 3 servers × 4 databases with one PgferryFleet: everything imported by
 * attributes (no lookups, so synth needs no AWS credentials). Replace the ids with your own.
 */
export class FleetExampleStack extends Stack {
  readonly fleet: PgferryFleet;

  constructor(scope: Construct, id: string, props: FleetExampleStackProps) {
    super(scope, id, props);
    const vpc = exampleVpc(this, this.region);
    const sources: FleetSource[] = [];
    const dbs: rds.IDatabaseInstance[] = [];
    SERVERS.forEach((server, i) => {
      const endpoint = `${server.id}-db.abcdefghijkl.${this.region}.rds.amazonaws.com`;
      dbs.push(
        rds.DatabaseInstance.fromDatabaseInstanceAttributes(this, `Db-${server.id}`, {
          instanceIdentifier: `${server.id}-db`,
          instanceEndpointAddress: endpoint,
          port: 5432,
          securityGroups: [
            ec2.SecurityGroup.fromSecurityGroupId(this, `DbSg-${server.id}`, `sg-0${i}23456789abcdef0`),
          ],
        }),
      );
      sources.push(
        'iam' in server
          ? {
              id: server.id,
              endpoint,
              iamAuth: { username: 'pgferry', resourceId: server.iam },
              databases: [...server.databases],
            }
          : {
              id: server.id,
              secret: secretsmanager.Secret.fromSecretCompleteArn(
                this,
                `Secret-${server.id}`,
                `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${server.id}-db/pgferry-AbCdEf`,
              ),
              databases: [...server.databases],
            },
      );
    });

    this.fleet = new PgferryFleet(this, 'Fleet', {
      sources,
      vpc,
      postgresMajors: props.postgresMajors,
      concurrency: { overall: 4, perServer: 2 },
      compute:
        props.compute === 'fargate'
          ? Compute.fargate()
          : props.compute === 'lambda'
            ? Compute.lambda()
            : Compute.auto(),
      clientMirror: props.clientMirror,
      clientCacheDir: props.clientCacheDir,
      alarmEmail: props.alarmEmail,
    });
    for (const db of dbs) db.connections.allowDefaultPortFrom(this.fleet);
  }
}
