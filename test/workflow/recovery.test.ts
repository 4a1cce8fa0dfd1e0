// The real statemachine/host-recovery.asl.json on the embedded engine against the
// SIMULATED cloud: the whole recovery, and the ways it must refuse or degrade.
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, recoveryInput, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => h?.close());

const statesEntered = (events: { type: string; state?: { name: string } }[]) =>
  events.filter((e) => e.type === 'StateEntered').map((e) => e.state?.name);

describe('host recovery workflow (simulated cloud)', () => {
  it('confirms, fences, forces down, evacuates every instance, verifies and notifies', async () => {
    h = await startHarness();
    const { state } = h.sim;
    const servers = [1, 2, 3, 4].map((i) => state.addServer({ host: 'compute-1', name: `web-${i}` }));
    const other = state.addServer({ host: 'compute-2', name: 'elsewhere' });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });

    const run = h.engine.start(recoveryInput('compute-1'), 'e2e-1');
    const outcome = await run.done;

    expect(outcome.status).toBe('SUCCEEDED');
    expect(state.host('compute-1').power).toBe('off');
    expect(state.host('compute-1').forcedDown).toBe(true);
    expect(state.host('compute-1').status).toBe('disabled');
    expect(state.host('compute-1').disabledReason).toMatch(
      /^freezer-dr: host failure; incident=compute-1-test/,
    );
    for (const s of servers) {
      expect(s.host).not.toBe('compute-1');
      expect(s.vmState).toBe('active');
      expect(s.locked).toBe(false);
      expect(state.counters.evacuateAccepted.get(s.id)).toBe(1);
    }
    expect(other.host).toBe('compute-2');
    expect(state.counters.evacuateAccepted.has(other.id)).toBe(false);
    expect(state.unsafeEvacuations).toBe(0);
    const order = statesEntered(run.events as never);
    expect(order.indexOf('VerifyPowerOff')).toBeLessThan(order.indexOf('MarkHostDown'));
    expect(order.indexOf('MarkHostDown')).toBeLessThan(order.indexOf('EvacuateInstance'));
    const [report] = h.notifier.reports;
    expect(report?.kind).toBe('recovery');
    expect(report?.counts).toMatchObject({ selected: 4, recovered: 4, failed: 0 });
    expect(report?.instances.map((i) => i.name).sort()).toEqual(['web-1', 'web-2', 'web-3', 'web-4']);
    expect(report?.fence?.verified).toBe(true);
  });

  it('stops before any evacuation when the power-off cannot be verified, and tells the admins why', async () => {
    h = await startHarness();
    const { state } = h.sim;
    const server = state.addServer({ host: 'compute-1' });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    state.host('compute-1').bmcFault = 'ignore-off';

    const outcome = await h.engine.start(recoveryInput('compute-1'), 'fence-fails').done;

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('Fence.NotVerified');
    expect(outcome.cause).toContain('power reads on');
    expect(state.counters.evacuateAccepted.size).toBe(0);
    expect(state.host('compute-1').forcedDown).toBe(false);
    expect(server.host).toBe('compute-1');
    expect(h.notifier.reports.map((r) => r.kind)).toEqual(['fencing-failed']);
    expect(h.notifier.reports[0]?.cause).toContain('not verified');
    // The owners of instances left on the host hear that they were not recovered.
    expect(h.notifier.reports[0]?.instances.map((i) => [i.id, i.outcome])).toEqual([[server.id, 'failed']]);
    expect(h.notifier.reports[0]?.instances[0]?.reason).toContain('could not be fenced');
  });

  it('reports one instance that fails to rebuild while the others are recovered', async () => {
    h = await startHarness();
    const { state } = h.sim;
    const good = [1, 2, 3].map((i) => state.addServer({ host: 'compute-1', name: `ok-${i}` }));
    const bad = state.addServer({ host: 'compute-1', name: 'broken', failRebuild: true });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });

    const outcome = await h.engine.start(recoveryInput('compute-1'), 'one-fails').done;

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('Recovery.Incomplete');
    expect(outcome.cause).toContain('1 of 4 instances NOT recovered');
    for (const s of good) expect(s.vmState).toBe('active');
    const report = h.notifier.reports[0];
    expect(report?.counts).toMatchObject({ selected: 4, recovered: 3, failed: 1 });
    expect(report?.instances.find((i) => i.id === bad.id)?.reason).toMatch(/ERROR/);
  });

  it('with the ha-enabled policy evacuates only servers with HA_Enabled=True', async () => {
    h = await startHarness({ recovery: { selection: { mode: 'ha-enabled' } } });
    const { state } = h.sim;
    const ha = state.addServer({ host: 'compute-1', metadata: { HA_Enabled: 'True' } });
    const plain = state.addServer({ host: 'compute-1', metadata: {} });
    const off = state.addServer({ host: 'compute-1', metadata: { HA_Enabled: 'False' } });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });

    const outcome = await h.engine.start(recoveryInput('compute-1'), 'ha-only').done;

    expect(outcome.status).toBe('SUCCEEDED');
    expect(ha.host).not.toBe('compute-1');
    expect(plain.host).toBe('compute-1');
    expect(off.host).toBe('compute-1');
    expect(h.notifier.reports[0]?.counts).toMatchObject({ selected: 1, recovered: 1, skipped: 2 });
  });

  it('does nothing to a host that Nova keeps reporting up, and tells the admins once per window', async () => {
    // Reports every 200 ms: the service is seen reporting twice after the alert within a few reads.
    h = await startHarness({
      sim: { reportIntervalMs: 200 },
      recovery: { confirm: { reportIntervalSeconds: 0.2 } },
    });
    const { state } = h.sim;
    const server = state.addServer({ host: 'compute-1' });

    const outcome = await h.engine.start(alertInput('compute-1'), 'healthy').done;
    const again = await h.engine.start(alertInput('compute-1', 'compute-1-again'), 'healthy-again').done;

    expect([outcome.status, again.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect((outcome.output as { confirm: { status: string; reports: number } }).confirm).toMatchObject({
      status: 'not-down',
      reports: 2,
    });
    expect(state.host('compute-1').power).toBe('on');
    expect(state.counters.powerOffCalls.size).toBe(0);
    expect(server.host).toBe('compute-1');
    // Two false alarms for one host, one notice.
    expect(h.notifier.reports.map((r) => r.kind)).toEqual(['not-confirmed']);
    expect(h.notifier.reports[0]?.cause).toMatch(/reported 2 times after the alert/);
  });

  it('starts while Nova still reports the host up and fences only once Nova sees it stale', async () => {
    h = await startHarness({
      sim: { reportIntervalMs: 200 },
      recovery: { confirm: { staleAfterSeconds: 2, reportIntervalSeconds: 0.2 } },
    });
    const { state } = h.sim;
    const server = state.addServer({ host: 'compute-1' });
    state.killCompute('compute-1'); // hung just now: Nova still says up, the last report is fresh

    const run = h.engine.start(alertInput('compute-1'), 'hung');
    const outcome = await run.done;

    expect(outcome.status).toBe('SUCCEEDED');
    const confirm = (outcome.output as { confirm: { checks: number; channels: { channel: string }[] } })
      .confirm;
    expect(confirm.checks).toBeGreaterThan(1); // it waited (Wait states) and read again
    expect(confirm.channels.map((c) => c.channel)).toEqual(['alert', 'nova-stale']);
    expect(statesEntered(run.events as never)).toContain('WaitForNova');
    expect(server.host).not.toBe('compute-1');
    expect(state.unsafeEvacuations).toBe(0);
  });

  it("started by the nova-services poll alone, waits for Nova's own verdict, not mere silence", async () => {
    h = await startHarness({
      sim: { serviceDownMs: 1500, reportIntervalMs: 200 },
      recovery: { confirm: { staleAfterSeconds: 1, reportIntervalSeconds: 0.2 } },
    });
    const { state } = h.sim;
    state.addServer({ host: 'compute-1' });
    state.killCompute('compute-1');
    const input = {
      ...recoveryInput('compute-1'),
      channels: [
        { channel: 'nova-down', source: 'nova-services', at: new Date().toISOString(), detail: 'poll' },
      ],
    };

    const outcome = await h.engine.start(input, 'poll-only').done;

    expect(outcome.status).toBe('SUCCEEDED');
    const confirm = (outcome.output as { confirm: { channels: { channel: string }[]; evidence: string } })
      .confirm;
    expect(confirm.channels.map((c) => c.channel)).toEqual(['nova-down', 'nova-down']);
    expect(confirm.evidence).toMatch(/Nova reports nova-compute on compute-1 down/);
  });
});

