// The whole recovery (statemachine/host-recovery.asl.json on the embedded engine) with
// the ipmi-relay fencer: the simulated Nova says compute-1 is down, the workflow fences
// it through the relay to a REAL ipmi_sim BMC, and only a verified power-off lets the
// evacuation start.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import { LocalEngine } from '../../engine/local-engine.js';
import { createRuntime, type LocalRuntime } from '../../engine/runtime.js';
import { type BmcLab, startBmcLab } from '../support/bmc-lab.js';
import { captureLogger } from '../support/capture-logger.js';
import { MemoryNotifier } from '../support/memory-notifier.js';
import { ipmiEntry, type RelayLab, startRelayLab } from '../support/relay-lab.js';

let lab: BmcLab;
let relay: RelayLab;
let sim: SimulatedCloud;
let rt: LocalRuntime;
let notifier: MemoryNotifier;

beforeAll(async () => {
  lab = await startBmcLab({ count: 2 });
  relay = await startRelayLab({ 'compute-1': ipmiEntry(lab.bmc(0)), 'compute-2': ipmiEntry(lab.bmc(1)) });
});
afterAll(async () => {
  await relay?.close();
  await lab?.stop();
});
afterEach(async () => sim?.close());

async function start(): Promise<LocalEngine> {
  sim = await startSimulatedCloud({ evacuateMs: 50, hosts: ['compute-1', 'compute-2', 'compute-3'] });
  const config = parseConfig({
    cloud: { driver: 'simulated' },
    fencer: relay.fencerConfig('ipmi-relay'),
    recovery: {
      fence: { verifyTimeoutSeconds: 2, pollIntervalMs: 200 },
      evacuation: { verifyPollMs: 20, verifyBudgetSeconds: 2 },
    },
  });
  notifier = new MemoryNotifier();
  rt = await createRuntime(config, { simulated: sim, logger: captureLogger().logger, notifiers: [notifier] });
  return new LocalEngine({ runtime: async () => rt, retryIntervalMs: 10 });
}

const input = (host: string) => ({
  host,
  incident: `${host}-relay`,
  cause: `test: ${host} down`,
  requestedAt: new Date().toISOString(),
});

describe('host recovery fencing through the relay to ipmi_sim', () => {
  it('fences compute-1 for real (its host process dies), then evacuates', async () => {
    const engine = await start();
    const servers = [1, 2].map((i) => sim.state.addServer({ host: 'compute-1', name: `web-${i}` }));
    sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });

    const outcome = await engine.start(input('compute-1'), 'relay-ok').done;

    expect(outcome.status).toBe('SUCCEEDED');
    expect(lab.bmc(0).hostRunning()).toBe(false);
    for (const server of servers) expect(server.host).not.toBe('compute-1');
    const report = notifier.reports[0];
    expect(report?.kind).toBe('recovery');
    expect(report?.fence).toMatchObject({ method: 'ipmi-relay', verified: true });
    expect(report?.fence?.controller).toContain(`127.0.0.1:${lab.bmc(0).port}`);
  });

  it('a BMC that lies about the off stops the workflow before any evacuation and tells the admins why', async () => {
    const engine = await start();
    const bmc = lab.bmc(1);
    bmc.setFault({ kind: 'ignore_off' });
    const server = sim.state.addServer({ host: 'compute-2', name: 'db-1' });
    sim.state.killCompute('compute-2', { reportedAgoMs: 120_000 });

    const outcome = await engine.start(input('compute-2'), 'relay-lies').done;

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('Fence.NotVerified');
    expect(bmc.hostRunning()).toBe(true);
    expect(server.host).toBe('compute-2');
    expect(sim.state.counters.evacuateAccepted.size).toBe(0);
    expect(notifier.reports.map((r) => r.kind)).toEqual(['fencing-failed']);
    const cause = notifier.reports[0]?.cause ?? '';
    expect(cause).toContain('compute-2');
    expect(cause).toContain(`ipmi lanplus 127.0.0.1:${bmc.port}`);
    expect(cause).toContain('power reads on');
  });
});
