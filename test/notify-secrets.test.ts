// Secrets from AWS Secrets Manager, through the code path Lambda uses (Powertools
// Parameters + the AWS SDK), pointed at a small Secrets Manager stand-in on 127.0.0.1
// that speaks its JSON 1.1 protocol.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackNotifier, slackNotifierSchema } from '../drivers/notifier/chat.js';
import { deliverReport } from '../drivers/notifier/deliver.js';
import { createEmailNotifier, emailNotifierSchema } from '../drivers/notifier/email.js';
import {
  type HttpSink,
  sampleReport,
  silentLogger,
  startHttpSink,
  startSmtpSink,
} from './notify-fixtures.js';

const secrets: Record<string, string> = {
  'freezer-dr/smtp': JSON.stringify({ username: 'freezer', password: 'from-secrets-manager' }),
};
const calls: string[] = [];
let fake: Server;
let sink: HttpSink;

beforeAll(async () => {
  sink = await startHttpSink([200]);
  secrets['freezer-dr/slack'] = `${sink.url}/services/T1/B2/secret-token`;
  fake = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        SecretId?: string;
      };
      calls.push(`${target} ${SecretId}`);
      const value = SecretId ? secrets[SecretId] : undefined;
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
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  // The SDK's standard configuration, as a Lambda role would give it, but local.
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
    AWS_SECRET_ACCESS_KEY: 'local-test-secret',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`,
  });
});
afterAll(async () => {
  await sink.close();
  fake.closeAllConnections();
  await new Promise<void>((resolve) => fake.close(() => resolve()));
});

describe('secrets from AWS Secrets Manager', () => {
  it('authenticates to SMTP with the "password" field of a JSON secret', async () => {
    const smtp = await startSmtpSink({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        if (auth.username === 'freezer' && auth.password === 'from-secrets-manager')
          return callback(null, { user: 'freezer' });
        return callback(new Error('Invalid username or password'));
      },
    });
    try {
      const email = createEmailNotifier(
        emailNotifierSchema.parse({
          driver: 'email',
          from: 'freezer-dr@cloud.example',
          admins: ['ops@cloud.example'],
          smtp: {
            host: '127.0.0.1',
            port: smtp.port,
            security: 'none',
            auth: { user: 'freezer', passwordSecret: 'freezer-dr/smtp' },
          },
          tenants: { enabled: false },
        }),
        { logger: silentLogger as never, env: process.env, simulated: null },
      );
      const [result] = await deliverReport([email], sampleReport());
      expect(result).toEqual({ notifier: 'email', ok: true, attempts: 1, error: null });
      expect(smtp.messages.map((m) => m.user)).toEqual(['freezer']);
      expect(calls).toContain('secretsmanager.GetSecretValue freezer-dr/smtp');
    } finally {
      await smtp.close();
    }
  });

  it('reads a webhook URL kept as a plain secret string', async () => {
    const slack = new SlackNotifier(
      slackNotifierSchema.parse({ driver: 'slack', urlSecret: 'freezer-dr/slack' }),
    );
    const [result] = await deliverReport([slack], sampleReport());
    expect(result?.ok).toBe(true);
    expect(sink.requests[0]?.path).toBe('/services/T1/B2/secret-token');
  });

  it('reports a missing secret once, without retrying', async () => {
    const slack = new SlackNotifier(
      slackNotifierSchema.parse({ driver: 'slack', urlSecret: 'freezer-dr/nope' }),
    );
    const [result] = await deliverReport([slack], sampleReport(), { retry: { initialDelayMs: 1 } });
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result?.error).toMatch(
      /^webhook URL: Secrets Manager secret freezer-dr\/nope: ResourceNotFoundException/,
    );
  });
});
