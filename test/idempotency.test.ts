// Every step run twice (a Lambda retry, a re-driven execution): the second run must not
// power-cycle a host, force it down again, or evacuate an instance a second time.
import { afterEach, describe, expect, it } from 'vitest';
import { confirmHostFailure } from '../core/confirm-failure.js';
import { evacuateInstance } from '../core/evacuate-instance.js';
import { fenceHost } from '../core/fence-host.js';
import { markHostDown } from '../core/mark-host-down.js';
import { selectInstances } from '../core/select-instances.js';
import { verifyInstance } from '../core/verify-instance.js';
import { verifyPowerOff } from '../core/verify-power-off.js';
import { type Harness, recoveryInput, startHarness } from './support/harness.js';

let h: Harness;
afterEach(async () => h?.close());

describe('each step is safe to run twice', () => {
  it('fence, verify, mark-down, select, evacuate and verify-instance', async () => {
    h = await startHarness();
    const { state } = h.sim;
    const server = state.addServer({ host: 'compute-1' });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const { rt } = h;
    const host = { host: 'compute-1' };

    await confirmHostFailure(rt, host);
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
