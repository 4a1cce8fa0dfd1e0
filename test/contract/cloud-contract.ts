// The cloud driver's contract: the same cases run against the SIMULATED cloud (every
// `npm test`) and against a real Nova (the lab, or any cloud given by OS_CLOUD with a
// fixture that can fail a host). Where the simulated cloud and Nova disagree, the
// simulated cloud is wrong.
import { describe, expect, it } from 'vitest';
import type { CloudError } from '../../core/errors.js';
import type { Cloud, Server } from '../../core/ports.js';
import { sleep } from '../../core/time.js';

export interface ContractFixture {
  cloud: Cloud;
  /** A host the suite may fail, and two that stay healthy. */
  victim: string;
  healthy: [string, string];
  /** Boots a server pinned to a host and waits until it is ACTIVE; returns its id. */
  createServer(host: string, name: string, metadata?: Record<string, string>): Promise<string>;
  /** nova-compute on the host stops (power off, process killed); Nova has not noticed yet. */
  failHost(host: string): Promise<void>;
  /** The host's nova-compute runs again (it cleans up evacuated guests). */
  reviveHost(host: string): Promise<void>;
  deleteServer(id: string): Promise<void>;
  /** Polling cadence and patience for real clouds. */
  pollMs: number;
  settleTimeoutMs: number;
}

async function until<T>(
  fx: ContractFixture,
  what: string,
  probe: () => Promise<T | undefined | null | false>,
): Promise<T> {
  const deadline = Date.now() + fx.settleTimeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(fx.pollMs);
  }
}

async function rejection(promise: Promise<unknown>): Promise<CloudError> {
  try {
    await promise;
  } catch (error) {
    return error as CloudError;
  }
  throw new Error('expected the call to be rejected');
}

export function defineCloudContract(
  label: string,
  setup: () => Promise<ContractFixture>,
  teardown: () => Promise<void>,
) {
  describe(`cloud driver contract: ${label}`, () => {
    it('lists compute services by host with uuid ids and up/down state', async () => {
      const fx = await setup();
      try {
        const all = await fx.cloud.listComputeServices();
        for (const host of [fx.victim, ...fx.healthy]) {
          const service = all.find((s) => s.host === host);
          expect(service, host).toBeDefined();
          expect(service?.binary).toBe('nova-compute');
          expect(service?.id).toMatch(/^[0-9a-f-]{36}$/);
          expect(service?.state).toBe('up');
        }
        const one = await fx.cloud.listComputeServices({ host: fx.healthy[0] });
        expect(one.map((s) => s.host)).toEqual([fx.healthy[0]]);
        expect(await fx.cloud.getServer('00000000-0000-4000-8000-000000000000')).toBeUndefined();
      } finally {
        await teardown();
      }
    });

    it('refuses to evacuate with HTTP 400 "still in use" while a host is up, then evacuates after force-down', async () => {
      const fx = await setup();
      const ids: string[] = [];
      try {
        ids.push(await fx.createServer(fx.victim, 'contract-a', { HA_Enabled: 'True' }));
        ids.push(await fx.createServer(fx.victim, 'contract-b'));
        ids.push(await fx.createServer(fx.victim, 'contract-c'));
        ids.push(await fx.createServer(fx.healthy[0], 'contract-healthy'));
        const [a, b, c, onHealthy] = ids as [string, string, string, string];

        // Listing follows pagination (fixtures use a page size smaller than this set).
        const listed = await fx.cloud.listServersOnHost(fx.victim);
        expect(listed.map((s) => s.id).sort()).toEqual([a, b, c].sort());
        expect(listed.find((s) => s.id === a)?.metadata.HA_Enabled).toBe('True');

        const healthyRefusal = await rejection(fx.cloud.evacuate(onHealthy));
        expect(healthyRefusal.httpStatus).toBe(400);
        expect(healthyRefusal.message).toContain(`Compute service of ${fx.healthy[0]} is still in use`);

        await fx.failHost(fx.victim);
        const stillUp = await rejection(fx.cloud.evacuate(a));
        expect(stillUp.httpStatus).toBe(400);
        expect(stillUp.message).toContain(`Compute service of ${fx.victim} is still in use`);

        const [service] = await fx.cloud.listComputeServices({ host: fx.victim });
        const forced = await fx.cloud.updateComputeService(service?.id as string, {
          status: 'disabled',
          disabledReason: 'freezer-dr: contract test',
          forcedDown: true,
        });
        expect(forced).toMatchObject({ forcedDown: true, status: 'disabled', state: 'down' });
        expect(forced.disabledReason).toBe('freezer-dr: contract test');

        await fx.cloud.lockServer(a, 'freezer-dr contract');
        expect((await fx.cloud.getServer(a))?.locked).toBe(true);

        await Promise.all([a, b, c].map((id) => fx.cloud.evacuate(id)));
        const seenRebuilding = (await fx.cloud.getServer(a)) as Server;
        expect(seenRebuilding.taskState === null || seenRebuilding.taskState.startsWith('rebuild')).toBe(
          true,
        );
        // No second evacuate during the rebuild: Nova 26 does not refuse it (200), and the
        // colliding rebuilds leave the instance in ERROR. Callers must check task_state first.

        for (const id of [a, b, c]) {
          const settled = await until(fx, `${id} ACTIVE elsewhere`, async () => {
            const s = await fx.cloud.getServer(id);
            return s && s.status === 'ACTIVE' && s.taskState === null && s.host !== fx.victim ? s : null;
          });
          expect(fx.healthy).toContain(settled.host);
        }
        // Once it has landed, evacuating it again is refused: its new host is up.
        const again = await rejection(fx.cloud.evacuate(b));
        expect(again.httpStatus).toBe(400);
        expect(again.message).toMatch(/Compute service of compute-\S+ is still in use/);
        await fx.cloud.unlockServer(a);
        expect((await fx.cloud.getServer(a))?.locked).toBe(false);

        const migrations = await until(fx, 'evacuation migrations done', async () => {
          const rows = await fx.cloud.listEvacuations({ sourceCompute: fx.victim });
          const mine = rows.filter((m) => [a, b, c].includes(m.instanceId));
          return mine.length === 3 && mine.every((m) => m.status === 'done') ? mine : null;
        });
        expect(
          migrations.every((m) => m.migrationType === 'evacuation' && m.sourceCompute === fx.victim),
        ).toBe(true);
        const forA = await fx.cloud.listEvacuations({ instanceId: a });
        expect(forA.map((m) => m.instanceId)).toEqual([a]);

        // Nova refuses to clear forced_down until the revived compute has cleaned up.
        const early = await rejection(
          fx.cloud.updateComputeService(service?.id as string, { status: 'enabled', forcedDown: false }),
        );
        expect(early.httpStatus).toBe(400);
        expect(early.message).toContain(`Unable to force up host ${fx.victim} as \`done\` evacuation`);
        await fx.reviveHost(fx.victim);
        await until(fx, 'evacuation migrations completed', async () => {
          const rows = await fx.cloud.listEvacuations({ sourceCompute: fx.victim });
          return rows.filter((m) => [a, b, c].includes(m.instanceId)).every((m) => m.status === 'completed');
        });
        const restored = await fx.cloud.updateComputeService(service?.id as string, {
          status: 'enabled',
          forcedDown: false,
        });
        expect(restored).toMatchObject({ forcedDown: false, status: 'enabled' });
      } finally {
        for (const id of ids) await fx.deleteServer(id).catch(() => undefined);
        await teardown();
      }
    });
  });
}
