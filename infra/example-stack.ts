import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { Compute } from './compute.js';
import { exampleVpc } from './example-vpc.js';
import { PgferryBackup } from './pgferry-backup.js';

export interface ExampleStackProps extends StackProps {
  postgresMajors: number[];
  compute: 'lambda' | 'fargate';
  clientMirror?: string;
  clientCacheDir?: string;
  alarmEmail: string;
}

/**
 * Nightly backups of an existing RDS instance in an existing VPC: everything is imported by
 * attributes (no lookups, so synth needs no AWS credentials). Replace the ids with your own.
 */
export class ExampleStack extends Stack {
  readonly backup: PgferryBackup;

  constructor(scope: Construct, id: string, props: ExampleStackProps) {
    super(scope, id, props);
    const vpc = exampleVpc(this, this.region);
    const db = rds.DatabaseInstance.fromDatabaseInstanceAttributes(this, 'Database', {
      instanceIdentifier: 'app-db',
      instanceEndpointAddress: `app-db.abcdefghijkl.${this.region}.rds.amazonaws.com`,
      port: 5432,
      securityGroups: [
        ec2.SecurityGroup.fromSecurityGroupId(this, 'DatabaseSecurityGroup', 'sg-0123456789abcdef0'),
      ],
    });
    const secret = secretsmanager.Secret.fromSecretCompleteArn(
      this,
      'DatabaseSecret',
      `arn:aws:secretsmanager:${this.region}:${this.account}:secret:app-db/pgferry-AbCdEf`,
    );

    this.backup = new PgferryBackup(this, 'Backup', {
      database: { secret },
      databases: ['app'],
      vpc,
      postgresMajors: props.postgresMajors,
      compute: props.compute === 'fargate' ? Compute.fargate() : Compute.lambda(),
      clientMirror: props.clientMirror,
      clientCacheDir: props.clientCacheDir,
      alarmEmail: props.alarmEmail,
    });
    db.connections.allowDefaultPortFrom(this.backup);
  }
}
