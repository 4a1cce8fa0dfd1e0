// Every step run twice (a Lambda retry, a re-driven execution): the second run must not
// power-cycle a host, force it down again, or evacuate an instance a second time.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { confirmHostFailure } from '../../core/confirm-host-failure.js';
import { evacuateInstance } from '../../core/evacuate-instance.js';
import { fenceHost } from '../../core/fence-host.js';
import { markHostDown } from '../../core/mark-host-down.js';
import { selectInstances } from '../../core/select-instances.js';
import { verifyInstance } from '../../core/verify-instance.js';
import { verifyPowerOff } from '../../core/verify-power-off.js';
import { lambdaContext } from '../../engine/local-engine.js';
import { taskFunctions } from '../../functions/catalog.js';
import { createHandler as createDrill } from '../../functions/fence-drill.js';
import { createHandler as createReconciler } from '../../functions/reconcile.js';
import { createHandler as createWebhook } from '../../functions/webhook.js';
import { fakeExecutions } from '../support/fake-sfn.js';
import { type Harness, recoveryInput, startHarness } from '../support/harness.js';
import { TOKEN, lambdaContext as webhookContext, webhookEvent } from '../support/intake.js';
import { alertmanagerPayload } from '../support/intake-samples.js';

let h: Harness;
afterEach(async () => h?.close());

describe('each step is safe to run twice', () => {
  it('fence, verify, mark-down, select, evacuate and verify-instance', async () => {
    // Rebuilds held until released: the retry below meets the rebuild in flight on any machine.
    h = await startHarness({ sim: { holdRebuilds: true } });
    const { state } = h.sim;
    const server = state.addServer({ host: 'compute-1' });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const { rt } = h;
    const host = { host: 'compute-1' };

    const confirm = { host: 'compute-1', incident: 'inc-1', executionName: 'twice' };
    expect((await confirmHostFailure(rt, confirm)).status).toBe('confirmed');
    expect((await confirmHostFailure(rt, confirm)).status).toBe('confirmed');
    const fence1 = await fenceHost(rt, host);
    const fence2 = await fenceHost(rt, host);
    expect(fence1.offRequested).toBe(true);
    expect(fence2).toMatchObject({ before: 'off', offRequested: false });
    expect(state.counters.powerOffCalls.get('compute-1')).toBe(1);
    expect((await verifyPowerOff(rt, host)).verified).toBe(true);
    expect((await verifyPowerOff(rt, host)).verified).toBe(true);

    const mark = { host: 'compute-1', incident: 'inc-1', fence: 'simulated' };
    expect((await markHostDown(rt, mark)).changed).toBe(true);
    const updates = state.counters.serviceUpdates;
    expect((await markHostDown(rt, mark)).changed).toBe(false);
    expect(state.counters.serviceUpdates).toBe(updates);

    const sel1 = await selectInstances(rt, host);
    expect(await selectInstances(rt, host)).toEqual(sel1);

    const input = { id: server.id, host: 'compute-1', incident: 'inc-1' };
    const first = await evacuateInstance(rt, input);
    const second = await evacuateInstance(rt, input); // retried while rebuilding
    expect(first.action).toBe('evacuated');
    expect(second.action).toBe('in-progress');
    state.releaseRebuilds();
    const verified = await verifyInstance(rt, { ...input, evacuation: first });
    expect(verified.outcome).toBe('recovered');
    const third = await evacuateInstance(rt, input); // re-driven after it landed
    expect(third.action).toBe('already-moved');
    expect((await verifyInstance(rt, { ...input, evacuation: third })).outcome).toBe('already-recovered');
    expect(state.counters.evacuateAccepted.get(server.id)).toBe(1);
  });

  it('a whole execution re-run for the same incident evacuates nothing again', async () => {
    h = await startHarness();
    const servers = [1, 2, 3].map(() => h.sim.state.addServer({ host: 'compute-1' }));
    h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const input = recoveryInput('compute-1', 'same-incident');
    expect((await h.engine.start(input, 'first').done).status).toBe('SUCCEEDED');
    expect((await h.engine.start(input, 'redriven').done).status).toBe('SUCCEEDED');
    for (const s of servers) expect(h.sim.state.counters.evacuateAccepted.get(s.id)).toBe(1);
    expect(h.sim.state.counters.powerOffCalls.get('compute-1')).toBe(1);
    expect(h.notifier.reports[1]?.instances.every((i) => i.outcome === 'already-recovered')).toBe(true);
  });
});

