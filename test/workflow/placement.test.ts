// Where evacuees land, through the real workflow on the SIMULATED cloud: spread by free
// capacity, server groups, restart-priority waves, capacity shortfall, reserved hosts.
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, recoveryInput, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => h?.close());

const GB = 1024;
const landed = (h: Harness, ids: string[]) => {
  const out: Record<string, number> = {};
  for (const id of ids) {
    const host = h.sim.state.servers.get(id)?.host as string;
    out[host] = (out[host] ?? 0) + 1;
  }
  return out;
};

describe('target planning (simulated cloud)', () => {
  it('spreads evacuees in proportion to the free capacity of the hosts left', async () => {
    h = await startHarness({ sim: { hosts: ['compute-1', 'compute-2', 'compute-3'] } });
    const { state } = h.sim;
    state.host('compute-2').capacity = { vcpus: 64, ramMb: 16 * GB + 512, diskGb: 500 };
    state.host('compute-3').capacity = { vcpus: 64, ramMb: 8 * GB + 512, diskGb: 500 };
    const ids = Array.from(
      { length: 12 },
      (_, i) => state.addServer({ host: 'compute-1', name: `vm-${i}`, ramMb: GB }).id,
    );
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const outcome = await h.engine.start(recoveryInput('compute-1')).done;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(landed(h, ids)).toEqual({ 'compute-2': 8, 'compute-3': 4 });
    const output = outcome.output as {
      plan: { method: string; summary: string; basis: { host: string; planned: number }[] };
    };
    expect(output.plan.method).toBe('spread');
    expect(output.plan.summary).toBe('spread: compute-2 x8, compute-3 x4');
    expect(h.notifier.reports.at(-1)?.timeline.map((s) => s.detail)).toContain(
      'spread: compute-2 x8, compute-3 x4',
    );
  });

  it('with the scheduler method lets Nova choose (which stacks concurrent evacuees)', async () => {
    h = await startHarness({ recovery: { placement: { method: 'scheduler' } } });
    const ids = Array.from({ length: 6 }, () => h.sim.state.addServer({ host: 'compute-1' }).id);
    h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    expect((await h.engine.start(recoveryInput('compute-1')).done).status).toBe('SUCCEEDED');
    expect(Object.values(landed(h, ids)).reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('never lands two members of an anti-affinity group together, nor next to a member still running', async () => {
    h = await startHarness({ sim: { hosts: ['compute-1', 'compute-2', 'compute-3', 'compute-4'] } });
    const { state } = h.sim;
    const a = state.addServer({ host: 'compute-1', name: 'db-a' });
    const b = state.addServer({ host: 'compute-1', name: 'db-b' });
    const c = state.addServer({ host: 'compute-2', name: 'db-c' });
    for (let i = 0; i < 4; i += 1) state.addServer({ host: 'compute-1', name: `web-${i}` });
    state.addServerGroup('anti-affinity', [a.id, b.id, c.id]);
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    expect((await h.engine.start(recoveryInput('compute-1')).done).status).toBe('SUCCEEDED');
    const hosts = [a.host, b.host, c.host];
    expect(new Set(hosts).size).toBe(3);
    expect(hosts).not.toContain('compute-1');
  });

  it('restores in waves by ha:priority: a wave starts once the previous one has settled', async () => {
    h = await startHarness({ sim: { evacuateMs: 80 } });
    const { state } = h.sim;
    const db = [1, 2].map((i) =>
      state.addServer({ host: 'compute-1', name: `db-${i}`, metadata: { 'ha:priority': '10' } }),
    );
    const web = [1, 2, 3].map((i) =>
      state.addServer({ host: 'compute-1', name: `web-${i}`, metadata: { 'ha:priority': '20' } }),
    );
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const run = h.engine.start(recoveryInput('compute-1'));
    expect((await run.done).status).toBe('SUCCEEDED');
    const at = (type: string, state: string, ids: string[]) =>
      run.events
        .filter((e) => e.type === type && 'state' in e && e.state.name === state)
        .filter((e) =>
          ids.includes(
            ((e as { state: { input: { id?: string } } }).state.input as { id?: string }).id ?? '',
          ),
        )
        .map((e) => e.timestamp);
    const dbSettled = Math.max(
      ...at(
        'StateExited',
        'VerifyInstance',
        db.map((s) => s.id),
      ),
    );
    const webStarted = Math.min(
      ...at(
        'StateEntered',
        'EvacuateInstance',
        web.map((s) => s.id),
      ),
    );
    expect(webStarted).toBeGreaterThanOrEqual(dbSettled);
    const output = (await run.done).output as { plan: { waves: { priority: number; items: unknown[] }[] } };
    expect(output.plan.waves.map((w) => [w.priority, w.items.length])).toEqual([
      [10, 2],
      [20, 3],
    ]);
  });

  it('reports a shortfall to the admins before evacuating, and places the highest priorities first', async () => {
    h = await startHarness({ sim: { hosts: ['compute-1', 'compute-2'] } });
    const { state } = h.sim;
    state.host('compute-2').capacity = { vcpus: 64, ramMb: 2 * GB + 512, diskGb: 500 };
    const important = state.addServer({
      host: 'compute-1',
      name: 'db',
      ramMb: GB,
      metadata: { 'ha:priority': '1' },
    });
    const also = state.addServer({
      host: 'compute-1',
      name: 'api',
      ramMb: GB,
      metadata: { 'ha:priority': '2' },
    });
    const batch = state.addServer({ host: 'compute-1', name: 'batch', ramMb: GB });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const outcome = await h.engine.start(recoveryInput('compute-1')).done;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('Recovery.Incomplete');
    expect(important.host).toBe('compute-2');
    expect(also.host).toBe('compute-2');
    expect(batch.host).toBe('compute-1');
    expect(state.counters.evacuateAccepted.has(batch.id)).toBe(false);
    const [shortfall, final] = h.notifier.reports;
    expect(shortfall?.kind).toBe('capacity-shortfall');
    expect(shortfall?.instances.map((i) => i.name)).toEqual(['batch']);
    expect(final?.counts).toMatchObject({ recovered: 2, failed: 1 });
  });

  it('fills an enabled spare from the reserved pool first, then spreads; unused spares stay in the pool', async () => {
    h = await startHarness({
      sim: { hosts: ['compute-1', 'compute-2', 'spare-1', 'spare-2'] },
      recovery: { placement: { method: 'reserved', reservedHosts: ['spare-1', 'spare-2'] } },
    });
    const { state } = h.sim;
    for (const spare of ['spare-1', 'spare-2']) {
      state.host(spare).status = 'disabled';
      state.host(spare).disabledReason = 'freezer-dr reserved';
    }
    state.host('spare-1').capacity = { vcpus: 64, ramMb: 3 * GB + 512, diskGb: 500 };
    state.host('spare-2').capacity = { vcpus: 0, ramMb: 512, diskGb: 0 };
    const ids = Array.from(
      { length: 5 },
      (_, i) => state.addServer({ host: 'compute-1', name: `vm-${i}`, ramMb: GB }).id,
    );
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    expect((await h.engine.start(recoveryInput('compute-1')).done).status).toBe('SUCCEEDED');
    expect(landed(h, ids)).toEqual({ 'spare-1': 3, 'compute-2': 2 });
    expect(state.host('spare-1').status).toBe('enabled');
    expect(state.host('spare-2').status).toBe('disabled');
  });

  it('retries without a target when the planned host cannot take the instance', async () => {
    h = await startHarness({ sim: { hosts: ['compute-1', 'compute-2', 'compute-3'] } });
    const { state } = h.sim;
    const server = state.addServer({ host: 'compute-1' });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    state.host('compute-3').capacity = { vcpus: 1, ramMb: 512, diskGb: 1 }; // plan picks compute-2
    // compute-2 is disabled after planning, as the evacuation bound for it reaches Nova.
    const runEvacuation = state.runEvacuation.bind(state);
    state.runEvacuation = (instance, migration, target, keepStopped) => {
      if (target === 'compute-2') {
        state.host('compute-2').status = 'disabled';
        state.host('compute-3').capacity = undefined;
      }
      runEvacuation(instance, migration, target, keepStopped);
    };
    const run = h.engine.start(recoveryInput('compute-1'));
    expect((await run.done).status).toBe('SUCCEEDED');
    expect(server.host).toBe('compute-3');
    expect(state.migrations.filter((m) => m.instanceId === server.id).map((m) => m.status)).toEqual([
      'error',
      'done',
    ]);
  });
});
