// The simulated Nova's live and cold migrations through the OpenStack driver: the bodies
// each microversion takes, the fault knobs the drain's tests use (fail, hang, refuse,
// pre-check), a source that dies mid-migration, an evacuate during a live migration, and
// a restart of the simulated cloud in the middle of one.
import { afterEach, describe, expect, it } from 'vitest';
import type { CloudError } from '../../core/errors.js';
import type { Migration } from '../../core/ports.js';
import { sleep } from '../../core/time.js';
import { coldMigrateBody, liveMigrateBody, OpenStackCloud } from '../../drivers/cloud/openstack/nova.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import { SimulatedCloudState } from '../../drivers/cloud/simulated/state.js';

let sim: SimulatedCloud | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: Parameters<typeof startSimulatedCloud>[0] = {}) {
  sim = await startSimulatedCloud({ liveMigrateMs: 40, coldMigrateMs: 40, ...options });
  return { sim, cloud: new OpenStackCloud(sim.connection) };
}

async function until<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
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

const liveRecord = async (cloud: OpenStackCloud, id: string): Promise<Migration | undefined> =>
  (await cloud.listMigrations({ instanceId: id, migrationType: 'live-migration' }))[0];

describe('driver bodies per microversion', () => {
  it('os-migrateLive: auto block migration from 2.25, a named host only from 2.30, never force', () => {
    expect(liveMigrateBody('2.93', 'compute-2')).toEqual({
      'os-migrateLive': { host: 'compute-2', block_migration: 'auto' },
    });
    expect(liveMigrateBody('2.93')).toEqual({ 'os-migrateLive': { host: null, block_migration: 'auto' } });
    expect(liveMigrateBody('2.30', 'compute-2')).toEqual({
      'os-migrateLive': { host: 'compute-2', block_migration: 'auto' },
    });
    expect(liveMigrateBody('2.1')).toEqual({
      'os-migrateLive': { host: null, block_migration: false, disk_over_commit: false },
    });
    expect(coldMigrateBody('2.93', 'compute-3')).toEqual({ migrate: { host: 'compute-3' } });
    expect(coldMigrateBody('2.93')).toEqual({ migrate: null });
    expect(coldMigrateBody('2.55', 'compute-3')).toEqual({ migrate: null });
  });

  it('a Nova older than 2.30 is refused a named target before anything is sent', async () => {
    const { sim, cloud } = await start({ maxMicroversion: '2.29' });
    const server = sim.state.addServer({ host: 'compute-1' });
    const error = await rejection(cloud.liveMigrate(server.id, { host: 'compute-2' }));
    expect(error.message).toContain('needs 2.30');
    expect(sim.state.counters.liveMigrateAccepted.size).toBe(0);
    await cloud.liveMigrate(server.id);
    await until('landed', () => server.host !== 'compute-1' && server.taskState === null);
  });

  it('the simulated Nova refuses force at 2.68 and a missing host key as Nova 26 does', async () => {
    const { sim, cloud } = await start();
    const server = sim.state.addServer({ host: 'compute-1' });
    const action = (body: unknown) =>
      cloud.session.request({
        service: 'compute',
        path: `/servers/${server.id}/action`,
        method: 'POST',
        data: body,
        microversion: '2.93',
      });
    const forced = await rejection(
      action({ 'os-migrateLive': { host: 'compute-2', block_migration: 'auto', force: true } }),
    );
    expect(forced.httpStatus).toBe(400);
    expect(forced.message).toContain("Additional properties are not allowed ('force' was unexpected)");
    const noHost = await rejection(action({ 'os-migrateLive': { block_migration: 'auto' } }));
    expect(noHost.message).toContain("'host' is a required property");
    expect(sim.state.counters.liveMigrateAccepted.size).toBe(0);
  });
});

