// A small AWS Secrets Manager on 127.0.0.1 speaking its JSON 1.1 protocol
// (GetSecretValue only), for tests that read secrets through the code path Lambda uses
// (Powertools Parameters + the AWS SDK). It records which secrets were asked for.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSecretsManager {
  /** Secret id -> SecretString; change it at will. */
  secrets: Record<string, string>;
  /** "<X-Amz-Target> <SecretId>" per request. */
  calls: string[];
  /** What the AWS SDK needs to reach this one instead of AWS (region, credentials, endpoint). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startFakeSecretsManager(
  secrets: Record<string, string> = {},
): Promise<FakeSecretsManager> {
  const calls: string[] = [];
  const fake: Pick<FakeSecretsManager, 'secrets' | 'calls'> = { secrets, calls };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        SecretId?: string;
      };
      calls.push(`${target} ${SecretId}`);
      const value = SecretId ? fake.secrets[SecretId] : undefined;
      res.setHeader('Content-Type', 'application/x-amz-json-1.1');
      if (target !== 'secretsmanager.GetSecretValue' || value === undefined) {
        res.writeHead(400);
        res.end(
          JSON.stringify({
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          }),
        );
        return;
      }
      res.writeHead(200);
      res.end(
        JSON.stringify({
          ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SecretId}-AbCdEf`,
          Name: SecretId,
          SecretString: value,
          VersionId: 'v1',
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(fake as FakeSecretsManager, {
    // The SDK's standard configuration, as a Lambda role would give it, but local.
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
      AWS_SECRET_ACCESS_KEY: 'local-test-secret',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
