// The real statemachine/host-drain.asl.json on the embedded engine against the SIMULATED
// cloud (live and cold migration as Nova 26 does them): a degraded host emptied while it
// runs, and the ways a drain must leave instances where they are.
import { afterEach, describe, expect, it } from 'vitest';
import { parseDisabledReason } from '../core/disabled-reason.js';
import { drainInput, type Harness, startHarness } from './support/harness.js';

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
});
