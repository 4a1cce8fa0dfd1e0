// Instances that are not simply ACTIVE: each must end in its prior state on another host.
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, recoveryInput, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => h?.close());

describe('instance states through a recovery (simulated cloud)', () => {
  it('at microversion 2.95 starts again an ACTIVE instance that Nova left SHUTOFF', async () => {
    h = await startHarness({ sim: { maxMicroversion: '2.95' } });
    const active = h.sim.state.addServer({ host: 'compute-1', vmState: 'active' });
    const stopped = h.sim.state.addServer({ host: 'compute-1', vmState: 'stopped' });
    h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const outcome = await h.engine.start(recoveryInput('compute-1')).done;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(active.vmState).toBe('active');
    expect(stopped.vmState).toBe('stopped');
    expect(active.host).not.toBe('compute-1');
    expect(stopped.host).not.toBe('compute-1');
  });

  it('puts an ERROR instance back in ERROR, keeps SHUTOFF stopped, and leaves an operator lock in place', async () => {
    h = await startHarness();
    const errored = h.sim.state.addServer({ host: 'compute-1', vmState: 'error' });
    const stopped = h.sim.state.addServer({ host: 'compute-1', vmState: 'stopped' });
    const lockedByOperator = h.sim.state.addServer({
      host: 'compute-1',
      locked: true,
      lockedReason: 'operator',
    });
    h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const outcome = await h.engine.start(recoveryInput('compute-1')).done;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(errored.vmState).toBe('error');
    expect(stopped.vmState).toBe('stopped');
    expect(lockedByOperator.locked).toBe(true);
    expect(lockedByOperator.lockedReason).toBe('operator');
    for (const s of [errored, stopped, lockedByOperator]) expect(s.host).not.toBe('compute-1');
  });

  it('clears a task state the dead host will never finish, then evacuates', async () => {
    h = await startHarness({ recovery: { evacuation: { restoreErrorState: false } } });
    const stuck = h.sim.state.addServer({ host: 'compute-1', taskState: 'powering-off' });
    h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const outcome = await h.engine.start(recoveryInput('compute-1')).done;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(stuck.host).not.toBe('compute-1');
    expect(stuck.taskState).toBeNull();
    expect(stuck.vmState).toBe('active');
  });

  it('reports an instance deleted mid-run as gone, not failed', async () => {
    h = await startHarness({ sim: { holdRebuilds: true } });
    const kept = h.sim.state.addServer({ host: 'compute-1' });
    const doomed = h.sim.state.addServer({ host: 'compute-1' });
    h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const run = h.engine.start(recoveryInput('compute-1'));
    while ((h.sim.state.counters.evacuateAccepted.size ?? 0) < 2) await new Promise((r) => setTimeout(r, 5));
    h.sim.state.servers.delete(doomed.id);
    h.sim.state.releaseRebuilds();
    const outcome = await run.done;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(kept.host).not.toBe('compute-1');
    const instances = h.notifier.reports[0]?.instances ?? [];
    expect(instances.find((i) => i.id === doomed.id)?.outcome).toBe('gone');
  });

  it('reports an instance with no host left to take it as failed, without evacuating it', async () => {
    h = await startHarness();
    const server = h.sim.state.addServer({ host: 'compute-1' });
    for (const host of ['compute-2', 'compute-3']) h.sim.state.host(host).status = 'disabled';
    h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const outcome = await h.engine.start(recoveryInput('compute-1')).done;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('Recovery.Incomplete');
    expect(server.host).toBe('compute-1');
    expect(h.notifier.reports[1]?.instances[0]?.reason).toMatch(/no remaining host/);
    expect(h.sim.state.counters.evacuateAccepted.size).toBe(0);
    // The admins heard of the shortfall before the evacuations, then the result.
    expect(h.notifier.reports.map((r) => r.kind)).toEqual(['capacity-shortfall', 'recovery']);
  });
});
