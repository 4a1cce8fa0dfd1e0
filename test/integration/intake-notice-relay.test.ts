// On AWS the intake's refusal notices go to the notify function (which holds the notifier
// secrets) as an asynchronous invocation, so the webhook's and monitor's roles need no
// SMTP or chat secret. Here the invocation runs the real notify handler on the rig's
// notifiers: what the intake sends must be what that handler accepts and delivers.
import { afterEach, describe, expect, it } from 'vitest';
import { NOTIFY_FUNCTION_ENV, noticeRelay } from '../../functions/lib/notice-relay.js';
import { createHandler as createMonitor } from '../../functions/monitor.js';
import { createHandler as createNotify } from '../../functions/notify.js';
import { createHandler } from '../../functions/webhook.js';
import { fakeExecutions } from '../support/fake-sfn.js';
import { type IntakeRig, lambdaContext, startIntakeRig, webhookEvent } from '../support/intake.js';

let rig: IntakeRig;
afterEach(async () => rig?.close());

const FUNCTION = 'freezer-dr-ci-notify';

function relayTo(status: () => number) {
  const invoked: { name: string; payload: Record<string, unknown> }[] = [];
  const notify = createNotify(async () => rig.rt);
  const relay = noticeRelay({ [NOTIFY_FUNCTION_ENV]: FUNCTION }, async (name, payload) => {
    const answer = status();
    invoked.push({ name, payload: JSON.parse(payload) });
    if (answer === 202) await notify(JSON.parse(payload), lambdaContext);
    return answer;
  });
  return { relay, invoked };
}

function webhookWith(relay: ReturnType<typeof noticeRelay>) {
  const { api } = fakeExecutions();
  (api as unknown as { client: unknown }).client = rig.sfn;
  return createHandler({ runtime: async () => rig.rt, executions: () => api, env: rig.env, notice: relay });
}

const alert = (...hosts: string[]) =>
  JSON.stringify({
    version: '4',
    status: 'firing',
    alerts: hosts.map((host) => ({ status: 'firing', labels: { alertname: 'NovaComputeDown', host } })),
  });

describe('refusal notices through the notify function', () => {
  it('hands the webhook`s mass-failure notice to the notify function, whose handler accepts and delivers it', async () => {
    rig = await startIntakeRig({ hosts: 6 });
    for (const host of ['compute-1', 'compute-2', 'compute-3', 'compute-4'])
      rig.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
    const { relay, invoked } = relayTo(() => 202);
    const webhook = webhookWith(relay);
    for (let i = 0; i < 2; i += 1) {
      const r = await webhook(webhookEvent(alert('compute-1', 'compute-2', 'compute-3')), lambdaContext);
      expect(r.statusCode).toBe(202);
    }
    expect(invoked).toHaveLength(1);
    expect(invoked[0]).toMatchObject({
      name: FUNCTION,
      payload: { kind: 'mass-failure', host: 'compute-1, compute-2, compute-3' },
    });
    expect(rig.notifier.reports).toHaveLength(1);
    expect(rig.notifier.reports[0]).toMatchObject({
      kind: 'mass-failure',
      host: 'compute-1, compute-2, compute-3',
    });
    expect(rig.sfn.startCalls).toBe(0);
  });

  it('counts a notice Lambda did not accept as not sent: the next refusal tries again', async () => {
    rig = await startIntakeRig({ hosts: 4 });
    for (const host of ['compute-1', 'compute-2', 'compute-3'])
      rig.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
    let answer = 500;
    const { relay, invoked } = relayTo(() => answer);
    const webhook = webhookWith(relay);
    await webhook(webhookEvent(alert('compute-1')), lambdaContext);
    answer = 202;
    await webhook(webhookEvent(alert('compute-1')), lambdaContext);
    await webhook(webhookEvent(alert('compute-1')), lambdaContext);
    expect(invoked).toHaveLength(2);
    expect(rig.notifier.reports).toHaveLength(1);
    expect(rig.lines.join('\n')).toContain('refusal notice not handed over');
  });

  it('the monitor sends its notices the same way', async () => {
    rig = await startIntakeRig({ hosts: 4 });
    for (const host of ['compute-1', 'compute-2', 'compute-3'])
      rig.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
    const { relay, invoked } = relayTo(() => 202);
    const { api } = fakeExecutions();
    (api as unknown as { client: unknown }).client = rig.sfn;
    const monitor = createMonitor(
      async () => rig.rt,
      () => api,
      relay,
    );
    const summary = (await monitor({}, lambdaContext)) as { refused: number };
    expect(summary.refused).toBeGreaterThan(0);
    expect(invoked.map((i) => i.payload.kind)).toEqual(['mass-failure']);
    expect(rig.notifier.reports).toHaveLength(1);
  });
});
