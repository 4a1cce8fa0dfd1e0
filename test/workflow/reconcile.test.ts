// The reconciler against the SIMULATED cloud, with the in-memory Step Functions behind
// the real StepFunctionsExecutions (each start runs the real ASL on the embedded engine):
// what it resumes, what it reports, what it unlocks, and what it leaves alone.
import { afterEach, describe, expect, it } from 'vitest';
import { formatDisabledReason } from '../../core/disabled-reason.js';
import { lockReason } from '../../core/evacuate-instance.js';
import { executionName, namesIncident, resumedExecutionName } from '../../core/executions.js';
import { reconcile } from '../../core/reconcile.js';
import { type FakeStepFunctions, fakeExecutions } from '../support/fake-sfn.js';
import { type Harness, recoveryInput, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => h?.close());

const INCIDENT = '2026-11-21T10:00:00.000000';

/** compute-1 as a recovery cut short after MarkHostDown leaves it: off, forced down with our reason. */
function cutShort(options: { power?: 'on' | 'off'; servers?: number } = {}) {
  const { state } = h.sim;
  const servers = Array.from({ length: options.servers ?? 2 }, (_, i) =>
    state.addServer({ host: 'compute-1', name: `app-${i + 1}` }),
  );
  state.killCompute('compute-1', { reportedAgoMs: 120_000 });
  const host = state.host('compute-1');
  host.power = options.power ?? 'off';
  host.forcedDown = true;
  host.status = 'disabled';
  host.disabledReason = formatDisabledReason({
    incident: INCIDENT,
    fence: 'simulated',
    fencedAt: new Date().toISOString(),
  });
  return servers;
}