describe('simulated live migration faults', () => {
  it('fail: the record goes to error and the instance stays ACTIVE on its source', async () => {
    const { sim, cloud } = await start();
    const server = sim.state.addServer({ host: 'compute-1', liveMigrationFault: 'fail' });
    await cloud.liveMigrate(server.id);
    const record = await until('error record', async () => {
      const m = await liveRecord(cloud, server.id);
      return m?.status === 'error' ? m : null;
    });
    expect(record.sourceCompute).toBe('compute-1');
    expect(await cloud.getServer(server.id)).toMatchObject({
      status: 'ACTIVE',
      host: 'compute-1',
      taskState: null,
    });
  });

  it('hang: the record stays running and the instance MIGRATING until the source compute restarts', async () => {
    const { sim, cloud } = await start();
    const server = sim.state.addServer({ host: 'compute-1', liveMigrationFault: 'hang' });
    await cloud.liveMigrate(server.id);
    await until('running', async () => (await liveRecord(cloud, server.id))?.status === 'running');
    await sleep(120); // three times its duration: still running
    expect((await liveRecord(cloud, server.id))?.status).toBe('running');
    expect((await cloud.getServer(server.id))?.status).toBe('MIGRATING');
    sim.state.killCompute('compute-1');
    sim.state.startCompute('compute-1');
    expect((await liveRecord(cloud, server.id))?.status).toBe('error');
    expect(await cloud.getServer(server.id)).toMatchObject({
      status: 'ACTIVE',
      host: 'compute-1',
      taskState: null,
    });
  });

  it('refuse: the API answers with the injected status and reason, nothing is recorded', async () => {
    const { sim, cloud } = await start();
    const message = "Operation 'live-migration' not supported for vTPM-enabled instance (x).";
    const server = sim.state.addServer({
      host: 'compute-1',
      liveMigrationFault: { refuse: { status: 409, message } },
    });
    const error = await rejection(cloud.liveMigrate(server.id));
    expect(error.httpStatus).toBe(409);
    expect(error.message).toContain(message);
    expect(await cloud.listMigrations({ instanceId: server.id })).toEqual([]);
    expect(server.taskState).toBeNull();
  });

  it('precheck: accepted, then an error record with the conductor reason (kept for tests)', async () => {
    const { sim, cloud } = await start();
    const server = sim.state.addServer({
      host: 'compute-1',
      liveMigrationFault: { precheck: 'PCI device attached' },
    });
    await cloud.liveMigrate(server.id);
    await until('error', async () => (await liveRecord(cloud, server.id))?.status === 'error');
    expect(sim.state.migrations[0]?.failureReason).toBe('Migration pre-check error: PCI device attached');
    expect(server.host).toBe('compute-1');
  });

  it('before 2.34 the conductor checks answer synchronously: 400 with the reason', async () => {
    const { sim, cloud } = await start({ maxMicroversion: '2.33' });
    const server = sim.state.addServer({ host: 'compute-1' });
    sim.state.host('compute-1').forcedDown = true;
    const error = await rejection(cloud.liveMigrate(server.id));
    expect(error.httpStatus).toBe(400);
    expect(error.message).toContain('Compute service of compute-1 is unavailable at this time.');
  });

  it('a source reported down: accepted (202), then an error record with Nova 26 reason', async () => {
    const { sim, cloud } = await start();
    const server = sim.state.addServer({ host: 'compute-1' });
    sim.state.host('compute-1').forcedDown = true;
    await cloud.liveMigrate(server.id);
    await until('error', async () => (await liveRecord(cloud, server.id))?.status === 'error');
    expect(sim.state.migrations[0]?.failureReason).toBe(
      'Compute service of compute-1 is unavailable at this time.',
    );
    expect(server).toMatchObject({ host: 'compute-1', taskState: null, vmState: 'active' });
  });

  it('a second os-migrateLive while one is in flight: 409 on the task state', async () => {
    const { sim, cloud } = await start({ liveMigrateMs: 5000 });
    const server = sim.state.addServer({ host: 'compute-1' });
    await cloud.liveMigrate(server.id);
    const error = await rejection(cloud.liveMigrate(server.id));
    expect(error.httpStatus).toBe(409);
    expect(error.message).toContain(
      `Cannot 'os-migrateLive' instance ${server.id} while it is in task_state migrating`,
    );
    expect(sim.state.counters.liveMigrateAccepted.get(server.id)).toBe(1);
  });

  it('a locked server is live-migrated (admins pass Nova lock check)', async () => {
    const { sim, cloud } = await start();
    const server = sim.state.addServer({ host: 'compute-1', locked: true, lockedReason: 'owner' });
    await cloud.liveMigrate(server.id, { host: 'compute-3' });
    await until('landed', () => server.host === 'compute-3' && server.taskState === null);
    expect(server.locked).toBe(true);
  });

  it('per-server duration: one slow migration does not hold the others', async () => {
    const { sim, cloud } = await start({ liveMigrateMs: 20 });
    const slow = sim.state.addServer({ host: 'compute-1', liveMigrateMs: 60_000 });
    const quick = sim.state.addServer({ host: 'compute-1' });
    await cloud.liveMigrate(slow.id);
    await cloud.liveMigrate(quick.id);
    await until('quick landed', () => quick.host !== 'compute-1');
    expect(slow).toMatchObject({ host: 'compute-1', taskState: 'migrating' });
  });
});

