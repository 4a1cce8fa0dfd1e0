// Faults during a host drain (statemachine/host-drain.asl.json): Nova refusing a live
// migration, one that never finishes, the host dying mid-drain (its recovery takes over),
// hosts left too small for the drain, and a storm of degraded alerts. What must hold: no
// instance is ever both live-migrated and evacuated, no evacuation before the power is
// verified off, an instance that cannot move stays running where it is. "completed" counts
// drains that emptied their host.
import { afterEach, describe, expect } from 'vitest';
import type { SimServer } from '../../drivers/cloud/simulated/state.js';
import { until } from '../support/serve-process.js';
import { faultGroup } from './support/campaign.js';
import { kinds } from './support/checks.js';
import { type Run, type Scene, type SceneOptions, startScene } from './support/scene.js';

const faultCase = faultGroup('drain');
let scene: Scene | null = null;
afterEach(async () => {
  await scene?.close();
  scene = null;
});

async function open(options: SceneOptions = {}): Promise<Scene> {
  scene = await startScene({ hosts: 4, sim: { liveMigrateMs: 60, ...options.sim }, ...options });
  return scene;
}

const emptied = (run: Run) => run.outcome.status === 'SUCCEEDED';
const servers = (s: Scene, host: string, count: number, extra: Partial<SimServer> = {}) =>
  Array.from({ length: count }, (_, i) =>
    s.sim.state.addServer({ host, name: `${host}-vm-${i + 1}`, ...extra }),
  );