function sfnRunning(sfn: FakeStepFunctions) {
  const runs: Promise<unknown>[] = [];
  sfn.onStart = (execution) => {
    const run = h.engine.start(JSON.parse(execution.input), execution.name);
    runs.push(
      run.done.then((outcome) =>
        sfn.finish(execution.name, outcome.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED'),
      ),
    );
  };
  return { settled: () => Promise.all(runs) };
}

describe('reconciler: hosts', () => {
  it('resumes a host taken down by freezer-dr with no recovery running, without powering it again', async () => {
    h = await startHarness();
    const servers = cutShort();
    const { sfn, api } = fakeExecutions();
    const runs = sfnRunning(sfn);

    const report = await reconcile(h.rt, api, { dryRun: false });

    const name = resumedExecutionName('compute-1', INCIDENT);
    expect(report.hosts).toEqual([
      expect.objectContaining({
        host: 'compute-1',
        incident: INCIDENT,
        action: 'resumed',
        power: 'off',
        executionName: name,
      }),
    ]);
    expect(sfn.started.map((e) => e.name)).toEqual([name]);
    expect(JSON.parse(sfn.started[0]?.input ?? '{}')).toMatchObject({
      host: 'compute-1',
      incident: INCIDENT,
    });
    await runs.settled();
    expect(h.sim.state.counters.powerOffCalls.size).toBe(0);
    for (const s of servers) {
      expect(h.sim.state.counters.evacuateAccepted.get(s.id)).toBe(1);
      expect(s.host).not.toBe('compute-1');
    }
    expect(h.notifier.reports.map((r) => r.kind)).toEqual(['recovery']);
    expect(report.summary).toMatch(/1 host taken down by freezer-dr, 1 resumed/);

    // The next run finds nothing left to do on the host.
    const again = await reconcile(h.rt, api, { dryRun: false });
    expect(again.hosts.map((x) => x.action)).toEqual(['awaiting-restore']);
    expect(sfn.startCalls).toBe(1);
  });

  it('reports, and starts nothing, when the power reads on or cannot be read', async () => {
    h = await startHarness();
    cutShort({ power: 'on' });
    const { sfn, api } = fakeExecutions();
    const on = await reconcile(h.rt, api, { dryRun: false });
    expect(on.hosts[0]).toMatchObject({ action: 'reported', power: 'on' });
    expect(on.hosts[0]?.detail).toMatch(/not resumed because simulated BMC of compute-1 reads on/);
    expect(on.attention).toBe(1);
    expect(h.notifier.reports).toHaveLength(1);
    expect(h.notifier.reports[0]).toMatchObject({
      kind: 'recovery-failed',
      host: 'compute-1',
      incident: INCIDENT,
      instances: [],
    });
    expect(h.notifier.reports[0]?.cause).toMatch(/^reconciler: compute-1 was taken down by freezer-dr/);

    h.sim.state.host('compute-1').power = 'off';
    h.sim.state.host('compute-1').bmcFault = 'unreachable';
    const unknown = await reconcile(h.rt, api, { dryRun: false });
    expect(unknown.hosts[0]).toMatchObject({ action: 'reported', power: 'unknown' });
    expect(unknown.hosts[0]?.detail).toMatch(
      /power status of compute-1 failed: BMC of compute-1 unreachable/,
    );
    expect(sfn.startCalls).toBe(0);
    expect(h.sim.state.counters.powerOffCalls.size).toBe(0);
  });

  it('leaves a host whose recovery is running alone, and a dry run changes nothing', async () => {
    h = await startHarness();
    cutShort();
    const { sfn, api } = fakeExecutions();
    await api.start(recoveryInput('compute-1', INCIDENT));
    const running = await reconcile(h.rt, api, { dryRun: false });
    expect(running.hosts[0]).toMatchObject({
      action: 'in-recovery',
      executionName: executionName('compute-1', INCIDENT),
    });

    sfn.finish(executionName('compute-1', INCIDENT), 'FAILED');
    const dry = await reconcile(h.rt, api, { dryRun: true });
    expect(dry.hosts[0]).toMatchObject({ action: 'would-resume', power: 'off' });
    expect(dry.summary).toMatch(/1 resumed \(dry run\)/);
    expect(sfn.startCalls).toBe(1);
    expect(h.notifier.reports).toEqual([]);
  });

  it('resumes an incident once; if instances are still left after that, it reports them', async () => {
    h = await startHarness();
    cutShort({ servers: 1 });
    const { sfn, api } = fakeExecutions();
    // The resumed run cannot finish (its execution never ends here): the next pass sees it running.
    expect((await reconcile(h.rt, api, { dryRun: false })).hosts[0]?.action).toBe('resumed');
    expect((await reconcile(h.rt, api, { dryRun: false })).hosts[0]?.action).toBe('in-recovery');
    sfn.finish(resumedExecutionName('compute-1', INCIDENT), 'FAILED');
    const third = await reconcile(h.rt, api, { dryRun: false });
    expect(third.hosts[0]).toMatchObject({ action: 'reported' });
    expect(third.hosts[0]?.detail).toMatch(/already resumed once/);
    expect(sfn.started).toHaveLength(1);
  });

  it('ignores hosts disabled by an operator, and up hosts', async () => {
    h = await startHarness();
    const host = h.sim.state.host('compute-2');
    host.status = 'disabled';
    host.disabledReason = 'maintenance: new DIMMs';
    h.sim.state.addServer({ host: 'compute-2' });
    const { sfn, api } = fakeExecutions();
    const report = await reconcile(h.rt, api, { dryRun: false });
    expect(report.hosts).toEqual([]);
    expect(report.instances).toEqual([]);
    expect(sfn.startCalls).toBe(0);
  });
});

describe('reconciler: instances', () => {
  it('unlocks an instance a cut-short run left locked once it has landed; leaves other locks alone', async () => {
    h = await startHarness();
    const { state } = h.sim;
    const landed = state.addServer({ host: 'compute-2', locked: true, lockedReason: lockReason(INCIDENT) });
    const operators = state.addServer({ host: 'compute-2', locked: true, lockedReason: 'legal hold' });
    const { api } = fakeExecutions();

    const dry = await reconcile(h.rt, api, { dryRun: true });
    expect(dry.instances).toEqual([
      expect.objectContaining({ id: landed.id, action: 'would-unlock', incident: INCIDENT }),
    ]);
    expect(landed.locked).toBe(true);

    const report = await reconcile(h.rt, api, { dryRun: false });
    expect(report.instances).toEqual([
      expect.objectContaining({ id: landed.id, action: 'unlocked', problem: 'locked' }),
    ]);
    expect(landed.locked).toBe(false);
    expect(operators.locked).toBe(true);
    expect(report.attention).toBe(0);
  });

  it('leaves the locks of a running recovery, and reports a rebuild that nothing watches any more', async () => {
    h = await startHarness({ sim: { holdRebuilds: true }, recovery: { evacuation: { timeoutSeconds: 1 } } });
    const { state } = h.sim;
    cutShort({ servers: 1 });
    const [server] = [...state.servers.values()];
    state.addServer({ host: 'compute-3', locked: true, lockedReason: lockReason(INCIDENT) });
    const { sfn, api } = fakeExecutions();
    await api.start(recoveryInput('compute-1', INCIDENT));
    const running = await reconcile(h.rt, api, { dryRun: false });
    expect(running.instances.map((i) => i.action)).toEqual(['in-recovery']);

    // Evacuated, then its execution ended: the resumed run watches the rebuild.
    await h.rt.cloud.evacuate(server?.id ?? '');
    sfn.finish(executionName('compute-1', INCIDENT), 'FAILED');
    const resumed = await reconcile(h.rt, api, { dryRun: false });
    expect(resumed.hosts[0]?.action).toBe('resumed');
    expect(resumed.instances.find((i) => i.id === server?.id)?.action).toBe('in-recovery');

    // That run ended too, and the rebuild never landed: a person has to look.
    sfn.finish(resumedExecutionName('compute-1', INCIDENT), 'FAILED');
    (state.migrations[0] as { createdAt: string }).createdAt = new Date(Date.now() - 5_000).toISOString();
    const stuck = await reconcile(h.rt, api, { dryRun: false });
    const finding = stuck.instances.find((i) => i.id === server?.id);
    expect(finding).toMatchObject({ problem: 'stuck', action: 'reported', host: 'compute-1' });
    expect(finding?.detail).toMatch(/^rebuilding for \d+ s after an evacuation freezer-dr started/);
    expect(stuck.hosts[0]?.action).toBe('reported');
    expect(h.notifier.reports.some((r) => r.cause.includes(server?.id ?? '-'))).toBe(true);
  });
});

describe('execution names of an incident', () => {
  it('recognises the first and the resumed run of an incident, whatever the host, and nothing else', () => {
    expect(namesIncident(executionName('compute-1', INCIDENT), INCIDENT)).toBe(true);
    expect(namesIncident(resumedExecutionName('compute-1', INCIDENT), INCIDENT)).toBe(true);
    expect(namesIncident(executionName('compute-1', '2026-11-21T10:05:00.000000'), INCIDENT)).toBe(false);
    const long = 'rack-42-chassis-7-blade-3.compute.region-one.example.org';
    expect(namesIncident(executionName(long, INCIDENT), INCIDENT)).toBe(true);
    expect(namesIncident(resumedExecutionName(long, INCIDENT), INCIDENT)).toBe(true);
    expect(resumedExecutionName(long, INCIDENT).length).toBeLessThanOrEqual(80);
  });
});
