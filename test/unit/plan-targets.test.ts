// The target planner on its own: proportional spread, server groups, zones, waves, shortfall.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRIORITY, type PlanHost, type PlanInstance, planTargets } from '../../core/plan-targets.js';

const small = { vcpus: 1, ramMb: 512, diskGb: 1 };
const vm = (id: string, extra: Partial<PlanInstance> = {}): PlanInstance => ({
  id,
  name: id,
  need: small,
  az: null,
  priority: DEFAULT_PRIORITY,
  group: null,
  ...extra,
});
const host = (name: string, ramMb: number, extra: Partial<PlanHost> = {}): PlanHost => ({
  name,
  az: null,
  free: { vcpus: 1000, ramMb, diskGb: 1000 },
  groups: [],
  ...extra,
});
const counts = (plan: ReturnType<typeof planTargets>) => {
  const out: Record<string, number> = {};
  for (const wave of plan.waves)
    for (const item of wave.items)
      out[item.target ?? 'scheduler'] = (out[item.target ?? 'scheduler'] ?? 0) + 1;
  return out;
};

describe('planTargets', () => {
  it('spreads evacuees in proportion to free capacity', () => {
    const instances = Array.from({ length: 30 }, (_, i) => vm(`vm-${i}`));
    const plan = planTargets(instances, [host('big', 512 * 40), host('small', 512 * 20)], 'spread');
    expect(counts(plan)).toEqual({ big: 20, small: 10 });
    expect(plan.unplaced).toEqual([]);
    expect(plan.basis.find((b) => b.host === 'big')?.freeAfter.ramMb).toBe(512 * 20);
  });

  it('never puts two members of an anti-affinity group on one host, nor next to a member still running', () => {
    const group = { id: 'g1', policy: 'anti-affinity' as const };
    const instances = ['a', 'b', 'c'].map((id) => vm(id, { group }));
    const hosts = [
      host('h1', 100_000),
      host('h2', 100_000),
      host('h3', 100_000, { groups: ['g1'] }),
      host('h4', 100_000),
    ];
    const plan = planTargets(instances, hosts, 'spread');
    const targets = plan.waves.flatMap((w) => w.items.map((i) => i.target));
    expect(new Set(targets).size).toBe(3);
    expect(targets).not.toContain('h3');
    const tooMany = planTargets(
      ['a', 'b', 'c', 'd'].map((id) => vm(id, { group })),
      hosts,
      'spread',
    );
    expect(tooMany.unplaced).toHaveLength(1);
    expect(tooMany.unplaced[0]?.reason).toContain('anti-affinity group g1');
  });

  it('keeps an affinity group together, on the host where its other members run', () => {
    const group = { id: 'g2', policy: 'affinity' as const };
    const plan = planTargets(
      ['a', 'b'].map((id) => vm(id, { group })),
      [host('h1', 100_000), host('h2', 100_000, { groups: ['g2'] })],
      'spread',
    );
    expect(plan.waves[0]?.items.map((i) => i.target)).toEqual(['h2', 'h2']);
  });

  it('stays in the instance’s availability zone', () => {
    const plan = planTargets(
      [vm('a', { az: 'az2' })],
      [host('h1', 100_000, { az: 'az1' }), host('h2', 1024, { az: 'az2' })],
      'spread',
    );
    expect(plan.waves[0]?.items[0]?.target).toBe('h2');
  });

  it('orders waves by priority, and when capacity is short places the highest priority first', () => {
    const instances = [
      vm('web', { priority: 20 }),
      vm('db', { priority: 10 }),
      vm('batch'),
      vm('cache', { priority: 20 }),
    ];
    const plan = planTargets(instances, [host('h1', 512 * 3)], 'spread');
    expect(plan.waves.map((w) => [w.priority, w.items.map((i) => i.id).sort()])).toEqual([
      [10, ['db']],
      [20, ['cache', 'web']],
    ]);
    expect(plan.unplaced.map((u) => u.id)).toEqual(['batch']);
    expect(plan.unplaced[0]?.reason).toContain('no remaining host has room');
  });

  it('fills reserved hosts first with the reserved method, and names no target with the scheduler method', () => {
    const instances = Array.from({ length: 4 }, (_, i) => vm(`vm-${i}`));
    const hosts = [host('h1', 100_000), host('spare', 512 * 3, { reserved: true })];
    expect(counts(planTargets(instances, hosts, 'reserved'))).toEqual({ spare: 3, h1: 1 });
    expect(counts(planTargets(instances, hosts, 'scheduler'))).toEqual({ scheduler: 4 });
  });
});
