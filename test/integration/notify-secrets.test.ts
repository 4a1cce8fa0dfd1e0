// Secrets from AWS Secrets Manager, through the code path Lambda uses (Powertools
// Parameters + the AWS SDK), pointed at a small Secrets Manager stand-in on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverReport } from '../../core/deliver-report.js';
import { SlackNotifier, slackNotifierSchema } from '../../drivers/notifier/chat.js';
import { createEmailNotifier, emailNotifierSchema } from '../../drivers/notifier/email.js';
import { silentLogger } from '../support/capture-logger.js';
import { type HttpSink, sampleReport, startHttpSink, startSmtpSink } from '../support/notify-fixtures.js';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/secrets-manager.js';

let fake: FakeSecretsManager;
let sink: HttpSink;

beforeAll(async () => {
  sink = await startHttpSink([200]);
  fake = await startFakeSecretsManager({
    'freezer-dr/smtp': JSON.stringify({ username: 'freezer', password: 'from-secrets-manager' }),
    'freezer-dr/slack': `${sink.url}/services/T1/B2/secret-token`,
  });
  Object.assign(process.env, fake.env);
});
afterAll(async () => {
  await sink.close();
  await fake.close();
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
            auth: { user: 'freezer', password: { secret: 'freezer-dr/smtp' } },
          },
          tenants: { enabled: false },
        }),
        { logger: silentLogger as never, env: process.env, simulated: null },
      );
      const [result] = await deliverReport([email], sampleReport());
      expect(result).toEqual({ notifier: 'email', ok: true, attempts: 1, error: null });
      expect(smtp.messages.map((m) => m.user)).toEqual(['freezer']);
      expect(fake.calls).toContain('secretsmanager.GetSecretValue freezer-dr/smtp');
    } finally {
      await smtp.close();
    }
  });

  it('reads a webhook URL kept as a plain secret string', async () => {
    const slack = new SlackNotifier(
      slackNotifierSchema.parse({ driver: 'slack', url: { secret: 'freezer-dr/slack' } }),
    );
    const [result] = await deliverReport([slack], sampleReport());
    expect(result?.ok).toBe(true);
    expect(sink.requests[0]?.path).toBe('/services/T1/B2/secret-token');
  });

  it('reports a missing secret once, without retrying', async () => {
    const slack = new SlackNotifier(
      slackNotifierSchema.parse({ driver: 'slack', url: { secret: 'freezer-dr/nope' } }),
    );
    const [result] = await deliverReport([slack], sampleReport(), { retry: { initialDelayMs: 1 } });
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result?.error).toMatch(
      /^webhook URL: Secrets Manager secret freezer-dr\/nope: ResourceNotFoundException/,
    );
  });
});
