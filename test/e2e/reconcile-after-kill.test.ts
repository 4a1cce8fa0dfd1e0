// The engine process is SIGKILLed after the host was fenced and forced down, before any
// evacuation. Restarted on a fresh store (the executions it knew are gone, as when the
// engine moves to another machine), the reconciler finds the host taken down by
// freezer-dr with no recovery running, reads its power again (off) and resumes the same
// incident: the BMC is not powered off again and each instance is evacuated once.
// Restarted on its own store, the engine re-drives the run itself and the reconciler,
// running at the same time, starts nothing.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { executionName, resumedExecutionName } from '../../core/executions.js';
import { MemoryStateStore } from '../../core/intake/state-store.js';
import { reconcile } from '../../core/reconcile.js';
import type { Runtime } from '../../core/runtime.js';
import { OpenStackCloud } from '../../drivers/cloud/openstack/nova.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import { SimulatedFencer } from '../../drivers/fencer/simulated.js';
import { type BmcBridge, startBmcBridge } from '../support/bmc-bridge.js';
import type { EngineChildSpec } from '../support/engine-child.js';
import { type EngineProcess, settled, startEngineProcess } from '../support/engine-process.js';
import { quietLogger, recoveryInput } from '../support/harness.js';
import { MemoryNotifier } from '../support/memory-notifier.js';

let sim: SimulatedCloud;
let bridge: BmcBridge;
const engines: EngineProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop('SIGKILL');
  await bridge?.close();
  await sim?.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const RECOVERY = {
  fence: { verifyTimeoutSeconds: 2, pollIntervalMs: 20 },
  evacuation: { verifyPollMs: 20, verifyBudgetSeconds: 2 },
};

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-engine-'));
  dirs.push(dir);
  return dir;
}

async function engine(spec: EngineChildSpec): Promise<EngineProcess> {
  const started = await startEngineProcess(spec);
  engines.push(started);
  return started;
}

/** The operator's (or the scheduled function's) view: the cloud over its API, the same BMCs. */
function reconcilerRuntime(notifier: MemoryNotifier): Runtime {
  const config = parseConfig({
    cloud: { driver: 'openstack' },
    fencer: { driver: 'simulated' },
    recovery: RECOVERY,
  });
  return {
    cloud: new OpenStackCloud(sim.connection),
    fencer: new SimulatedFencer(sim.state),
    notifiers: [notifier],
    config,
    policy: config.recovery,
    state: new MemoryStateStore(),
    logger: quietLogger(),
  };
}

/** compute-1 with three instances fails; an engine process is killed as it enters SelectInstances. */
async function killedAfterFencing() {
  sim = await startSimulatedCloud({ evacuateMs: 200 });
  bridge = await startBmcBridge(sim);
  const servers = [1, 2, 3].map((i) => sim.state.addServer({ host: 'compute-1', name: `app-${i}` }));
  sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
  const spec: EngineChildSpec = {
    dataDir: dataDir(),
    connection: sim.connection,
    bmcUrl: bridge.url,
    recovery: RECOVERY,
    retryIntervalMs: 10,
    redrive: true,
  };
  const first = await engine({ ...spec, kill: { state: 'SelectInstances' } });
  const input = recoveryInput('compute-1', 'kill-after-fence');
  const { executionName: name } = await first.executions.start(input);
  await first.exited;
  expect(first.output()).toContain('engine-child killed entering SelectInstances');
  const host = sim.state.host('compute-1');
  expect(host).toMatchObject({ power: 'off', forcedDown: true, status: 'disabled' });
  expect(host.disabledReason).toContain('incident=kill-after-fence');
  expect(sim.state.counters.powerOffCalls.get('compute-1')).toBe(1);
  expect(sim.state.migrations).toHaveLength(0);
  return { spec, servers, name };
}

function expectRecoveredOnce(servers: { id: string }[]) {
  const { state } = sim;
  expect(state.counters.powerOffCalls.get('compute-1')).toBe(1);
  expect(bridge.calls.filter((c) => c.call === 'off')).toHaveLength(1);
  for (const { id } of servers) {
    expect(state.counters.evacuateAccepted.get(id), id).toBe(1);
    expect(state.servers.get(id)).toMatchObject({ vmState: 'active', taskState: null, locked: false });
    expect(state.servers.get(id)?.host).not.toBe('compute-1');
  }
  expect(state.unsafeEvacuations).toBe(0);
}

describe('engine killed after fencing, before evacuation', () => {
  it('restarted without its executions: the reconciler resumes the incident without fencing again', {
    timeout: 180_000,
  }, async () => {
    const { spec, servers } = await killedAfterFencing();
    const second = await engine({ ...spec, dataDir: dataDir() });
    expect(second.redriven).toEqual([]);
    const notifier = new MemoryNotifier();
    const rt = reconcilerRuntime(notifier);

    const report = await reconcile(rt, second.executions, { dryRun: false });
    const resumed = resumedExecutionName('compute-1', 'kill-after-fence');
    expect(report.hosts).toEqual([
      expect.objectContaining({ host: 'compute-1', action: 'resumed', power: 'off', executionName: resumed }),
    ]);
    expect(report.hosts[0]?.remaining).toHaveLength(3);
    expect(report.attention).toBe(0);

    const done = await settled(second, resumed);
    expect(done.status).toBe('SUCCEEDED');
    expectRecoveredOnce(servers);
    expect(bridge.reports.map((r) => r.kind)).toEqual(['recovery']);
    expect(bridge.reports[0]?.counts).toMatchObject({ selected: 3, recovered: 3, failed: 0 });

    // Run again: the host is empty now and waits for restore; nothing else starts.
    const again = await reconcile(rt, second.executions, { dryRun: false });
    expect(again.hosts.map((h) => h.action)).toEqual(['awaiting-restore']);
    expect((await second.executions.listRunning()).length).toBe(0);
    expect(notifier.reports).toEqual([]);
  });

  it('restarted on its own store: the engine re-drives the run, the reconciler leaves it alone', {
    timeout: 180_000,
  }, async () => {
    const { spec, servers, name } = await killedAfterFencing();
    const second = await engine(spec);
    expect(second.redriven).toEqual([{ name, from: 'SelectInstances' }]);
    expect(name).toBe(executionName('compute-1', 'kill-after-fence'));

    const report = await reconcile(reconcilerRuntime(new MemoryNotifier()), second.executions, {
      dryRun: false,
    });
    expect(report.hosts).toEqual([
      expect.objectContaining({ host: 'compute-1', action: 'in-recovery', executionName: name }),
    ]);

    expect((await settled(second, name)).status).toBe('SUCCEEDED');
    expectRecoveredOnce(servers);
  });
});
