// What the cases assert about the cloud itself, besides the counters.
import { expect } from 'vitest';
import type { SimServer } from '../../../drivers/cloud/simulated/state.js';
import type { Scene } from './scene.js';

/** `count` instances on the host, then its nova-compute dies (Nova reports it down at once). */
export function failHost(scene: Scene, host: string, count = 3, extra: Partial<SimServer> = {}): SimServer[] {
  const servers = Array.from({ length: count }, (_, i) =>
    scene.sim.state.addServer({ host, name: `${host}-vm-${i + 1}`, ...extra }),
  );
  scene.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
  return servers;
}

/** Back on another host, running, unlocked, evacuated from `from` exactly once (a later host's failure may move it again). */
export function expectRecovered(scene: Scene, servers: SimServer[], from: string): void {
  for (const server of servers) {
    const now = scene.sim.state.servers.get(server.id);
    expect(now?.host, server.name).not.toBe(from);
    expect(now, server.name).toMatchObject({ vmState: 'active', taskState: null, locked: false });
    const moves = scene.sim.state.migrations.filter(
      (m) => m.instanceId === server.id && m.sourceCompute === from,
    );
    expect(
      moves.map((m) => m.status),
      server.name,
    ).toEqual(['done']);
  }
}

/** Nothing was evacuated and the host was not forced down. */
export function expectUntouched(scene: Scene, host: string): void {
  expect(scene.sim.state.migrations).toEqual([]);
  expect(scene.sim.state.host(host).forcedDown).toBe(false);
}

export const kinds = (scene: Scene) => scene.memory.reports.map((r) => r.kind);
