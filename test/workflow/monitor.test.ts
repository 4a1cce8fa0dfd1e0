// freezer-dr's own monitor (the nova-services poll): what it signals, how its signals go
// through the same intake as alerts (one execution per incident whichever comes first, the
// pause and the fleet gates), and a host recovered with no external monitor at all.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { pollMonitors } from '../../core/monitor.js';
import { startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import { NovaServicesMonitor } from '../../drivers/monitor/nova-services.js';
import { createMonitors } from '../../drivers/monitor/registry.js';
import { ExecutionStore } from '../../engine/execution-store.js';
import { LocalExecutions } from '../../engine/local-executions.js';
import { type LocalServer, startLocalServer } from '../../engine/local-server.js';
import { createRuntime } from '../../engine/runtime.js';
import { quietLogger } from '../support/harness.js';
import { type IntakeRig, startIntakeRig } from '../support/intake.js';
import { alertmanagerPayload } from '../support/intake-samples.js';
import { MemoryNotifier } from '../support/memory-notifier.js';

let rig: IntakeRig | null = null;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await rig?.close();
  rig = null;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const monitor = new NovaServicesMonitor(10);
const poll = async (r: IntakeRig) => pollMonitors(r.rt, await r.handler.intake(), [monitor]);

describe('nova-services monitor', () => {
  it('signals the services Nova reports down, not those up, stale-only, forced down or disabled', async () => {
    rig = await startIntakeRig({ hosts: 6 });
    const { state } = rig.sim;
    state.killCompute('compute-1', { reportedAgoMs: 120_000 }); // down for Nova
    state.killCompute('compute-2', { reportedAgoMs: 40_000 }); // silent, still "up" for Nova
    state.killCompute('compute-3', { reportedAgoMs: 120_000 });
    Object.assign(state.host('compute-3'), { forcedDown: true });
    state.killCompute('compute-4', { reportedAgoMs: 120_000 });
    Object.assign(state.host('compute-4'), { status: 'disabled', disabledReason: 'maintenance' });

    const signals = await monitor.poll(rig.rt.cloud);

    expect(signals.map((s) => [s.host, s.state, s.channel, s.source])).toEqual([
      ['compute-1', 'down', 'nova-down', 'nova-services'],
    ]);
    expect(signals[0]?.reason).toMatch(/Nova reports nova-compute on compute-1 down/);
  });

  it('with no alert at all, starts the recovery of a host Nova reports down, once', async () => {
    rig = await startIntakeRig();
    rig.sim.state.killCompute('compute-2', { reportedAgoMs: 120_000 });

    const first = await poll(rig);
    const second = await poll(rig);

    expect(first.outcomes.map((o) => [o.host, o.decision])).toEqual([['compute-2', 'started']]);
    expect(second.outcomes.map((o) => [o.host, o.decision])).toEqual([['compute-2', 'already-handled']]);
    expect(rig.sfn.started).toHaveLength(1);
    const input = JSON.parse(rig.sfn.started[0]?.input ?? '{}');
    expect(input.channels.map((c: { channel: string }) => c.channel)).toEqual(['nova-down']);
    expect(first.outcomes[0]?.channels).toBe('nova-down (nova-services)');
  });

  it('an alert and the poll for one incident start one execution, whichever comes first', async () => {
    rig = await startIntakeRig();
    rig.sim.state.killCompute('compute-3', { reportedAgoMs: 120_000 });
    rig.sim.state.killCompute('compute-4', { reportedAgoMs: 120_000 });

    const alerted = await rig.post(alertmanagerPayload([{ host: 'compute-3' }]));
    const polled = await poll(rig);
    const late = await rig.post(alertmanagerPayload([{ host: 'compute-4' }]));

    expect((alerted.body.outcomes as { decision: string }[])[0]?.decision).toBe('started');
    expect(polled.outcomes.map((o) => [o.host, o.decision]).sort()).toEqual([
      ['compute-3', 'already-handled'],
      ['compute-4', 'started'],
    ]);
    expect((late.body.outcomes as { decision: string }[])[0]?.decision).toBe('already-handled');
    expect(rig.sfn.started.map((s) => JSON.parse(s.input ?? '{}').host).sort()).toEqual([
      'compute-3',
      'compute-4',
    ]);
  });

  it('respects the pause and the mass-failure gate, and notifies once', async () => {
    rig = await startIntakeRig({
      hosts: 6,
      intake: { pause: { env: 'TEST_PAUSED' } },
      env: { TEST_PAUSED: '1' },
    });
    rig.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const paused = await poll(rig);
    expect(paused.outcomes.map((o) => [o.decision, o.reason])).toEqual([['refused', 'paused']]);
    await rig.close();

    rig = await startIntakeRig({ hosts: 6 });
    for (const host of ['compute-1', 'compute-2', 'compute-3', 'compute-4'])
      rig.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
    const mass = await poll(rig);
    const again = await poll(rig);
    expect(mass.outcomes.map((o) => o.reason)).toEqual(Array(4).fill('mass-failure'));
    expect(again.outcomes.map((o) => o.reason)).toEqual(Array(4).fill('mass-failure'));
    expect(rig.sfn.started).toEqual([]);
    expect(rig.notifier.reports.map((r) => r.kind)).toEqual(['mass-failure']);
  });

  it('config: on by default, off with monitors: [], a typo is an error', () => {
    const base = { cloud: { driver: 'simulated' }, fencer: { driver: 'simulated' } };
    expect(createMonitors(parseConfig(base).monitors).map((m) => [m.name, m.intervalSeconds])).toEqual([
      ['nova-services', 10],
    ]);
    expect(parseConfig({ ...base, monitors: [] }).monitors).toEqual([]);
    expect(() => createMonitors([{ driver: 'nova-services', intervalSecs: 5 } as never])).toThrow(
      /intervalSecs/,
    );
  });
});

describe('npm start with its own monitor and no alert', () => {
  it('recovers a host Nova reports down: the poll alone starts the recovery and it completes', async () => {
    const sim = await startSimulatedCloud({ evacuateMs: 50 });
    cleanups.push(() => sim.close());
    const config = parseConfig({
      cloud: { driver: 'simulated' },
      fencer: { driver: 'simulated' },
      monitors: [{ driver: 'nova-services', intervalSeconds: 1 }],
      recovery: { fence: { pollIntervalMs: 20 }, evacuation: { verifyPollMs: 20 } },
    });
    const notifier = new MemoryNotifier();
    const rt = await createRuntime(config, { simulated: sim, logger: quietLogger(), notifiers: [notifier] });
    const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-monitor-'));
    const store = new ExecutionStore(dir);
    const executions = new LocalExecutions({
      store,
      runtime: async () => rt,
      retryIntervalMs: 10,
      waitMs: 20,
    });
    const server: LocalServer = await startLocalServer({
      host: '127.0.0.1',
      port: 0,
      runtime: rt,
      executions,
      webhookEnv: {},
    });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => store.close());
    cleanups.push(() => executions.idle());
    cleanups.push(() => server.close());
    const vm = sim.state.addServer({ host: 'compute-2', name: 'quiet-vm' });
    sim.state.killCompute('compute-2', { reportedAgoMs: 120_000 });

    // Nothing is posted to the webhook: the monitor's next poll finds the host down.
    await expect.poll(() => notifier.reports.length, { timeout: 90_000, interval: 100 }).toBe(1);

    expect(notifier.reports[0]).toMatchObject({ kind: 'recovery', host: 'compute-2' });
    expect(vm.host).not.toBe('compute-2');
    expect(sim.state.counters.evacuateAccepted.get(vm.id)).toBe(1);
    const [listed] = executions.list({ stateMachineArn: executions.stateMachineArn }).executions ?? [];
    expect(listed?.status).toBe('SUCCEEDED');
  });
});