describe('drain faults', () => {
  faultCase(
    {
      name: 'migration-refused',
      fault: 'Nova refuses the live migration of one of five instances (400: a vTPM)',
      expected:
        'four moved live; the refused one stays running where it is, reported; the run says the host still holds 1',
      completions: 0,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const movable = servers(s, 'compute-1', 4);
      const [refused] = servers(s, 'compute-1', 1, {
        name: 'vtpm',
        liveMigrationFault: {
          refuse: { status: 400, message: 'Operation not supported for an instance with a vTPM.' },
        },
      });
      const run = await s.drain('compute-1');
      expect(run.outcome.error).toBe('Drain.Incomplete');
      expect(run.outcome.cause).toContain('degraded host still holds 1 instance');
      for (const server of movable) expect(server.host).not.toBe('compute-1');
      expect(refused).toMatchObject({ host: 'compute-1', vmState: 'active', taskState: null });
      expect(s.sim.state.counters.evacuateAccepted.size).toBe(0);
      return {
        actual: `${run.outcome.error}: ${run.outcome.cause}`,
        completed: s.drainRuns.filter(emptied).length,
      };
    },
  );

  faultCase(
    {
      name: 'migration-timeout',
      fault: 'one live migration never finishes (its record stays running), drain.timeoutSeconds 1',
      expected: 'the others moved; the stuck one reported not completed and left alone; nothing evacuated',
      completions: 0,
    },
    async (c) => {
      const s = await open({ drain: { timeoutSeconds: 1 } });
      c.witness(s.evidence);
      const movable = servers(s, 'compute-1', 3);
      const [stuck] = servers(s, 'compute-1', 1, { name: 'stuck', liveMigrationFault: 'hang' });
      const run = await s.drain('compute-1');
      expect(run.outcome.error).toBe('Drain.Incomplete');
      for (const server of movable) expect(server.host).not.toBe('compute-1');
      expect(stuck?.host).toBe('compute-1');
      const report = s.memory.reports.find((r) => r.kind === 'drain');
      expect(report?.instances.find((i) => i.name === 'stuck')?.reason).toMatch(/not completed after 1 s/);
      expect(s.sim.state.counters.evacuateAccepted.size).toBe(0);
      return {
        actual: `${run.outcome.error}: ${run.outcome.cause}`,
        completed: s.drainRuns.filter(emptied).length,
      };
    },
  );

  faultCase(
    {
      name: 'host-dies-mid-drain',
      fault:
        'nova-compute dies while two slow live migrations are in flight and four instances wait their turn',
      expected:
        'the drain stops and hands over; the recovery fences, evacuates the four, and never evacuates the two in flight',
      completions: 0,
    },
    async (c) => {
      const s = await open({ drain: { maxConcurrency: 2 } });
      c.witness(s.evidence);
      // The slow ones first (restart priority 1: the first wave), the others in the next wave.
      const slow = servers(s, 'compute-1', 2, { liveMigrateMs: 60_000, metadata: { 'ha:priority': '1' } });
      const waiting = servers(s, 'compute-1', 4).map((v, i) =>
        Object.assign(v, { name: `waiting-${i + 1}` }),
      );
      const drained = s.drain('compute-1');
      await until(
        async () => slow.filter((v) => v.taskState === 'migrating').length,
        (n) => n === 2,
        30_000,
      );
      s.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
      const run = await drained;
      const runs = await s.settle();
      expect(run.outcome.error).toBe('Drain.HandedOver');
      expect(runs.map((r) => r.host)).toEqual(['compute-1']);
      for (const server of waiting) {
        expect(server.host).not.toBe('compute-1');
        expect(s.sim.state.counters.liveMigrateAccepted.has(server.id)).toBe(false);
        expect(s.sim.state.counters.evacuateAccepted.get(server.id)).toBe(1);
      }
      for (const server of slow) {
        expect(s.sim.state.counters.evacuateAccepted.has(server.id)).toBe(false);
        expect(server.host).toBe('compute-1');
      }
      expect(s.sim.state.host('compute-1').power).toBe('off');
      expect(kinds(s)).toEqual(expect.arrayContaining(['drain', 'recovery']));
      return {
        actual: `drain ${run.outcome.error}; recovery ${runs[0]?.outcome.status} (${runs[0]?.outcome.cause ?? ''})`,
        completed: s.drainRuns.filter(emptied).length,
      };
    },
  );

  faultCase(
    {
      name: 'capacity-too-small',
      fault: 'the hosts left cannot hold the degraded host’s instances',
      expected: 'refused with a report; the host is not disabled, nothing moves',
      completions: 0,
    },
    async (c) => {
      const s = await open({ hosts: 2, sim: { hostRamMb: 4096 } });
      c.witness(s.evidence);
      const big = servers(s, 'compute-1', 3, { ramMb: 2048 });
      const run = await s.drain('compute-1');
      expect(run.outcome.error).toBe('Drain.CapacityShort');
      expect(s.sim.state.host('compute-1').status).toBe('enabled');
      for (const server of big) expect(server.host).toBe('compute-1');
      expect(s.sim.state.migrations).toEqual([]);
      expect(kinds(s)).toEqual(['drain-refused']);
      return {
        actual: `${run.outcome.error}: ${run.outcome.cause}`,
        completed: s.drainRuns.filter(emptied).length,
      };
    },
  );

  faultCase(
    {
      name: 'degraded-alert-storm',
      fault: 'all six hosts reported degraded in one Alertmanager group, twice (drain.maxRunning 1)',
      expected:
        'one drain, which empties its host; five refused as drains-busy, each host told once; nothing evacuated',
      completions: 1,
    },
    async (c) => {
      const s = await open({ hosts: 6 });
      c.witness(s.evidence);
      for (let i = 1; i <= 6; i += 1) servers(s, `compute-${i}`, 2);
      const storm = {
        version: '4',
        groupKey: '{}:{alertname="EccStorm"}',
        status: 'firing',
        alerts: Array.from({ length: 6 }, (_, i) => ({
          status: 'firing',
          labels: { alertname: 'EccStorm', host: `compute-${i + 1}`, freezer_dr_action: 'drain' },
          fingerprint: `ecc${i}`,
        })),
      };
      const first = await s.post(storm);
      const second = await s.post(storm);
      await s.settle();
      const reasons = (body: Record<string, unknown>) =>
        ((body.outcomes ?? []) as { reason: string }[]).map((o) => o.reason).sort();
      expect(reasons(first.body)).toEqual(['drain-started', ...Array(5).fill('drains-busy')]);
      expect(s.drainRuns).toHaveLength(1);
      expect(s.runs).toEqual([]);
      const notices = s.memory.reports.filter((r) => r.kind === 'drain-refused').map((r) => r.host);
      expect(new Set(notices).size).toBe(notices.length);
      expect(notices).toHaveLength(5);
      return {
        actual: `first: ${reasons(first.body).join(', ')}; second: ${reasons(second.body).length} decisions; ${s.drainRuns.filter(emptied).length} drain emptied its host`,
        completed: s.drainRuns.filter(emptied).length,
      };
    },
  );
});
