// The cloud driver's contract: the same cases run against the SIMULATED cloud (every
// `npm test`) and against a real Nova (the lab, or any cloud given by OS_CLOUD with a
// fixture that can fail a host). Where the simulated cloud and Nova disagree, the
// simulated cloud is wrong.
import { describe, expect, it } from 'vitest';
import { CLOUD_REJECTED, type CloudError } from '../../core/errors.js';
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
  /** Stops a server and waits until it reads SHUTOFF. */
  stopServer(id: string): Promise<void>;
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
    it('live-migrates to a named host and to a host the scheduler picks: same id, still ACTIVE, one completed live-migration record, no evacuation', async () => {
      const fx = await setup();
      const ids: string[] = [];
      const migrate = fx.cloud as Required<Cloud>;
      try {
        ids.push(await fx.createServer(fx.victim, 'contract-live-named'));
        ids.push(await fx.createServer(fx.victim, 'contract-live-any'));
        const [named, any] = ids as [string, string];

        await migrate.liveMigrate(named, { host: fx.healthy[0] });
        await migrate.liveMigrate(any);
        const moving = (await fx.cloud.getServer(named)) as Server;
        // In flight Nova shows MIGRATING (vm_state active, task_state migrating); it may already be done.
        expect(
          (moving.status === 'MIGRATING' && moving.taskState === 'migrating') ||
            (moving.status === 'ACTIVE' && moving.taskState === null),
        ).toBe(true);
        expect(moving.vmState).toBe('active');

        const landed = await Promise.all(
          ids.map((id) =>
            until(fx, `${id} ACTIVE elsewhere`, async () => {
              const s = await fx.cloud.getServer(id);
              return s && s.status === 'ACTIVE' && s.taskState === null && s.host !== fx.victim ? s : null;
            }),
          ),
        );
        expect(landed.map((s) => s.id)).toEqual(ids);
        expect(landed[0]?.host).toBe(fx.healthy[0]);
        expect(fx.healthy).toContain(landed[1]?.host);

        for (const [i, id] of ids.entries()) {
          const records = await until(fx, `${id} live-migration completed`, async () => {
            const rows = await migrate.listMigrations({ instanceId: id, migrationType: 'live-migration' });
            return rows.length > 0 && rows.every((m) => m.status === 'completed') ? rows : null;
          });
          expect(records).toHaveLength(1);
          expect(records[0]).toMatchObject({
            instanceId: id,
            migrationType: 'live-migration',
            sourceCompute: fx.victim,
            destCompute: landed[i]?.host,
          });
          expect(await migrate.listMigrations({ instanceId: id, migrationType: 'evacuation' })).toEqual([]);
          expect(await fx.cloud.listEvacuations({ instanceId: id })).toEqual([]);
          const every = await migrate.listMigrations({ instanceId: id });
          expect(every.map((m) => m.migrationType)).toEqual(['live-migration']);
        }
        const fromVictim = await migrate.listMigrations({
          sourceCompute: fx.victim,
          migrationType: 'live-migration',
        });
        expect(fromVictim.filter((m) => ids.includes(m.instanceId))).toHaveLength(2);
      } finally {
        for (const id of ids) await fx.deleteServer(id).catch(() => undefined);
        await teardown();
      }
    });

    it('cold-migrates a SHUTOFF server: VERIFY_RESIZE on another host, then confirmResize leaves it SHUTOFF there', async () => {
      const fx = await setup();
      const ids: string[] = [];
      const migrate = fx.cloud as Required<Cloud>;
      try {
        ids.push(await fx.createServer(fx.victim, 'contract-cold'));
        const [id] = ids as [string];
        await fx.stopServer(id);

        await migrate.coldMigrate(id);
        const resized = await until(fx, `${id} VERIFY_RESIZE`, async () => {
          const s = await fx.cloud.getServer(id);
          if (s?.status === 'ERROR') throw new Error(`${id} went to ERROR during the cold migration`);
          return s && s.status === 'VERIFY_RESIZE' && s.taskState === null ? s : null;
        });
        expect(fx.healthy).toContain(resized.host);
        const finished = await migrate.listMigrations({ instanceId: id, migrationType: 'migration' });
        expect(finished.map((m) => m.status)).toEqual(['finished']);

        await migrate.confirmResize(id);
        const stopped = await until(fx, `${id} SHUTOFF after confirm`, async () => {
          const s = await fx.cloud.getServer(id);
          return s && s.status === 'SHUTOFF' && s.taskState === null ? s : null;
        });
        expect(stopped.id).toBe(id);
        expect(stopped.host).toBe(resized.host);
        const confirmed = await until(fx, `${id} migration confirmed`, async () => {
          const rows = await migrate.listMigrations({ instanceId: id, migrationType: 'migration' });
          return rows.length === 1 && rows[0]?.status === 'confirmed' ? rows : null;
        });
        expect(confirmed[0]).toMatchObject({ sourceCompute: fx.victim, destCompute: resized.host });
        expect(await fx.cloud.listEvacuations({ instanceId: id })).toEqual([]);
        // A second confirm finds no resize to confirm (Nova answers 409 on the vm_state).
        const again = await rejection(migrate.confirmResize(id));
        expect(again.httpStatus).toBe(409);
        expect(again.message).toContain(
          `Cannot 'confirmResize' instance ${id} while it is in vm_state stopped`,
        );
      } finally {
        for (const id of ids) await fx.deleteServer(id).catch(() => undefined);
        await teardown();
      }
    });

    it("refuses live migrations with Nova's reasons: 409 for a SHUTOFF server, 400 for an unknown host, a failed record for a disabled target", async () => {
      const fx = await setup();
      const ids: string[] = [];
      const migrate = fx.cloud as Required<Cloud>;
      const [target] = await fx.cloud.listComputeServices({ host: fx.healthy[0] });
      try {
        ids.push(await fx.createServer(fx.victim, 'contract-refused-stopped'));
        ids.push(await fx.createServer(fx.victim, 'contract-refused-running'));
        const [stopped, running] = ids as [string, string];
        await fx.stopServer(stopped);

        const notRunning = await rejection(migrate.liveMigrate(stopped));
        expect(notRunning.httpStatus).toBe(409);
        expect(notRunning.name).toBe(CLOUD_REJECTED);
        expect(notRunning.message).toContain(
          `Cannot 'os-migrateLive' instance ${stopped} while it is in vm_state stopped`,
        );
        const unknown = await rejection(migrate.liveMigrate(running, { host: 'no-such-compute' }));
        expect(unknown.httpStatus).toBe(400);
        expect(unknown.name).toBe(CLOUD_REJECTED);
        expect(unknown.message).toContain('Compute host no-such-compute could not be found.');

        // From 2.34 the conductor's checks run after the 202: a disabled target fails the
        // scheduler's filters, the record goes to 'error' and the server stays where it was.
        await fx.cloud.updateComputeService(target?.id as string, {
          status: 'disabled',
          disabledReason: 'freezer-dr: contract test',
        });
        await migrate.liveMigrate(running, { host: fx.healthy[0] });
        const failed = await until(fx, `${running} live migration failed`, async () => {
          const rows = await migrate.listMigrations({ instanceId: running, migrationType: 'live-migration' });
          return rows.length === 1 && ['error', 'failed'].includes(rows[0]?.status ?? '') ? rows : null;
        });
        expect(failed[0]?.sourceCompute).toBe(fx.victim);
        const stayed = await until(fx, `${running} settled on its host`, async () => {
          const s = await fx.cloud.getServer(running);
          return s && s.taskState === null ? s : null;
        });
        expect(stayed).toMatchObject({ status: 'ACTIVE', host: fx.victim });
        expect((await fx.cloud.getServer(stopped))?.status).toBe('SHUTOFF');
      } finally {
        await fx.cloud
          .updateComputeService(target?.id as string, { status: 'enabled' })
          .catch(() => undefined);
        for (const id of ids) await fx.deleteServer(id).catch(() => undefined);
        await teardown();
      }
    });
  });
}
