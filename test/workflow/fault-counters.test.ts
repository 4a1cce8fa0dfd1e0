// The fault campaign's counters must bite: a fencer that lies about the power, an
// instance evacuated twice, more hosts powered off than the budget, each shows up as a
// non-zero counter. (The campaign itself, npm run test:faults, expects zeros.)
import { afterEach, describe, expect, it } from 'vitest';
import { countersOf, type Evidence } from '../faults/support/counters.js';
import { type Scene, startScene } from '../faults/support/scene.js';

let scene: Scene | null = null;
afterEach(async () => {
  await scene?.close();
  scene = null;
});

const evidence = (partial: Partial<Evidence>): Evidence => ({
  migrations: [],
  acceptedWhilePowerOn: 0,
  offReads: [],
  poweredOff: [],
  fleet: 6,
  maxDownShare: 0.5,
  ...partial,
});
const migration = (instanceId: string, at: number, status = 'done') => ({
  instanceId,
  sourceCompute: 'compute-1',
  status,
  createdAt: new Date(at).toISOString(),
});

describe('fault campaign counters', () => {
  it('count evacuations before any off reading, repeated evacuations and hosts over the budget', () => {
    const t = Date.parse('2026-11-21T10:00:00Z');
    expect(
      countersOf(
        evidence({
          migrations: [
            migration('a', t - 1),
            migration('b', t + 1),
            migration('b', t + 2),
            migration('c', t + 3, 'error'),
            migration('c', t + 4),
          ],
          offReads: [{ host: 'compute-1', at: t }],
          poweredOff: ['compute-1', 'compute-2', 'compute-3', 'compute-4', 'compute-4'],
        }),
      ),
    ).toEqual({ unverified: 1, double: 1, overBudget: 1, migratedAndEvacuated: 0 });
    expect(countersOf(evidence({ migrations: [migration('a', t)] })).unverified).toBe(1);
  });

  it('catch a fencer that says off while the host runs: every evacuation counts', async () => {
    scene = await startScene();
    const s = scene;
    for (let i = 0; i < 3; i += 1) s.sim.state.addServer({ host: 'compute-1' });
    s.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    // Replace the real methods under the witness: off is never sent, status always lies.
    Object.assign(s.rt.fencer, { powerStatus: async () => 'off', powerOff: async () => undefined });
    const run = await s.recover('compute-1');
    expect(run.outcome.status).toBe('SUCCEEDED');
    expect(countersOf(s.evidence()).unverified).toBe(3);
  });

  it('catch an instance evacuated twice from the same host', async () => {
    scene = await startScene({ sim: { holdRebuilds: true } });
    const s = scene;
    const server = s.sim.state.addServer({ host: 'compute-1' });
    s.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    s.sim.state.host('compute-1').power = 'off';
    await s.rt.cloud.evacuate(server.id);
    await s.rt.cloud.evacuate(server.id); // Nova 26 accepts it mid-rebuild
    expect(countersOf({ ...s.evidence(), offReads: [{ host: 'compute-1', at: 0 }] })).toMatchObject({
      unverified: 0,
      double: 1,
    });
  });

  it('catch an instance both live-migrated by a drain and evacuated, and an evacuation accepted mid-migration', async () => {
    const t = Date.parse('2026-11-21T10:00:00Z');
    const live = (instanceId: string, status: string) => ({
      ...migration(instanceId, t - 10, status),
      migrationType: 'live-migration',
    });
    const counters = countersOf(
      evidence({
        migrations: [
          live('a', 'completed'),
          migration('a', t + 1),
          live('b', 'error'),
          migration('b', t + 2),
          live('c', 'running'),
        ],
        offReads: [{ host: 'compute-1', at: t }],
      }),
    );
    // a: moved and evacuated; b: its migration failed, so its evacuation is the one move; c: never evacuated.
    // The drain's own live migrations, before any power reading, are not unverified evacuations.
    expect(counters).toEqual({ unverified: 0, double: 0, overBudget: 0, migratedAndEvacuated: 1 });
    expect(countersOf(evidence({ evacuatedWhileMigrating: 2 })).migratedAndEvacuated).toBe(2);

    scene = await startScene({ sim: { liveMigrateMs: 60_000 } });
    const s = scene;
    const server = s.sim.state.addServer({ host: 'compute-1' });
    await s.rt.cloud.liveMigrate?.(server.id);
    s.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    s.sim.state.host('compute-1').power = 'off';
    s.sim.state.host('compute-1').forcedDown = true;
    await s.rt.cloud.evacuate(server.id); // Nova 26 accepts it during a live migration
    expect(countersOf(s.evidence()).migratedAndEvacuated).toBeGreaterThan(0);
  });
});
