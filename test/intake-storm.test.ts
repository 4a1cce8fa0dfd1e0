// Alert storms against the real handler and the SIMULATED cloud: thousands of alerts for
// hundreds of hosts, duplicated, resolved and interleaved, concurrently. Exactly one
// execution per host alerted down (a false alarm's execution ends HostNotDown once Nova is
// read; the workflow tests show that), every truly-down host among them; with more than the
// threshold down, none and one notice.
import { afterEach, describe, expect, it } from 'vitest';
import { createHandler, type WebhookHandler } from '../functions/webhook.js';
import { fakeExecutions } from './support/fake-sfn.js';
import { type IntakeRig, lambdaContext, startIntakeRig, webhookEvent } from './support/intake.js';
import { inParallel, rng } from './support/prng.js';
import { buildStorm } from './support/storm.js';

let rig: IntakeRig;
afterEach(async () => rig?.close());

/**
 * containers > 1: that many handlers, each with its own memory (as Lambda containers),
 * sharing one Step Functions; they agree only through execution names and ListExecutions.
 */
async function storm(downCount: number, seed: number, containers = 1) {
  rig = await startIntakeRig({
    hosts: 300,
    discardLogs: true,
    sfnLatencyMs: 3,
    intake: { snapshotCacheMs: containers > 1 ? 0 : 1000, protection: { maxStartsPerWindow: 1000 } },
  });
  const handlers: WebhookHandler[] = [rig.handler];
  for (let i = 1; i < containers; i += 1) {
    const { api } = fakeExecutions();
    (api as unknown as { client: unknown }).client = rig.sfn;
    handlers.push(createHandler({ runtime: async () => rig.rt, executions: () => api, env: rig.env }));
  }
  const random = rng(seed);
  const downHosts = new Set(random.shuffle([...rig.hosts]).slice(0, downCount));
  for (const host of downHosts)
    rig.sim.state.killCompute(host, { reportedAgoMs: 90_000 + random.int(60_000) });
  const requests = buildStorm(random, rig.hosts, downHosts, 4000);
  const statuses = new Map<number, number>();
  let turn = 0;
  await inParallel(requests, 64, async (request) => {
    const event = webhookEvent(request.body, { contentType: request.contentType });
    const handler = handlers[turn++ % handlers.length] as WebhookHandler;
    const result = await handler(event, lambdaContext);
    const status = result.statusCode ?? 0;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  const alerts = requests.reduce((sum, r) => sum + r.alerts, 0);
  const counted = await Promise.all(handlers.map(async (h) => (await h.intake()).counters));
  return { downHosts, requests, statuses, alerts, counted };
}

describe('alert storm', () => {
  it('starts exactly one execution per host alerted down, every truly-down host among them', async () => {
    const { downHosts, requests, statuses, alerts } = await storm(90, 20261121);
    expect(requests.length).toBeGreaterThan(2500);
    expect(alerts).toBeGreaterThanOrEqual(4000);
    expect([...statuses.keys()]).toEqual([202]);
    const startedHosts = rig.sfn.started.map((e) => JSON.parse(e.input).host as string);
    expect(new Set(startedHosts).size).toBe(startedHosts.length);
    expect(startedHosts).toEqual(expect.arrayContaining([...downHosts]));
    const intake = await rig.handler.intake();
    expect(intake.counters.alerts).toBe(alerts);
    expect(intake.counters.started).toBe(startedHosts.length);
    expect(rig.notifier.reports).toEqual([]);
  });

  it('still exactly one per host with four containers that share nothing but Step Functions', async () => {
    const { downHosts, statuses, alerts, counted } = await storm(60, 4242, 4);
    expect([...statuses.keys()]).toEqual([202]);
    const startedHosts = rig.sfn.started.map((e) => JSON.parse(e.input).host as string);
    expect(new Set(startedHosts).size).toBe(startedHosts.length);
    expect(startedHosts).toEqual(expect.arrayContaining([...downHosts]));
    expect(counted.reduce((sum, c) => sum + c.alerts, 0)).toBe(alerts);
    expect(counted.reduce((sum, c) => sum + c.started, 0)).toBe(startedHosts.length);
  });

  it('starts nothing and notifies the admins once when more hosts are down than the threshold', async () => {
    const { statuses } = await storm(160, 7);
    expect([...statuses.keys()]).toEqual([202]);
    expect(rig.sfn.startCalls).toBe(0);
    expect(rig.notifier.reports).toHaveLength(1);
    expect(rig.notifier.reports[0]).toMatchObject({ kind: 'mass-failure' });
    expect(rig.notifier.reports[0]?.cause).toMatch(/160 of 300 fleet hosts down \(53%/);
  });
});
