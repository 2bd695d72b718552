import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/** The masking key's secret; one given by ARN is imported (a partial ARN, without the suffix, too). */
export function maskingKeySecret(
  scope: Construct,
  id: string,
  key: secretsmanager.ISecret | string | undefined,
): secretsmanager.ISecret | undefined {
  if (typeof key !== 'string') return key;
  return /-[A-Za-z0-9]{6}$/.test(key)
    ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, key)
    : secretsmanager.Secret.fromSecretPartialArn(scope, id, key);
}

/** What the job is told of the key: its secret's ARN only (the key is read at run time). */
export function maskingKeyArn(key: secretsmanager.ISecret | string): string {
  return typeof key === 'string' ? key : key.secretArn;
}
