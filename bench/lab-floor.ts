// The floor on the lab: what the fastest correct orchestrator does with an oracle that
// already knows the host is dead. Power off with ipmitool (direct, no relay), force the
// service down, send every evacuate at once (2.68, {}), then poll once every 0.5 s until
// each server is ACTIVE with no task on another host. Timed from the power-off.
// With `targets`, each evacuate names its host (as freezer-dr's spread plan does); with
// `lock`, each server is locked once its evacuate is accepted and unlocked once it is
// ACTIVE, and counts as done after the unlock (as freezer-dr's VerifyInstance does).

import { parseNovaTime, sleep } from '../core/time.js';
import { ipmi } from '../test/lab/lab-env.js';
import type { LabNova } from '../test/lab/lab-nova.js';

export interface FloorResult {
  /** Seconds from the power-off command, per stage. */
  powerOff: number;
  forcedDown: number;
  postsAnswered: number;
  lastActive: number;
  perServer: number[];
  destinations: Record<string, number>;
  /** When Nova recorded the last evacuation `done` (its updated_at, whole seconds), from the power-off. */
  lastDoneInNova: number;
}

/** Latest updated_at of the `done` evacuations of these servers, in epoch ms (Nova keeps whole seconds). */
export async function lastDoneAt(nova: LabNova, ids: string[]): Promise<number> {
  const rows = await Promise.all(ids.map((id) => nova.evacuationsOf(id)));
  return Math.max(...rows.flat().map((m) => parseNovaTime(m.updatedAt) ?? Number.NaN));
}

export async function runFloor(
  nova: LabNova,
  host: string,
  ids: string[],
  prefix: string,
  options: { targets?: string[]; lock?: boolean } = {},
): Promise<FloorResult> {
  const service = await nova.service(host);
  const t0 = Date.now();
  const since = () => (Date.now() - t0) / 1000;
  const off = await ipmi(host, 'chassis', 'power', 'off');
  if (off !== 'Chassis Power Control: Down/Off') throw new Error(`power off answered "${off}"`);
  const powerOff = since();
  await nova.cloud.updateComputeService(service.id, {
    status: 'disabled',
    disabledReason: 'lab floor benchmark',
    forcedDown: true,
  });
  const forcedDown = since();
  const targets = options.targets ?? [];
  await Promise.all(
    ids.map(async (id, i) => {
      const target = targets.length ? targets[i % targets.length] : undefined;
      await nova.call('POST', `/servers/${id}/action`, '2.68', { evacuate: target ? { host: target } : {} });
      if (options.lock) await nova.cloud.lockServer(id, 'lab floor benchmark');
    }),
  );
  const postsAnswered = since();
  const done = new Map<string, number>();
  const destinations: Record<string, number> = {};
  while (done.size < ids.length) {
    if (since() > 300) throw new Error(`floor: ${ids.length - done.size} servers not ACTIVE after 300 s`);
    const ready = [];
    for (const server of await nova.servers(prefix)) {
      if (done.has(server.id) || !ids.includes(server.id)) continue;
      if (server.status === 'ERROR') throw new Error(`floor: ${server.name} went to ERROR`);
      if (server.status === 'ACTIVE' && !server.taskState && server.host && server.host !== host) {
        ready.push(server);
      }
    }
    await Promise.all(
      ready.map(async (server) => {
        if (options.lock) await nova.cloud.unlockServer(server.id);
        done.set(server.id, since());
        const to = server.host as string;
        destinations[to] = (destinations[to] ?? 0) + 1;
      }),
    );
    if (done.size < ids.length) await sleep(500);
  }
  const perServer = [...done.values()].sort((a, b) => a - b);
  const lastDoneInNova = ((await lastDoneAt(nova, ids)) - t0) / 1000;
  return {
    powerOff,
    forcedDown,
    postsAnswered,
    lastActive: perServer.at(-1) ?? 0,
    perServer,
    destinations,
    lastDoneInNova,
  };
}
