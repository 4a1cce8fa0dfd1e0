// The real statemachine/host-drain.asl.json on the embedded engine against the SIMULATED
// cloud (live and cold migration as Nova 26 does them): a degraded host emptied while it
// runs, and the ways a drain must leave instances where they are.
import { afterEach, describe, expect, it } from 'vitest';
import { parseDisabledReason } from '../../core/disabled-reason.js';
import type { SimServer } from '../../drivers/cloud/simulated/state.js';
import { countersOf } from '../faults/support/counters.js';
import { drainInput, type Harness, startHarness } from '../support/harness.js';
import { until } from '../support/serve-process.js';

let h: Harness;
afterEach(async () => h?.close());

const statesEntered = (events: { type: string; state?: { name: string } }[]) =>
  events.filter((e) => e.type === 'StateEntered').map((e) => e.state?.name);

describe('host drain workflow (simulated cloud)', () => {
  it('live-migrates ten servers of two projects (an anti-affinity group, a SHUTOFF one cold-migrated) off a degraded host: none rebuilt, the host disabled with the drain reason, admins and projects told', async () => {
    h = await startHarness({
      sim: {
        hosts: ['compute-1', 'compute-2', 'compute-3', 'compute-4'],
        liveMigrateMs: 60,
        coldMigrateMs: 60,
      },
      drain: { coldMigrateStopped: true },
    });
    const { state } = h.sim;
    const servers = Array.from({ length: 9 }, (_, i) =>
      state.addServer({
        host: 'compute-1',
        name: `app-${i + 1}`,
        projectId: i % 2 ? 'project-b' : 'project-a',
      }),
    );
    const stopped = state.addServer({
      host: 'compute-1',
      name: 'cold-1',
      projectId: 'project-a',
      vmState: 'stopped',
    });
    const [g1, g2] = servers;
    const peer = state.addServer({ host: 'compute-2', name: 'peer', projectId: 'project-a' });
    state.addServerGroup('anti-affinity', [g1?.id ?? '', g2?.id ?? '', peer.id], 'spread-me');
    const elsewhere = state.addServer({ host: 'compute-3', name: 'elsewhere' });

    const run = h.drain.start(drainInput('compute-1'), 'drain-e2e-1');
    const outcome = await run.done;

    expect(outcome.status).toBe('SUCCEEDED');
    const host = state.host('compute-1');
    expect(host.status).toBe('disabled');
    expect(host.forcedDown).toBe(false);
    expect(host.power).toBe('on');
    const reason = parseDisabledReason(host.disabledReason);
    expect(reason).toMatchObject({ kind: 'drain', incident: 'drain-compute-1-test' });
    expect(host.disabledReason).toMatch(
      /^freezer-dr: drain; incident=drain-compute-1-test reason=test: compute-1 degraded/,
    );
    for (const s of servers) {
      expect(s.host).not.toBe('compute-1');
      expect(s.vmState).toBe('active');
      expect(state.counters.liveMigrateAccepted.get(s.id)).toBe(1);
      expect(state.counters.evacuateAccepted.has(s.id)).toBe(false);
    }
    // The anti-affinity members never share a host.
    expect(new Set([g1?.host, g2?.host, peer.host]).size).toBe(3);
    expect(stopped.host).not.toBe('compute-1');
    expect(stopped.vmState).toBe('stopped');
    expect(state.counters.coldMigrateAccepted.get(stopped.id)).toBe(1);
    expect(state.counters.liveMigrateAccepted.has(stopped.id)).toBe(false);
    expect(elsewhere.host).toBe('compute-3');
    expect(state.counters.evacuateAccepted.size).toBe(0);
    expect(state.counters.powerOffCalls.size).toBe(0);
    expect(state.evacuatedWhileMigrating).toBe(0);
    const live = state.migrations.filter((m) => m.migrationType === 'live-migration');
    expect(live).toHaveLength(9);
    expect(live.every((m) => m.status === 'completed')).toBe(true);

    const order = statesEntered(run.events as never);
    expect(order.indexOf('CheckDrainHost')).toBeLessThan(order.indexOf('DisableHostForDrain'));
    expect(order.indexOf('DisableHostForDrain')).toBeLessThan(order.indexOf('MigrateInstance'));
    expect(order).toContain('WaitForMigration');
    const [report] = h.notifier.reports;
    expect(h.notifier.reports.map((r) => r.kind)).toEqual(['drain']);
    expect(report?.counts).toMatchObject({ selected: 10, recovered: 10, failed: 0 });
    expect(new Set(report?.instances.map((i) => i.outcome))).toEqual(new Set(['migrated']));
    expect(new Set(report?.instances.map((i) => i.projectId))).toEqual(new Set(['project-a', 'project-b']));
  });

  it('leaves an instance Nova refuses, one whose migration fails and one that never finishes where they are, running, and says how many the host still holds', async () => {
    h = await startHarness({ sim: { liveMigrateMs: 40 }, drain: { timeoutSeconds: 1 } });
    const { state } = h.sim;
    const movable = [1, 2, 3].map((i) => state.addServer({ host: 'compute-1', name: `ok-${i}` }));
    const refused = state.addServer({
      host: 'compute-1',
      name: 'vtpm',
      liveMigrationFault: {
        refuse: { status: 400, message: 'Operation not supported for an instance with a vTPM.' },
      },
    });
    const failing = state.addServer({ host: 'compute-1', name: 'flaky', liveMigrationFault: 'fail' });
    const hanging = state.addServer({ host: 'compute-1', name: 'stuck', liveMigrationFault: 'hang' });
    const stopped = state.addServer({ host: 'compute-1', name: 'off', vmState: 'stopped' });

    const outcome = await h.drain.start(drainInput('compute-1'), 'drain-faults').done;

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('Drain.Incomplete');
    expect(outcome.cause).toContain('degraded host still holds 4 instances');
    for (const s of movable) expect(s.host).not.toBe('compute-1');
    for (const s of [refused, failing, hanging, stopped]) expect(s.host).toBe('compute-1');
    for (const s of [refused, failing]) expect(s.vmState).toBe('active');
    expect(stopped.vmState).toBe('stopped');
    expect(state.counters.coldMigrateAccepted.size).toBe(0);
    expect(state.counters.evacuateAccepted.size).toBe(0);
    expect(state.counters.powerOffCalls.size).toBe(0);
    const [report] = h.notifier.reports;
    expect(report?.kind).toBe('drain');
    const byName = new Map(report?.instances.map((i) => [i.name, i]));
    expect(byName.get('vtpm')).toMatchObject({ outcome: 'not-migrated' });
    expect(byName.get('vtpm')?.reason).toContain('vTPM');
    expect(byName.get('flaky')?.reason).toMatch(/live migration error/);
    expect(byName.get('stuck')?.reason).toMatch(/not completed after 1 s/);
    expect(report?.counts).toMatchObject({ selected: 6, recovered: 3, failed: 3, skipped: 1 });
  });

  it('refuses to drain when the hosts left cannot hold every instance: nothing disabled, nothing moved, the admins told', async () => {
    h = await startHarness({ sim: { hosts: ['compute-1', 'compute-2'], hostRamMb: 4096 } });
    const { state } = h.sim;
    const servers = [1, 2, 3].map((i) =>
      state.addServer({ host: 'compute-1', name: `big-${i}`, ramMb: 2048 }),
    );

    const outcome = await h.drain.start(drainInput('compute-1'), 'drain-short').done;

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('Drain.CapacityShort');
    expect(state.host('compute-1').status).toBe('enabled');
    for (const s of servers) expect(s.host).toBe('compute-1');
    expect(state.counters.liveMigrateAccepted.size).toBe(0);
    expect(h.notifier.reports.map((r) => r.kind)).toEqual(['drain-refused']);
    expect(h.notifier.reports[0]?.instances.some((i) => i.outcome === 'not-migrated')).toBe(true);
  });

  it('hands a host that is already down over to the recovery workflow, under the name the intake gives it', async () => {
    h = await startHarness();
    const { state } = h.sim;
    const server = state.addServer({ host: 'compute-1' });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });

    const outcome = await h.drain.start(drainInput('compute-1'), 'drain-dead').done;

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('Drain.HandedOver');
    expect(state.counters.liveMigrateAccepted.size).toBe(0);
    const [name] = h.recoveries.runs.keys();
    expect(name).toMatch(/^compute-1--/);
    await h.recoveries.settled();
    expect(server.host).not.toBe('compute-1');
    expect(state.counters.evacuateAccepted.get(server.id)).toBe(1);
    expect(state.unsafeEvacuations).toBe(0);
  });

  it('stops when the host dies mid-drain and hands over: the recovery evacuates what never left, waits on migrations in flight and never evacuates one of them', async () => {
    h = await startHarness({
      sim: { hosts: ['compute-1', 'compute-2', 'compute-3', 'compute-4'], liveMigrateMs: 40 },
      drain: { maxConcurrency: 2 },
    });
    const { state } = h.sim;
    const slow = [1, 2].map((i) =>
      // Restart priority 1: the slow ones are the first wave; the others wait for it to settle.
      state.addServer({
        host: 'compute-1',
        name: `slow-${i}`,
        liveMigrateMs: 60_000,
        metadata: { 'ha:priority': '1' },
      }),
    );
    const rest = [1, 2, 3, 4].map((i) => state.addServer({ host: 'compute-1', name: `later-${i}` }));

    const run = h.drain.start(drainInput('compute-1'), 'drain-dies');
    // Both slow ones are in flight (the first wave), then the host dies.
    await until(
      async () => slow.filter((s) => s.taskState === 'migrating').length,
      (n) => n === 2,
      60_000,
    );
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const outcome = await run.done;
    await h.recoveries.settled();

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('Drain.HandedOver');
    expect(h.recoveries.runs.size).toBe(1);
    // Never both: an instance whose live migration was accepted is never evacuated.
    const both = [...slow, ...rest].filter(
      (s: SimServer) =>
        state.counters.liveMigrateAccepted.has(s.id) && state.counters.evacuateAccepted.has(s.id),
    );
    expect(both).toEqual([]);
    expect(state.evacuatedWhileMigrating).toBe(0);
    for (const s of slow) {
      expect(state.counters.evacuateAccepted.has(s.id)).toBe(false);
      expect(s.host).toBe('compute-1');
    }
    // What never started moving was evacuated by the recovery, after fencing.
    for (const s of rest) expect(s.host).not.toBe('compute-1');
    expect(rest.every((s) => state.counters.evacuateAccepted.get(s.id) === 1)).toBe(true);
    expect(state.host('compute-1').power).toBe('off');
    expect(state.unsafeEvacuations).toBe(0);
    const kinds = h.notifier.reports.map((r) => r.kind);
    expect(kinds).toContain('drain');
    expect(kinds).toContain('recovery');
  });

  it('ends when the host dies while a cold migration waits for its confirmation (which runs on the source): the guest stays on its destination, reported, and the recovery takes the rest', async () => {
    h = await startHarness({
      sim: { hosts: ['compute-1', 'compute-2', 'compute-3'], coldMigrateMs: 40 },
      drain: { coldMigrateStopped: true },
    });
    const { state } = h.sim;
    const stopped = state.addServer({ host: 'compute-1', name: 'cold-1', vmState: 'stopped' });
    const cloud = h.rt.cloud;
    const confirm = cloud.confirmResize?.bind(cloud);
    // The source dies the moment the confirmation is asked for: Nova's record stays 'confirming'.
    cloud.confirmResize = async (id: string) => {
      await confirm?.(id);
      state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    };

    const outcome = await h.drain.start(drainInput('compute-1'), 'drain-dies-confirming').done;
    await h.recoveries.settled();

    expect(outcome.error).toBe('Drain.HandedOver');
    expect(state.migrations.find((m) => m.instanceId === stopped.id)?.status).toBe('confirming');
    expect(stopped.host).not.toBe('compute-1');
    expect(state.counters.evacuateAccepted.has(stopped.id)).toBe(false);
    const report = h.notifier.reports.find((r) => r.kind === 'drain');
    expect(report?.instances.find((i) => i.name === 'cold-1')?.reason).toMatch(
      /awaiting its resize confirmation \(confirming\), which compute-1 went down/,
    );
  });

  it('after the host is fenced, evacuates an instance whose migration the dead source had only prepared, and waits on one it had begun', async () => {
    h = await startHarness({ sim: { liveMigrateMs: 600_000, rpcTimeoutMs: 600_000 } });
    const { state } = h.sim;
    const prepared = state.addServer({ host: 'compute-1', name: 'prepared' });
    const running = state.addServer({ host: 'compute-1', name: 'running' });
    const idle = state.addServer({ host: 'compute-1', name: 'idle' });
    for (const server of [prepared, running])
      await h.rt.cloud.liveMigrate?.(server.id, { host: 'compute-2' });
    // Where the source had got to when it died (Nova's steps: accepted, queued, preparing, running).
    const recordOf = (id: string) => state.migrations.find((m) => m.instanceId === id);
    Object.assign(recordOf(prepared.id) ?? {}, { status: 'preparing', destCompute: 'compute-2' });
    Object.assign(recordOf(running.id) ?? {}, { status: 'running', destCompute: 'compute-2' });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });

    const outcome = await h.engine.start(
      { host: 'compute-1', incident: 'dies-mid-drain', cause: 'test', requestedAt: new Date().toISOString() },
      'fenced-with-migrations',
    ).done;

    expect(outcome.status).toBe('FAILED'); // the one it had begun is not recovered, and says why
    expect(state.host('compute-1').power).toBe('off');
    for (const server of [prepared, idle]) {
      expect(server.host).not.toBe('compute-1');
      expect(state.counters.evacuateAccepted.get(server.id)).toBe(1);
    }
    expect(state.counters.evacuateAccepted.has(running.id)).toBe(false);
    expect(running.host).toBe('compute-1');
    expect(state.evacuatedWhileMigrating).toBe(0);
    const evidence = {
      migrations: state.migrations,
      acceptedWhilePowerOn: 0,
      offReads: [],
      poweredOff: [],
      fleet: 3,
      maxDownShare: 0.5,
    };
    expect(countersOf(evidence).migratedAndEvacuated).toBe(0);
    const report = h.notifier.reports.find((r) => r.kind === 'recovery');
    expect(report?.instances.find((i) => i.name === 'running')?.reason).toContain('Instance.Migrating');
  });

  it('re-driven while migrations are in flight, asks Nova for no instance twice', async () => {
    h = await startHarness({ sim: { liveMigrateMs: 400 }, drain: { maxConcurrency: 4 } });
    const { state } = h.sim;
    const servers = [1, 2, 3, 4].map((i) => state.addServer({ host: 'compute-1', name: `vm-${i}` }));

    const first = h.drain.start(drainInput('compute-1'), 'drain-redrive');
    await until(
      async () => state.counters.liveMigrateAccepted.size,
      (n) => n === 4,
      60_000,
    );
    first.abort();
    await first.done;
    const entered = first.events.find(
      (e) =>
        e.type === 'StateEntered' && (e as { state?: { name: string } }).state?.name === 'MigrateInstances',
    ) as { state: { input: unknown } } | undefined;
    expect(entered).toBeDefined();

    const again = await h.drain.start(drainInput('compute-1'), 'drain-redrive', {
      state: 'MigrateInstances',
      input: entered?.state.input,
    }).done;

    expect(again.status).toBe('SUCCEEDED');
    for (const s of servers) {
      expect(s.host).not.toBe('compute-1');
      expect(state.counters.liveMigrateAccepted.get(s.id)).toBe(1);
    }
  });
});
