import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback endpoint speaking Secrets Manager's `GetSecretValue` (AWS JSON 1.1), the one stand-in
 * TESTING.md allows: no emulator can be installed here. The SDK reaches it through
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`, as it would reach a VPC endpoint; everything after the secret
 * is real.
 */
export type StoredSecret = { value: string } | { deny: true };

export interface SecretsManagerStandIn {
  endpoint: string;
  /** Adds or replaces a secret; returns its ARN. */
  put(name: string, secret: StoredSecret): string;
  /** GetSecretValue requests seen, by SecretId. */
  requests: string[];
  close(): Promise<void>;
}

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';

export function secretArn(name: string): string {
  return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

function error(res: http.ServerResponse, type: string, message: string): void {
  res.setHeader('x-amzn-errortype', type);
  reply(res, 400, { __type: type, message });
}

export async function startSecretsManager(): Promise<SecretsManagerStandIn> {
  const secrets = new Map<string, StoredSecret>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        error(
          res,
          'UnknownOperationException',
          `this stand-in only answers GetSecretValue, not ${String(target)}`,
        );
        return;
      }
      if (!/AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? '')) {
        error(res, 'UnrecognizedClientException', 'the request is not signed');
        return;
      }
      const id = (JSON.parse(body || '{}') as { SecretId?: string }).SecretId ?? '';
      requests.push(id);
      const secret = secrets.get(id);
      if (!secret) {
        error(res, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      } else if ('deny' in secret) {
        error(
          res,
          'AccessDeniedException',
          `User: arn:aws:sts::${ACCOUNT}:assumed-role/pgferry-job is not authorized to perform: secretsmanager:GetSecretValue on resource: ${id}`,
        );
      } else {
        reply(res, 200, {
          ARN: id,
          Name: id.split(':secret:')[1],
          SecretString: secret.value,
          VersionId: '00000000-0000-0000-0000-000000000001',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: Date.now() / 1000,
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    put(name, secret) {
      const arn = secretArn(name);
      secrets.set(arn, secret);
      return arn;
    },
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