describe('a host that dies during a live migration', () => {
  it('the record stays running (the source never runs the post step); an evacuate is accepted and counted unsafe', async () => {
    const { sim, cloud } = await start({ liveMigrateMs: 200, evacuateMs: 20 });
    const server = sim.state.addServer({ host: 'compute-1' });
    await cloud.liveMigrate(server.id);
    await until('running', async () => (await liveRecord(cloud, server.id))?.status === 'running');
    sim.state.killCompute('compute-1');
    sim.state.host('compute-1').forcedDown = true;
    await sleep(300);
    expect((await liveRecord(cloud, server.id))?.status).toBe('running');
    expect(server).toMatchObject({ host: 'compute-1', taskState: 'migrating' });

    // Nova 26 evacuate checks no task state: it is accepted. freezer-dr must never send it.
    await cloud.evacuate(server.id);
    expect(sim.state.evacuatedWhileMigrating).toBe(1);
    await until('rebuilt', () => server.host !== 'compute-1' && server.taskState === null);
    expect((await cloud.listEvacuations({ instanceId: server.id })).map((m) => m.status)).toEqual(['done']);
  });
});

describe('a live migration sent to a source that is already dead (Nova still reports it up)', () => {
  it("waits 'accepted' for the source; no answer within rpc_response_timeout: 'error', the instance in ERROR where it was (as on test/lab)", async () => {
    const { sim, cloud } = await start({ rpcTimeoutMs: 100 });
    const server = sim.state.addServer({ host: 'compute-1' });
    sim.state.killCompute('compute-1');
    await cloud.liveMigrate(server.id, { host: 'compute-2' });
    await until('the timeout', async () => (await liveRecord(cloud, server.id))?.status === 'error');
    expect(sim.state.migrations[0]?.failureReason).toMatch(/^Remote error: MessagingTimeout/);
    expect(server).toMatchObject({ host: 'compute-1', taskState: null, vmState: 'error' });
  });

  it('a source back before the timeout lets it go on, even after the instance was evacuated (found on test/lab)', async () => {
    const { sim, cloud } = await start({ rpcTimeoutMs: 60_000, evacuateMs: 20 });
    const server = sim.state.addServer({ host: 'compute-1' });
    sim.state.killCompute('compute-1');
    await cloud.liveMigrate(server.id, { host: 'compute-2' });
    await until('dest chosen', () => sim.state.migrations[0]?.destCompute === 'compute-2');
    expect((await liveRecord(cloud, server.id))?.status).toBe('accepted');
    sim.state.host('compute-1').forcedDown = true;
    await cloud.evacuate(server.id, { host: 'compute-3' });
    expect(sim.state.evacuatedWhileMigrating).toBe(1);
    await until('evacuated', () => server.host === 'compute-3' && server.taskState === null);
    sim.state.startCompute('compute-1');
    await until(
      'the stale live migration completed',
      async () => (await liveRecord(cloud, server.id))?.status === 'completed',
    );
    expect(server.host).toBe('compute-2');
  });
});

describe('simulated cold migration', () => {
  it('an ACTIVE server comes back ACTIVE after confirm; a down source refuses 409 with no host named', async () => {
    const { sim, cloud } = await start();
    const server = sim.state.addServer({ host: 'compute-1' });
    await cloud.coldMigrate(server.id, { host: 'compute-2' });
    await until('VERIFY_RESIZE', async () => (await cloud.getServer(server.id))?.status === 'VERIFY_RESIZE');
    await cloud.confirmResize(server.id);
    await until('ACTIVE', async () => (await cloud.getServer(server.id))?.status === 'ACTIVE');
    expect(server.host).toBe('compute-2');

    const other = sim.state.addServer({ host: 'compute-1' });
    sim.state.host('compute-1').forcedDown = true;
    const error = await rejection(cloud.coldMigrate(other.id));
    expect(error.httpStatus).toBe(409);
    expect(error.message).toContain('Service is unavailable at this time.');
    const same = await rejection(cloud.coldMigrate(server.id, { host: 'compute-2' }));
    expect(same.httpStatus).toBe(400);
    expect(same.message).toContain('Cannot migrate to the host where the server exists.');
  });
});

describe('restart of the simulated cloud mid-migration', () => {
  it('a restored live migration goes on to completed', () => {
    const first = new SimulatedCloudState({ liveMigrateMs: 30 });
    const server = first.addServer({ host: 'compute-1' });
    server.taskState = 'migrating';
    const migration = first.newMigration(server, 'live-migration');
    migration.status = 'running';
    migration.requested = { host: 'compute-2', keepStopped: false };
    const snapshot = JSON.parse(JSON.stringify(first.snapshot()));
    first.close();

    const second = new SimulatedCloudState({ liveMigrateMs: 30 });
    second.restore(snapshot);
    const restored = second.servers.get(server.id);
    return until('completed', () => second.migrations[0]?.status === 'completed').then(() => {
      expect(restored).toMatchObject({ host: 'compute-2', taskState: null });
      second.close();
    });
  });
});
