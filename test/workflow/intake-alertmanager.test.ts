// End to end with a REAL Prometheus Alertmanager: an alert posted to its /api/v2/alerts
// reaches the webhook (node http server on 127.0.0.1 around the real handler) through a
// webhook_config with bearer auth; the recovery starts once and runs on the embedded
// engine against the SIMULATED cloud; Alertmanager's repeat notifications start nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../engine/local-engine.js';
import { type Alertmanager, alertmanagerBinary, startAlertmanager } from '../support/alertmanager.js';
import { type IntakeRig, startIntakeRig, TOKEN } from '../support/intake.js';
import { serveWebhook, type WebhookServer } from '../support/webhook-server.js';

let rig: IntakeRig;
let server: WebhookServer;
let am: Alertmanager | null = null;
const runs: Promise<{ name: string; status: string }>[] = [];

beforeAll(async () => {
  alertmanagerBinary(); // fails the suite with install instructions when missing
  rig = await startIntakeRig({
    hosts: 4,
    recovery: {
      fence: { verifyTimeoutSeconds: 2, pollIntervalMs: 20 },
      evacuation: { verifyPollMs: 20, verifyBudgetSeconds: 2 },
    },
  });
  const engine = new LocalEngine({ runtime: async () => rig.rt, retryIntervalMs: 10 });
  // Each execution the fake Step Functions accepts runs the real ASL on the embedded engine.
  rig.sfn.onStart = (execution) => {
    const run = engine.start(JSON.parse(execution.input), execution.name);
    runs.push(
      run.done.then((outcome) => {
        rig.sfn.finish(execution.name, outcome.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED');
        return { name: execution.name, status: outcome.status, error: outcome.error, cause: outcome.cause };
      }),
    );
  };
  server = await serveWebhook(rig.handler);
  am = await startAlertmanager({ webhookUrl: server.url, token: TOKEN });
});

afterAll(async () => {
  await am?.stop();
  await server?.close();
  await rig?.close();
});

async function until(what: string, check: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\nAlertmanager log:\n${am?.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const decisions = () =>
  rig.decisions() as { host: string; decision: string; reason: string; signal: string }[];

describe('real Alertmanager → webhook', () => {
  it('starts the recovery once, despite repeat notifications, and records the resolution', async () => {
    const { state } = rig.sim;
    const vms = [1, 2, 3].map((i) => state.addServer({ host: 'compute-2', name: `web-${i}` }));
    state.killCompute('compute-2', { reportedAgoMs: 120_000 });
    const startsAt = new Date().toISOString();
    const alert = {
      labels: { alertname: 'NovaComputeDown', host: 'compute-2', severity: 'critical' },
      annotations: { summary: 'nova-compute down on compute-2' },
      generatorURL: 'http://prometheus.example:9090/graph',
      startsAt,
    };
    await am?.postAlerts([{ ...alert, endsAt: new Date(Date.now() + 300_000).toISOString() }]);

    // The first notification, then at least three repeats (repeat_interval 2 s).
    await until(
      'four notifications',
      () => decisions().filter((d) => d.host === 'compute-2').length >= 4,
      30_000,
    );
    expect(rig.sfn.started).toHaveLength(1);
    const [first, ...repeats] = decisions();
    expect(first).toMatchObject({ host: 'compute-2', decision: 'started', signal: 'down' });
    for (const repeat of repeats) {
      expect(['already-handled', 'skipped']).toContain(repeat.decision);
      if (repeat.decision === 'skipped') expect(repeat.reason).toBe('forced-down');
    }

    // The execution ran the whole workflow: fenced, forced down, every VM moved.
    await until('the recovery to finish', () => runs.length === 1);
    expect(await runs[0]).toEqual({
      name: expect.any(String),
      status: 'SUCCEEDED',
      error: null,
      cause: null,
    });
    expect(state.host('compute-2')).toMatchObject({ power: 'off', forcedDown: true, status: 'disabled' });
    for (const vm of vms) expect(vm.host).not.toBe('compute-2');

    // Alertmanager sends the resolution when the alert ends; it is recorded, nothing starts.
    await am?.postAlerts([{ ...alert, endsAt: new Date().toISOString() }]);
    await until('the resolved notification', () => decisions().some((d) => d.signal === 'up'));
    expect(decisions().find((d) => d.signal === 'up')).toMatchObject({
      decision: 'recorded',
      reason: 'resolved',
    });
    expect(rig.sfn.started).toHaveLength(1);
    expect(rig.sfn.startCalls).toBeLessThanOrEqual(1);
    expect((await rig.handler.intake()).counters.unauthorized).toBe(0);
  });
});
