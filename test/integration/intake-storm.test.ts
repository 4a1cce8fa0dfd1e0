// Alert storms against the real handler and the SIMULATED cloud: thousands of alerts for
// hundreds of hosts, duplicated, resolved and interleaved, concurrently. Exactly one
// execution per host alerted down (a false alarm's execution ends HostNotDown once Nova is
// read; the workflow tests show that), every truly-down host among them; with more than the
// threshold down, none and one notice. With containers sharing the DynamoDB state store
// (dynalite on 127.0.0.1), the default start limit holds across all of them.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StateStore } from '../../core/intake/state-store.js';
import { createHandler, type WebhookHandler } from '../../functions/webhook.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import { fakeExecutions } from '../support/fake-sfn.js';
import { type IntakeRig, lambdaContext, startIntakeRig, webhookEvent } from '../support/intake.js';
import { inParallel, rng } from '../support/prng.js';
import { buildStorm } from '../support/storm.js';

let rig: IntakeRig;
afterEach(async () => rig?.close());

let dynamo: Dynalite;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.close());

/** The default intake.protection.maxStartsPerWindow. */
const DEFAULT_LIMIT = 10;

interface Containers {
  count: number;
  /** Each container's state store; its own memory when not given. */
  store?: () => StateStore;
  /** intake settings (default: a start limit high enough to start every down host). */
  intake?: Record<string, unknown>;
  /** Alerts in the storm (default 4000). */
  alerts?: number;
}

/** More handlers, each its own container, on the rig's cloud and Step Functions. */
function containers(count: number, store?: () => StateStore): WebhookHandler[] {
  const handlers: WebhookHandler[] = [rig.handler];
  for (let i = 1; i < count; i += 1) {
    const { api } = fakeExecutions();
    (api as unknown as { client: unknown }).client = rig.sfn;
    handlers.push(
      createHandler({
        runtime: async () => rig.rt,
        executions: () => api,
        env: rig.env,
        ...(store ? { stateStore: store } : {}),
      }),
    );
  }
  return handlers;
}

/**
 * containers > 1: that many handlers, each with its own memory (as Lambda containers),
 * sharing one Step Functions and, when given, one state store; without it they agree only
 * through execution names and ListExecutions.
 */
async function storm(downCount: number, seed: number, setup: Containers = { count: 1 }) {
  const multi = setup.count > 1;
  rig = await startIntakeRig({
    hosts: 300,
    discardLogs: true,
    sfnLatencyMs: 3,
    intake: setup.intake ?? {
      snapshotCacheMs: multi ? 0 : 1000,
      protection: { maxStartsPerWindow: 1000 },
    },
    ...(setup.store ? { stateStore: setup.store() } : {}),
  });
  const handlers = containers(setup.count, setup.store);
  const random = rng(seed);
  const downHosts = new Set(random.shuffle([...rig.hosts]).slice(0, downCount));
  for (const host of downHosts)
    rig.sim.state.killCompute(host, { reportedAgoMs: 90_000 + random.int(60_000) });
  // The healthy hosts' last reports are held where they are for the storm: each report is a
  // new incident key, so a storm that happened to span one (10 s apart) could rightly start a
  // second execution for a falsely alerted host. Held, "one per host" does not depend on the
  // wall clock or the machine's speed (Nova still calls them up: reported within 60 s).
  for (const host of rig.hosts.filter((h) => !downHosts.has(h))) {
    const sim = rig.sim.state.host(host);
    sim.lastReport = rig.sim.state.reportedAt(sim);
    sim.alive = false;
  }
  const requests = buildStorm(random, rig.hosts, downHosts, setup.alerts ?? 4000);
  const statuses = new Map<number, number>();
  const reasons = new Map<string, Set<string>>();
  let turn = 0;
  await inParallel(requests, 64, async (request) => {
    const event = webhookEvent(request.body, { contentType: request.contentType });
    const handler = handlers[turn++ % handlers.length] as WebhookHandler;
    const result = await handler(event, lambdaContext);
    const status = result.statusCode ?? 0;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const { outcomes = [] } = JSON.parse(result.body ?? '{}') as {
      outcomes?: { host: string; reason: string }[];
    };
    for (const { host, reason } of outcomes)
      reasons.set(reason, (reasons.get(reason) ?? new Set()).add(host));
  });
  const alerts = requests.reduce((sum, r) => sum + r.alerts, 0);
  const counted = await Promise.all(handlers.map(async (h) => (await h.intake()).counters));
  return { downHosts, requests, statuses, alerts, counted, reasons };
}

/** Hosts of the started executions. */
const startedHosts = () => rig.sfn.started.map((e) => JSON.parse(e.input).host as string);

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
    const { downHosts, statuses, alerts, counted } = await storm(60, 4242, { count: 4 });
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

  it('four containers over one DynamoDB state store, default start limit: exactly that many start, the rest are rate-limited, one notice', async () => {
    const table = await dynamo.newTable();
    const { statuses, alerts, counted, reasons } = await storm(60, 4242, {
      count: 4,
      store: () => dynamo.store({ table }),
      intake: { snapshotCacheMs: 0 },
      // Fewer than the others: dynalite answers in this same process, a few ms per call.
      alerts: 1000,
    });
    expect([...statuses.keys()]).toEqual([202]);
    const started = startedHosts();
    expect(started).toHaveLength(DEFAULT_LIMIT);
    expect(new Set(started).size).toBe(DEFAULT_LIMIT);
    expect(counted.reduce((sum, c) => sum + c.alerts, 0)).toBe(alerts);
    expect(counted.reduce((sum, c) => sum + c.started, 0)).toBe(DEFAULT_LIMIT);
    expect(reasons.get('rate-limited')?.size).toBeGreaterThan(0);
    // Notify-once is shared too: one notice for the whole fleet of containers.
    expect(rig.notifier.reports).toHaveLength(1);
    expect(rig.notifier.reports[0]?.cause).toMatch(/No automatic recovery \(rate-limited\)/);
  }, 120_000);
});

describe('one concurrent alert per down host, several containers, the default start limit', () => {
  /** 18 of 40 hosts down (45%, under the mass-failure share): more than the limit, fewer than the share. */
  async function onePerHost(count: number, store: () => StateStore) {
    rig = await startIntakeRig({ hosts: 40, discardLogs: true, sfnLatencyMs: 3, stateStore: store() });
    const handlers = containers(count, store);
    const down = rng(count)
      .shuffle([...rig.hosts])
      .slice(0, 18);
    for (const host of down) rig.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
    const answers = await Promise.all(
      down.map(async (host, i) => {
        const body = JSON.stringify({ host, status: 'down', source: 'storm' });
        const result = await (handlers[i % count] as WebhookHandler)(webhookEvent(body), lambdaContext);
        expect(result.statusCode).toBe(202);
        return (JSON.parse(result.body ?? '{}') as { outcomes: { reason: string }[] }).outcomes[0]?.reason;
      }),
    );
    return answers.reduce<Record<string, number>>((tally, reason = '?') => {
      tally[reason] = (tally[reason] ?? 0) + 1;
      return tally;
    }, {});
  }

  it.each([4, 8])(
    '%i containers sharing the DynamoDB store start exactly 10, the other 8 are rate-limited',
    async (count) => {
      const table = await dynamo.newTable(); // a start window of its own
      expect(await onePerHost(count, () => dynamo.store({ table }))).toEqual({
        started: DEFAULT_LIMIT,
        'rate-limited': 8,
      });
      expect(rig.sfn.started).toHaveLength(DEFAULT_LIMIT);
    },
  );
});
