// The SIMULATED cloud restarted mid-evacuation (`npm start` killed and started again): the
// rebuilds under way go on to the host each evacuate request named, and an instance that
// Nova 2.95+ keeps SHUTOFF stays SHUTOFF, as a real destination compute would carry on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { persistSimulatedState } from '../../drivers/cloud/simulated/persistence.js';
import { SimulatedCloudState } from '../../drivers/cloud/simulated/state.js';
import { type Harness, startHarness } from '../support/harness.js';

let h: Harness | undefined;
let dir: string | undefined;
afterEach(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('simulated cloud restored from its file', () => {
  it('resumes in-flight rebuilds to their requested host, keeping them stopped as asked', async () => {
    // Rebuilds held until released: the snapshot is taken while both are in flight.
    h = await startHarness({ sim: { holdRebuilds: true, maxMicroversion: '2.95' } });
    dir = mkdtempSync(join(tmpdir(), 'freezer-dr-sim-restore-'));
    const file = join(dir, 'simulated-cloud.json');
    const { state } = h.sim;
    persistSimulatedState(state, file);
    const servers = [1, 2].map((i) => state.addServer({ host: 'compute-1', name: `vm-${i}` }));
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    // compute-2 is as empty as compute-3: the scheduler would pick it, the plan said compute-3.
    for (const server of servers) await h.rt.cloud.evacuate(server.id, { host: 'compute-3' });
    expect(state.migrations.map((m) => m.destCompute)).toEqual([null, null]);

    const restarted = new SimulatedCloudState({ holdRebuilds: true });
    expect(persistSimulatedState(restarted, file)).toEqual({ restored: true });
    restarted.releaseRebuilds();

    for (const server of servers) {
      expect(restarted.servers.get(server.id)).toMatchObject({
        host: 'compute-3',
        vmState: 'stopped',
        taskState: null,
      });
    }
    expect(restarted.migrations.map((m) => [m.destCompute, m.status])).toEqual([
      ['compute-3', 'done'],
      ['compute-3', 'done'],
    ]);
    restarted.close();
  });
});