// Every Task handler of functions/catalog.ts (middy, zod and all), called twice with the
// same event as a Lambda retry or a re-drive would: a step added to the catalog without a
// check here fails the first test, and each handler's file must say why a second run is safe.
type Step = (h: Harness, call: (key: string, event: unknown) => Promise<unknown>) => Promise<void>;
const host = 'compute-1';
const incident = 'twice';
/** The drain's host: up, disabled by the drain, emptied by live migration. */
const drained = 'compute-2';

const twice: Record<string, Step> = {
  ConfirmHostFailureFunctionArn: async (h, call) => {
    const event = { recovery: { host, incident }, executionName: 'e' };
    const updates = h.sim.state.counters.serviceUpdates;
    const [a, b] = [
      await call('ConfirmHostFailureFunctionArn', event),
      await call('ConfirmHostFailureFunctionArn', event),
    ];
    expect((b as { serviceId: string }).serviceId).toBe((a as { serviceId: string }).serviceId);
    expect([a, b].map((r) => (r as { status: string }).status)).toEqual(['confirmed', 'confirmed']);
    expect(h.sim.state.counters.serviceUpdates).toBe(updates);
    expect(h.sim.state.counters.powerOffCalls.size).toBe(0);
  },
  FenceHostFunctionArn: async (h, call) => {
    await call('FenceHostFunctionArn', { host, incident });
    expect(await call('FenceHostFunctionArn', { host, incident })).toMatchObject({
      before: 'off',
      offRequested: false,
    });
    expect(h.sim.state.counters.powerOffCalls.get(host)).toBe(1);
  },
  VerifyPowerOffFunctionArn: async (h, call) => {
    for (let i = 0; i < 2; i += 1)
      expect(await call('VerifyPowerOffFunctionArn', { host, incident, offError: null })).toMatchObject({
        verified: true,
      });
    expect(h.sim.state.counters.powerOffCalls.get(host)).toBe(1);
  },
  MarkHostDownFunctionArn: async (h, call) => {
    const event = { host, incident, fence: 'simulated' };
    expect(await call('MarkHostDownFunctionArn', event)).toMatchObject({ changed: true });
    const updates = h.sim.state.counters.serviceUpdates;
    expect(await call('MarkHostDownFunctionArn', event)).toMatchObject({ changed: false });
    expect(h.sim.state.counters.serviceUpdates).toBe(updates);
  },
  SelectInstancesFunctionArn: async (_h, call) => {
    const first = await call('SelectInstancesFunctionArn', { host, incident });
    expect(await call('SelectInstancesFunctionArn', { host, incident })).toEqual(first);
  },
  PlanTargetsFunctionArn: async (h, call) => {
    const ids = [...h.sim.state.servers.values()].filter((s) => s.host === host).map((s) => s.id);
    const updates = h.sim.state.counters.serviceUpdates;
    const first = (await call('PlanTargetsFunctionArn', { host, incident, ids })) as { waves: unknown };
    const second = (await call('PlanTargetsFunctionArn', { host, incident, ids })) as { waves: unknown };
    expect(second.waves).toEqual(first.waves);
    expect(h.sim.state.counters.serviceUpdates).toBe(updates);
  },
  EvacuateInstanceFunctionArn: async (h, call) => {
    for (const server of [...h.sim.state.servers.values()].filter((s) => s.host === host)) {
      const event = { id: server.id, host, incident, target: null };
      const first = (await call('EvacuateInstanceFunctionArn', event)) as { action: string };
      expect(first.action).toBe('evacuated');
      expect(await call('EvacuateInstanceFunctionArn', event)).toMatchObject({ action: 'in-progress' });
      expect(h.sim.state.counters.evacuateAccepted.get(server.id)).toBe(1);
      // The rebuild was held, so the repeat above saw it in flight; now it lands.
      h.sim.state.releaseRebuilds();
      // Verified twice (the second after the instance landed): the same verdict, one unlock.
      const verify = { id: server.id, host, evacuation: first };
      expect(await call('VerifyInstanceFunctionArn', verify)).toMatchObject({ outcome: 'recovered' });
      expect(await call('VerifyInstanceFunctionArn', verify)).toMatchObject({ outcome: 'recovered' });
      expect(h.sim.state.servers.get(server.id)).toMatchObject({ locked: false, vmState: 'active' });
      // Re-driven once it landed: already moved, not evacuated again.
      expect(await call('EvacuateInstanceFunctionArn', event)).toMatchObject({ action: 'already-moved' });
      expect(h.sim.state.counters.evacuateAccepted.get(server.id)).toBe(1);
    }
  },
  // Checked with EvacuateInstance above: it needs that step's result.
  VerifyInstanceFunctionArn: async () => undefined,
  SummarizeFunctionArn: async (_h, call) => {
    const event = {
      host,
      selectedCount: 2,
      skippedCount: 0,
      results: [[{ id: 'a', outcome: 'recovered' }], [{ id: 'b', outcome: 'failed', reason: 'x' }]],
      unplacedCount: 0,
    };
    expect(await call('SummarizeFunctionArn', event)).toEqual(await call('SummarizeFunctionArn', event));
  },
  NotifyFunctionArn: async (h, call) => {
    const event = {
      kind: 'recovery',
      host,
      incident,
      cause: 'test',
      requestedAt: new Date().toISOString(),
      executionName: 'e',
      results: [],
    };
    const before = h.notifier.reports.length;
    await call('NotifyFunctionArn', event);
    await call('NotifyFunctionArn', event);
    // Documented: a re-run sends the report again (a duplicate, never a lost report), and changes nothing else.
    const sent = h.notifier.reports.slice(before);
    expect(sent.map((r) => [r.kind, r.host, r.incident])).toEqual([
      ['recovery', host, incident],
      ['recovery', host, incident],
    ]);
  },
  // The drain's steps, on a second host that still runs (compute-1 is the failed one).
  CheckDrainHostFunctionArn: async (h, call) => {
    for (let i = 1; i <= 2; i += 1) h.sim.state.addServer({ host: drained, name: `live-${i}` });
    const updates = h.sim.state.counters.serviceUpdates;
    for (let i = 0; i < 2; i += 1)
      expect(await call('CheckDrainHostFunctionArn', { host: drained, incident })).toMatchObject({
        status: 'up',
      });
    expect(h.sim.state.counters.serviceUpdates).toBe(updates);
  },
  DisableHostForDrainFunctionArn: async (h, call) => {
    const event = { host: drained, incident: 'drain-twice', cause: 'test: degraded' };
    expect(await call('DisableHostForDrainFunctionArn', event)).toMatchObject({ changed: true });
    const updates = h.sim.state.counters.serviceUpdates;
    expect(await call('DisableHostForDrainFunctionArn', event)).toMatchObject({ changed: false });
    expect(h.sim.state.counters.serviceUpdates).toBe(updates);
  },
  MigrateInstanceFunctionArn: async (h, call) => {
    for (const server of [...h.sim.state.servers.values()].filter((s) => s.host === drained)) {
      const event = { id: server.id, host: drained, incident: 'drain-twice', target: null };
      const first = (await call('MigrateInstanceFunctionArn', event)) as { action: string };
      expect(first.action).toBe('live-migrating');
      expect(await call('MigrateInstanceFunctionArn', event)).toMatchObject({ action: 'in-progress' });
      expect(h.sim.state.counters.liveMigrateAccepted.get(server.id)).toBe(1);
      // Verified until it lands, then once more: the same verdict.
      const verify = { id: server.id, host: drained, migration: first };
      let verdict = (await call('VerifyMigrationFunctionArn', verify)) as { done: boolean };
      const deadline = Date.now() + 60_000;
      while (!verdict.done && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        verdict = (await call('VerifyMigrationFunctionArn', verify)) as { done: boolean };
      }
      expect(verdict).toMatchObject({ done: true, outcome: 'migrated' });
      expect(await call('VerifyMigrationFunctionArn', verify)).toMatchObject({
        done: true,
        outcome: 'migrated',
      });
      // Re-driven once it landed: already moved, not migrated again.
      expect(await call('MigrateInstanceFunctionArn', event)).toMatchObject({ action: 'already-moved' });
      expect(h.sim.state.counters.liveMigrateAccepted.get(server.id)).toBe(1);
    }
  },
  // Checked with MigrateInstance above: it needs that step's result.
  VerifyMigrationFunctionArn: async () => undefined,
  SummarizeDrainFunctionArn: async (_h, call) => {
    const event = {
      host: drained,
      selectedCount: 2,
      skippedCount: 0,
      results: [[{ id: 'a', outcome: 'migrated' }]],
    };
    expect(await call('SummarizeDrainFunctionArn', event)).toEqual(
      await call('SummarizeDrainFunctionArn', event),
    );
  },
  HandOverToRecoveryFunctionArn: async (h, call) => {
    const { sfn, api } = fakeExecutions();
    const saved = h.rt.recoveries;
    h.rt.recoveries = api;
    try {
      const event = { host, incident: 'drain-twice', executionName: 'd' };
      const first = (await call('HandOverToRecoveryFunctionArn', event)) as { recovery: string };
      const second = (await call('HandOverToRecoveryFunctionArn', event)) as { recovery: string };
      expect(second.recovery).toBe(first.recovery);
      expect(sfn.executions.size).toBe(1);
    } finally {
      h.rt.recoveries = saved;
    }
  },
};

