// The operator's dry run and restore against the SIMULATED cloud: `plan` reads and
// changes nothing (asserted on the cloud's whole state); `restore` re-enables a recovered
// host only after its nova-compute is back and every evacuation from it reads completed.
import { afterEach, describe, expect, it } from 'vitest';
import { planRecovery } from '../../core/plan-recovery.js';
import type { Fencer } from '../../core/ports.js';
import { type RestoreProgress, restoreHost } from '../../core/restore-host.js';
import type { SimulatedCloudState } from '../../drivers/cloud/simulated/state.js';
import { SimulatedFencer } from '../../drivers/fencer/simulated.js';
import { type Harness, recoveryInput, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => h?.close());

/** The cloud's state minus the request counters a read necessarily moves. */
const cloudState = (state: SimulatedCloudState) => {
  const { counters, ...rest } = state.snapshot();
  const { requests: _requests, tokensIssued: _tokens, ...kept } = counters;
  return JSON.stringify({ ...rest, counters: kept });
};

describe('plan <host>', () => {
  it('says what would be fenced and evacuated and whether it fits, and changes nothing', async () => {
    h = await startHarness({ recovery: { selection: { mode: 'ha-enabled', skipNames: ['scratch-*'] } } });
    const { state } = h.sim;
    const ha = [1, 2, 3].map((i) =>
      state.addServer({ host: 'compute-1', name: `web-${i}`, metadata: { HA_Enabled: 'True' } }),
    );
    state.addServer({ host: 'compute-1', name: 'plain' });
    state.addServer({ host: 'compute-1', name: 'scratch-1', metadata: { HA_Enabled: 'True' } });
    state.addServer({ host: 'compute-2', name: 'elsewhere' });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const before = cloudState(state);

    const plan = await planRecovery(h.rt, 'compute-1');

    expect(cloudState(state)).toBe(before);
    expect(state.counters.powerOffCalls.size).toBe(0);
    expect(state.counters.evacuateAccepted.size).toBe(0);
    expect(state.host('compute-1')).toMatchObject({ power: 'on', forcedDown: false, status: 'enabled' });

    expect(plan.confirm).toMatchObject({ confirmed: true });
    expect(plan.fence).toMatchObject({
      method: 'simulated',
      controller: 'simulated BMC of compute-1',
      power: 'on',
    });
    expect(
      plan.instances
        .filter((i) => i.evacuate)
        .map((i) => i.id)
        .sort(),
    ).toEqual(ha.map((s) => s.id).sort());
    expect(
      Object.fromEntries(plan.instances.filter((i) => !i.evacuate).map((i) => [i.name, i.skipReason])),
    ).toEqual({
      plain: 'metadata HA_Enabled is not True',
      'scratch-1': 'name matches a skip pattern',
    });
    expect(plan.capacity.fits).toBe(true);
    expect(plan.capacity.needed).toEqual({ instances: 3, vcpus: 3, ramMb: 1536 });
    expect(plan.capacity.targets.map((t) => t.host).sort()).toEqual(['compute-2', 'compute-3']);
    expect(plan.capacity.targets.reduce((n, t) => n + t.placed, 0)).toBe(3);
  });

  it('reports no room when the hosts left cannot take the instances, and a host Nova still sees up', async () => {
    // 2048 MB hosts: 512 MB reserved, three 512 MB guests fit on each.
    h = await startHarness({ sim: { hostRamMb: 2048 } });
    const { state } = h.sim;
    for (let i = 0; i < 6; i += 1) state.addServer({ host: 'compute-1', name: `vm-${i}` });
    state.addServer({ host: 'compute-2' });
    state.addServer({ host: 'compute-3' });
    const before = cloudState(state);

    const plan = await planRecovery(h.rt, 'compute-1');

    expect(cloudState(state)).toBe(before);
    expect(plan.confirm.confirmed).toBe(false);
    expect(plan.confirm.evidence).toMatch(/is up/);
    expect(plan.capacity.fits).toBe(false);
    expect(plan.capacity.unplaced).toHaveLength(2);
  });
});

/**
 * Powers on at once; nova-compute reports (`report()`) and cleans up the evacuations
 * (`cleanUp()`) only when the test says so, so a test can hold restore in each wait and
 * see it wait, however slow the machine. `reportOnPowerOn` reports with the power-on.
 */
function slowBootFencer(
  state: SimulatedCloudState,
  options: { reportOnPowerOn?: boolean } = {},
): { fencer: Fencer; report(): void; cleanUp(): void } {
  const inner = new SimulatedFencer(state);
  let host = '';
  const report = () => {
    const sim = state.host(host);
    sim.alive = true;
    sim.lastReport = Date.now();
  };
  return {
    fencer: {
      kind: inner.kind,
      recordOnly: false,
      describe: (name) => inner.describe(name),
      powerStatus: (name) => inner.powerStatus(name),
      powerOff: (name) => inner.powerOff(name),
      async powerOn(name) {
        host = name;
        state.host(name).power = 'on';
        if (options.reportOnPowerOn) report();
      },
    },
    report,
    cleanUp: () => state.startCompute(host),
  };
}

