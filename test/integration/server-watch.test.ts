// VerifyInstance's shared reads (core/server-watch.ts) against the SIMULATED cloud: several
// instances polled together cost one list per host, a lone one a single read, and an
// instance on no listed host (moved elsewhere, deleted) is still read correctly.
import { afterEach, describe, expect, it } from 'vitest';
import { ServerWatch } from '../../core/server-watch.js';
import { OpenStackCloud } from '../../drivers/cloud/openstack/nova.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';

let sim: SimulatedCloud;
afterEach(async () => sim?.close());

describe('ServerWatch', () => {
  it('answers concurrent reads with one list per host, and reads the rest one by one', async () => {
    sim = await startSimulatedCloud({ evacuateMs: 50 });
    const cloud = new OpenStackCloud(sim.connection);
    const onOne = [1, 2, 3].map((i) => sim.state.addServer({ host: 'compute-1', name: `a-${i}` }));
    const onTwo = sim.state.addServer({ host: 'compute-2', name: 'b' });
    const elsewhere = sim.state.addServer({ host: 'compute-3', name: 'c' });
    const watch = new ServerWatch(cloud);
    await cloud.capabilities(); // token and microversion out of the way
    const before = sim.state.counters.requests;

    const results = await Promise.all([
      ...onOne.map((s) => watch.read(s.id, ['compute-1', 'compute-2'])),
      watch.read(onTwo.id, ['compute-1', 'compute-2']),
      watch.read(elsewhere.id, ['compute-1', 'compute-2']),
      watch.read('no-such-server', ['compute-1']),
    ]);

    expect(results.map((s) => s?.name)).toEqual(['a-1', 'a-2', 'a-3', 'b', 'c', undefined]);
    expect(results[3]?.host).toBe('compute-2');
    expect(watch.calls).toEqual({ lists: 2, singles: 2 });
    expect(sim.state.counters.requests - before).toBe(4);
  });

  it('a lone read is a single GET', async () => {
    sim = await startSimulatedCloud({ evacuateMs: 50 });
    const cloud = new OpenStackCloud(sim.connection);
    const server = sim.state.addServer({ host: 'compute-1' });
    const watch = new ServerWatch(cloud);
    expect((await watch.read(server.id, ['compute-1', 'compute-2']))?.id).toBe(server.id);
    expect(watch.calls).toEqual({ lists: 0, singles: 1 });
  });
});