describe('every Task handler run twice with the same event', () => {
  it('has a twice-check for every function in the catalog, and each handler says why a re-run is safe', () => {
    for (const [key, fn] of Object.entries(taskFunctions)) {
      expect(twice[key], `no twice-check for ${key}`).toBeTypeOf('function');
      const source = readFileSync(fn.source, 'utf8');
      const doc = /\/\*\*([\s\S]*?)\*\/\s*export const createHandler/.exec(source)?.[1] ?? '';
      expect(doc, `${fn.source}: doc comment on createHandler`).toMatch(
        /retr|re-?drive|re-?run|twice|again/i,
      );
    }
  });

  it('in workflow order, on one failed host: no second power-off, force-down or evacuation', async () => {
    // Rebuilds held until released: a repeated evacuate meets the rebuild still in flight, however slow the machine.
    h = await startHarness({ sim: { holdRebuilds: true } });
    for (let i = 1; i <= 2; i += 1) h.sim.state.addServer({ host, name: `app-${i}` });
    h.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
    const handlers = new Map(
      Object.entries(taskFunctions).map(([key, fn]) => [key, fn.create(async () => h.rt)]),
    );
    const call = async (key: string, event: unknown) => {
      const handler = handlers.get(key);
      if (!handler) throw new Error(`${key} is not in the catalog`);
      return handler(event, lambdaContext(key, 'twice'));
    };
    for (const key of Object.keys(twice)) if (handlers.has(key)) await (twice[key] as Step)(h, call);
    expect(h.sim.state.counters.powerOffCalls.get(host)).toBe(1);
    expect(h.sim.state.unsafeEvacuations).toBe(0);
  });
});

