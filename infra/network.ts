import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';

/**
 * The job's security group. Outbound is closed except HTTPS to the AWS APIs it calls (S3, Secrets
 * Manager, CloudWatch Logs, ECR for the Fargate image); the database port opens when the database
 * allows the job in (`db.connections.allowDefaultPortFrom(backup)` adds both directions).
 */
export function createJobSecurityGroup(scope: Construct, vpc: ec2.IVpc): ec2.SecurityGroup {
  const group = new ec2.SecurityGroup(scope, 'SecurityGroup', {
    vpc,
    description: 'pgferry scheduled backup job',
    allowAllOutbound: false,
  });
  group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to the AWS APIs the job calls');
  return group;
}