describe('the gates just before fencing', () => {
  it("paused: an alert's run is refused with nothing powered; an operator's run of the same host goes ahead", async () => {
    h = await startHarness({ intake: { pause: { paused: true } } });
    const { state } = h.sim;
    const server = state.addServer({ host: 'compute-1' });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });

    const refused = await h.engine.start(alertInput('compute-1'), 'paused-alert').done;
    expect(refused).toMatchObject({ status: 'FAILED', error: 'Recovery.Refused' });
    expect(state.counters.powerOffCalls.size).toBe(0);
    expect(h.notifier.reports.map((r) => r.kind)).toEqual(['paused']);

    const operator = {
      ...recoveryInput('compute-1', 'by-hand'),
      operator: true,
      channels: [{ channel: 'operator', source: 'test', at: new Date().toISOString(), detail: 'by hand' }],
    };
    const done = await h.engine.start(operator, 'paused-operator').done;
    expect(done.status).toBe('SUCCEEDED');
    expect(server.host).not.toBe('compute-1');
  });
});

describe("staleness on Nova's clock (its Date header), not this process's", () => {
  it('Nova 2 min behind: a live host whose report looks 2 min old here is not taken for dead', async () => {
    h = await startHarness({
      sim: { clockSkewMs: -120_000, reportIntervalMs: 200 },
      recovery: { confirm: { reportIntervalSeconds: 0.2 } },
    });
    h.sim.state.addServer({ host: 'compute-1' });
    const outcome = await h.engine.start(alertInput('compute-1'), 'nova-behind').done;
    expect((outcome.output as { confirm: { status: string; clock: string } }).confirm).toMatchObject({
      status: 'not-down',
      clock: 'nova',
    });
    expect(h.sim.state.counters.powerOffCalls.size).toBe(0);
  });

  it("Nova 2 min ahead: a host silent for 40 s by Nova's clock is confirmed at the first read", async () => {
    h = await startHarness({ sim: { clockSkewMs: 120_000 } });
    const server = h.sim.state.addServer({ host: 'compute-1' });
    h.sim.state.killCompute('compute-1', { reportedAgoMs: 40_000 });
    const outcome = await h.engine.start(alertInput('compute-1'), 'nova-ahead').done;
    expect(outcome.status).toBe('SUCCEEDED');
    const confirm = (outcome.output as { confirm: { checks: number; evidence: string } }).confirm;
    expect(confirm.checks).toBe(1);
    expect(confirm.evidence).toMatch(/by Nova's clock/);
    expect(server.host).not.toBe('compute-1');
  });
});

function alertInput(host: string, incident = `${host}-test`) {
  return {
    ...recoveryInput(host, incident),
    channels: [{ channel: 'alert', source: 'test', at: new Date().toISOString(), detail: `${host} down` }],
  };
}