describe('the functions outside the workflow, run twice', () => {
  it('webhook: the same alert twice starts one execution', async () => {
    h = await startHarness();
    h.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
    const { sfn, api } = fakeExecutions();
    const webhook = createWebhook({
      runtime: async () => h.rt,
      executions: () => api,
      env: { FREEZER_DR_WEBHOOK_TOKEN: TOKEN },
    });
    const body = JSON.stringify(alertmanagerPayload([{ host }]));
    const answers = [
      await webhook(webhookEvent(body), webhookContext),
      await webhook(webhookEvent(body), webhookContext),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([202, 202]);
    expect(sfn.startCalls).toBe(1);
    expect(sfn.started).toHaveLength(1);
  });

  it('reconcile: a second pass finds the first one resumed and starts nothing', async () => {
    h = await startHarness();
    h.sim.state.addServer({ host });
    h.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
    await markHostDown(h.rt, { host, incident, fence: 'simulated' });
    h.sim.state.host(host).power = 'off';
    const { sfn, api } = fakeExecutions();
    const handler = createReconciler(
      async () => h.rt,
      () => api,
    );
    const first = await handler({}, lambdaContext('reconcile', 'scheduled'));
    const second = await handler({}, lambdaContext('reconcile', 'scheduled'));
    expect(first.hosts.map((x) => x.action)).toEqual(['resumed']);
    expect(second.hosts.map((x) => x.action)).toEqual(['in-recovery']);
    expect(sfn.startCalls).toBe(1);
    expect(h.sim.state.counters.powerOffCalls.size).toBe(0);
  });

  it('fence drill: reads only, twice', async () => {
    h = await startHarness();
    const drill = createDrill(async () => h.rt);
    const [a, b] = [
      await drill({}, lambdaContext('fenceDrill', 'scheduled')),
      await drill({}, lambdaContext('fenceDrill', 'scheduled')),
    ];
    expect(b.entries.map((e) => [e.host, e.state])).toEqual(a.entries.map((e) => [e.host, e.state]));
    expect(h.sim.state.counters.powerOffCalls.size).toBe(0);
  });
});
