// The drain's floor on the lab: what the fastest correct tool does when it already knows
// which host to empty. N parallel os-migrateLive calls (2.93, host null or named,
// block_migration auto), then one list of the servers and one of the host's live-migration
// records every 0.5 s until each server is ACTIVE with no task on another host AND its
// record is `completed`. Timed from the first POST.
import { parseNovaTime, sleep } from '../core/time.js';
import type { LabNova } from '../test/lab/lab-nova.js';

export interface DrainFloorResult {
  /** Seconds from the first POST. */
  postsAnswered: number;
  lastMoved: number;
  perServer: number[];
  destinations: Record<string, number>;
  /** When Nova recorded the last live migration `completed` (updated_at, whole seconds). */
  lastCompletedInNova: number;
  /** Every record status seen while polling, in order of first sight (the lab's sequence). */
  statusesSeen: string[];
}

/** Latest updated_at of these servers' completed live migrations from `host`, epoch ms. */
export async function lastCompletedAt(nova: LabNova, host: string, ids: string[]): Promise<number> {
  const rows = await nova.cloud.listMigrations({ sourceCompute: host, migrationType: 'live-migration' });
  const mine = rows.filter((m) => ids.includes(m.instanceId) && m.status === 'completed');
  return Math.max(...mine.map((m) => parseNovaTime(m.updatedAt) ?? Number.NaN));
}

export async function runDrainFloor(
  nova: LabNova,
  host: string,
  ids: string[],
  prefix: string,
  options: { targets?: string[] } = {},
): Promise<DrainFloorResult> {
  const targets = options.targets ?? [];
  const t0 = Date.now();
  const since = () => (Date.now() - t0) / 1000;
  await Promise.all(
    ids.map((id, i) =>
      nova.call('POST', `/servers/${id}/action`, '2.93', {
        'os-migrateLive': {
          host: targets.length ? targets[i % targets.length] : null,
          block_migration: 'auto',
        },
      }),
    ),
  );
  const postsAnswered = since();
  const done = new Map<string, number>();
  const destinations: Record<string, number> = {};
  const statusesSeen: string[] = [];
  while (done.size < ids.length) {
    if (since() > 300)
      throw new Error(`drain floor: ${ids.length - done.size} servers not moved after 300 s`);
    const [servers, records] = await Promise.all([
      nova.servers(prefix),
      nova.cloud.listMigrations({ sourceCompute: host, migrationType: 'live-migration' }),
    ]);
    const completed = new Set<string>();
    for (const record of records) {
      if (!ids.includes(record.instanceId)) continue;
      if (!statusesSeen.includes(record.status)) statusesSeen.push(record.status);
      if (record.status === 'error' || record.status === 'failed') {
        throw new Error(`drain floor: live migration of ${record.instanceId} went to ${record.status}`);
      }
      if (record.status === 'completed') completed.add(record.instanceId);
    }
    for (const server of servers) {
      if (done.has(server.id) || !ids.includes(server.id)) continue;
      if (server.status === 'ERROR') throw new Error(`drain floor: ${server.name} went to ERROR`);
      if (
        server.status === 'ACTIVE' &&
        !server.taskState &&
        server.host &&
        server.host !== host &&
        completed.has(server.id)
      ) {
        done.set(server.id, since());
        destinations[server.host] = (destinations[server.host] ?? 0) + 1;
      }
    }
    if (done.size < ids.length) await sleep(500);
  }
  const perServer = [...done.values()].sort((a, b) => a - b);
  return {
    postsAnswered,
    lastMoved: perServer.at(-1) ?? 0,
    perServer,
    destinations,
    lastCompletedInNova: ((await lastCompletedAt(nova, host, ids)) - t0) / 1000,
    statusesSeen,
  };
}