async function recovered(options: Parameters<typeof startHarness>[0] = {}) {
  h = await startHarness(options);
  const servers = [1, 2, 3].map((i) => h.sim.state.addServer({ host: 'compute-1', name: `vm-${i}` }));
  h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
  expect((await h.engine.start(recoveryInput('compute-1'), 'to-restore').done).status).toBe('SUCCEEDED');
  expect(h.sim.state.migrations.map((m) => m.status)).toEqual(['done', 'done', 'done']);
  return servers;
}

describe('restore <host>', () => {
  it('powers on, waits for nova-compute and completed evacuations, then clears forced_down and enables', async () => {
    await recovered();
    const { state } = h.sim;
    const boot = slowBootFencer(state);
    const fencer = boot.fencer;
    const order: string[] = [];
    const cloud = h.rt.cloud;
    const watched = Object.create(cloud) as typeof cloud;
    watched.updateComputeService = async (id, change) => {
      order.push(
        `update ${JSON.stringify(change)} with migrations ${state.migrations.map((m) => m.status).join(',')}`,
      );
      return cloud.updateComputeService(id, change);
    };
    const progress: RestoreProgress[] = [];

    const result = await restoreHost({ ...h.rt, fencer, cloud: watched }, 'compute-1', {
      leaveDisabled: false,
      timeoutSeconds: 60,
      pollMs: 25,
      onProgress: (p) => {
        progress.push(p);
        // Each wait is seen before what it waits for happens.
        if (p.state === 'waiting' && p.step === 'compute') boot.report();
        if (p.state === 'waiting' && p.step === 'migrations') boot.cleanUp();
      },
    });

    expect(result).toMatchObject({ poweredOn: true, forcedDownCleared: true, enabled: true });
    expect(result.migrations).toEqual({ completed: 3, failed: 0 });
    expect(order).toEqual([
      'update {"forcedDown":false} with migrations completed,completed,completed',
      'update {"status":"enabled"} with migrations completed,completed,completed',
    ]);
    const steps = progress.map((p) => `${p.step}:${p.state}`);
    expect(steps.indexOf('compute:waiting')).toBeGreaterThanOrEqual(0);
    expect(steps.indexOf('migrations:waiting')).toBeGreaterThan(steps.indexOf('compute:done'));
    expect(steps.slice(-2)).toEqual(['forced-down:done', 'enable:done']);
    expect(state.host('compute-1')).toMatchObject({
      power: 'on',
      forcedDown: false,
      status: 'enabled',
      disabledReason: null,
    });
    expect(state.serviceState(state.host('compute-1'))).toBe('up');
  });

  it('with --leave-disabled clears forced_down only; an operator’s own disable is left alone', async () => {
    // nova-compute reports every 200 ms here, so the second restore sees a fresh report quickly.
    await recovered({ sim: { reportIntervalMs: 200 } });
    const options = { timeoutSeconds: 10, pollMs: 25, onProgress: () => undefined };
    const first = await restoreHost(h.rt, 'compute-1', { ...options, leaveDisabled: true });
    expect(first).toMatchObject({ forcedDownCleared: true, enabled: false });
    expect(h.sim.state.host('compute-1')).toMatchObject({ forcedDown: false, status: 'disabled' });

    h.sim.state.host('compute-1').disabledReason = 'maintenance: new DIMMs';
    const second = await restoreHost(h.rt, 'compute-1', { ...options, leaveDisabled: false });
    expect(second.enabled).toBe(false);
    expect(h.sim.state.host('compute-1')).toMatchObject({
      status: 'disabled',
      disabledReason: 'maintenance: new DIMMs',
    });
  });

  it('answers at once for a healthy host: nothing to restore, nothing waited for or changed', async () => {
    h = await startHarness();
    const { state } = h.sim;
    state.addServer({ host: 'compute-3' });
    const before = cloudState(state);
    const progress: RestoreProgress[] = [];

    // No time at all: waiting for nova-compute's next report would time out at once.
    const result = await restoreHost(h.rt, 'compute-3', {
      leaveDisabled: false,
      timeoutSeconds: 0,
      pollMs: 25,
      onProgress: (p) => progress.push(p),
    });

    expect(result).toMatchObject({
      nothingToRestore: true,
      poweredOn: false,
      forcedDownCleared: false,
      enabled: true,
    });
    expect(progress).toHaveLength(1);
    expect(progress[0]).toMatchObject({ step: 'check', state: 'skipped' });
    expect(progress[0]?.message).toMatch(
      /^nothing to restore: compute-3 is powered on, its nova-compute is up/,
    );
    expect(cloudState(state)).toBe(before);
  });

  it('gives up with the host still forced down when the evacuations are never cleaned up', async () => {
    await recovered();
    // nova-compute reports with the power-on, and never cleans up its evacuations.
    const { fencer } = slowBootFencer(h.sim.state, { reportOnPowerOn: true });
    const error = await restoreHost({ ...h.rt, fencer }, 'compute-1', {
      leaveDisabled: false,
      timeoutSeconds: 0.5,
      pollMs: 25,
      onProgress: () => undefined,
    }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('Restore.TimedOut');
    expect((error as Error).message).toMatch(
      /3 of 3 evacuations .* \(3 done\).*left forced down and disabled/,
    );
    expect(h.sim.state.host('compute-1')).toMatchObject({ forcedDown: true, status: 'disabled' });
  });
});
