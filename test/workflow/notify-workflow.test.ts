// The whole recovery on the embedded engine with the email notifier pointed at an SMTP
// server that is down: every instance is still evacuated, the run still succeeds, and
// the execution's output records the notification failure. Then the same run with
// SMTP up, where the tenant message lists only that tenant's instances.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import { createEmailNotifier, emailNotifierSchema } from '../../drivers/notifier/email.js';
import { LocalEngine } from '../../engine/local-engine.js';
import { createRuntime } from '../../engine/runtime.js';
import { silentLogger } from '../support/capture-logger.js';
import { quietLogger, recoveryInput } from '../support/harness.js';
import { closedPort, type SmtpSink, startSmtpSink } from '../support/notify-fixtures.js';

let sim: SimulatedCloud;
let smtp: SmtpSink | undefined;
afterEach(async () => {
  await sim?.close();
  await smtp?.close();
  smtp = undefined;
});

async function run(port: number) {
  sim = await startSimulatedCloud({ evacuateMs: 50 });
  const { state, identity } = sim;
  identity.addProject({ id: 'p-shop', name: 'shop' });
  identity.addProject({ id: 'p-lab', name: 'lab' });
  identity.addUser({ id: 'u-ann', name: 'ann', email: 'ann@shop.example' });
  identity.addUser({ id: 'u-lee', name: 'lee', email: 'lee@lab.example' });
  identity.assign({ projectId: 'p-shop', role: 'member', userId: 'u-ann' });
  identity.assign({ projectId: 'p-lab', role: 'member', userId: 'u-lee' });
  const servers = [
    state.addServer({ host: 'compute-1', name: 'shop-web', projectId: 'p-shop' }),
    state.addServer({ host: 'compute-1', name: 'shop-db', projectId: 'p-shop' }),
    state.addServer({ host: 'compute-1', name: 'lab-notebook', projectId: 'p-lab' }),
  ];
  state.killCompute('compute-1', { reportedAgoMs: 120_000 });

  const config = parseConfig({
    cloud: { driver: 'simulated' },
    fencer: { driver: 'simulated' },
    recovery: {
      fence: { verifyTimeoutSeconds: 2, pollIntervalMs: 20 },
      evacuation: { verifyPollMs: 20, verifyBudgetSeconds: 2 },
    },
  });
  const email = createEmailNotifier(
    emailNotifierSchema.parse({
      driver: 'email',
      from: 'freezer-dr@cloud.example',
      admins: ['ops@cloud.example'],
      smtp: { host: '127.0.0.1', port, security: 'none', connectionTimeoutMs: 1_000 },
      retry: { attempts: 2, initialDelayMs: 20 },
    }),
    { logger: silentLogger as never, env: {}, simulated: sim },
  );
  const rt = await createRuntime(config, { simulated: sim, logger: quietLogger(), notifiers: [email] });
  const engine = new LocalEngine({ runtime: async () => rt, retryIntervalMs: 10 });
  const outcome = await engine.start(recoveryInput('compute-1'), `notify-${port}`).done;
  return { outcome, servers, tokens: state.counters.tokensIssued };
}

type Notifications = {
  delivered: number;
  failed: number;
  results: { notifier: string; ok: boolean; error: string | null }[];
};

describe('notifications inside the recovery workflow', () => {
  it('SMTP down: the workflow still evacuates, and the execution records the notification failure', async () => {
    const { outcome, servers } = await run(await closedPort());
    expect(outcome.status).toBe('SUCCEEDED');
    for (const s of servers) expect(s.host).not.toBe('compute-1');
    const notifications = (outcome.output as { notifications: Notifications }).notifications;
    expect(notifications).toMatchObject({ delivered: 0, failed: 1 });
    expect(notifications.results[0]).toMatchObject({ notifier: 'email', ok: false });
    expect(notifications.results[0]?.error).toMatch(/ECONNREFUSED/);
  });

  it('SMTP up: admins and each project hear about the same recovery, tenants only about their own', async () => {
    smtp = await startSmtpSink();
    const { outcome, tokens } = await run(smtp.port);
    expect(outcome.status).toBe('SUCCEEDED');
    // Every step, and the e-mail notifier's Keystone lookups, used one Keystone token.
    expect(tokens).toBe(1);
    expect((outcome.output as { notifications: Notifications }).notifications).toMatchObject({
      delivered: 1,
      failed: 0,
    });
    const find = (to: string) => smtp?.messages.find((m) => m.to.includes(to));
    expect(find('ops@cloud.example')?.text).toMatch(
      /shop-web[\s\S]*lab-notebook|lab-notebook[\s\S]*shop-web/,
    );
    const shop = find('ann@shop.example');
    expect(shop?.to).toEqual(['ann@shop.example']);
    expect(shop?.text).toContain('shop-web');
    expect(shop?.text).toContain('shop-db');
    expect(shop?.text).not.toContain('lab-notebook');
    const lab = find('lee@lab.example');
    expect(lab?.text).toContain('lab-notebook');
    expect(lab?.html).not.toContain('shop-');
  });
});
