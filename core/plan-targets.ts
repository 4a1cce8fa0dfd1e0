// Where each evacuee lands. Pure: given the instances to move and the candidate hosts'
// free capacity, assign targets so evacuees spread in proportion to free capacity
// (each pick goes to the host whose free capacity would be least used, by its dominant
// resource), honouring server groups and availability zones, highest priority first.
// Nova's scheduler cannot do this for concurrent evacuations: they do not see each
// other's claims, and on the lab they stacked on one host in 5 of 6 runs.
import type { GroupPolicy } from './ports.js';

export interface Resources {
  vcpus: number;
  ramMb: number;
  diskGb: number;
}

export interface PlanInstance {
  id: string;
  name: string;
  need: Resources;
  az: string | null;
  /** Lower comes back first (metadata ha:priority); instances without one share the last wave. */
  priority: number;
  group: { id: string; policy: GroupPolicy } | null;
}

export interface PlanHost {
  name: string;
  az: string | null;
  free: Resources;
  /** Server groups with a member already running on this host (not being evacuated). */
  groups: string[];
  /** A reserved host: filled first when the method is `reserved`. */
  reserved?: boolean;
}

export type RecoveryMethod = 'scheduler' | 'spread' | 'reserved';

export interface PlannedTarget {
  id: string;
  /** null: let Nova's scheduler choose. */
  target: string | null;
}

export interface TargetPlan {
  method: RecoveryMethod;
  /** In order: a wave starts once the previous one has settled. */
  waves: { priority: number; items: PlannedTarget[] }[];
  unplaced: { id: string; name: string; reason: string }[];
  /** The capacity the plan was based on, and what it leaves. */
  basis: {
    host: string;
    az: string | null;
    reserved: boolean;
    free: Resources;
    planned: number;
    freeAfter: Resources;
  }[];
}

export const DEFAULT_PRIORITY = 1000;
const KEYS: (keyof Resources)[] = ['vcpus', 'ramMb', 'diskGb'];

const add = (a: Resources, b: Resources): Resources => ({
  vcpus: a.vcpus + b.vcpus,
  ramMb: a.ramMb + b.ramMb,
  diskGb: a.diskGb + b.diskGb,
});
const size = (r: Resources) => r.ramMb + r.vcpus * 1024 + r.diskGb * 64;

/** Share of the host's free capacity in use after adding `need`, by its dominant resource (>1: does not fit). */
function share(free: Resources, used: Resources, need: Resources): number {
  let worst = 0;
  for (const key of KEYS) {
    const total = used[key] + need[key];
    if (total === 0) continue;
    worst = Math.max(worst, free[key] <= 0 ? Number.POSITIVE_INFINITY : total / free[key]);
  }
  return worst;
}

interface Unit {
  members: PlanInstance[];
  need: Resources;
  priority: number;
  az: string | null;
  group: PlanInstance['group'];
}

/** Affinity groups move as one unit; everything else one instance at a time. */
function units(instances: PlanInstance[]): Unit[] {
  const out: Unit[] = [];
  const affinity = new Map<string, Unit>();
  for (const instance of instances) {
    if (instance.group?.policy === 'affinity') {
      const unit = affinity.get(instance.group.id);
      if (unit) {
        unit.members.push(instance);
        unit.need = add(unit.need, instance.need);
        unit.priority = Math.min(unit.priority, instance.priority);
        continue;
      }
      const created: Unit = {
        members: [instance],
        need: { ...instance.need },
        priority: instance.priority,
        az: instance.az,
        group: instance.group,
      };
      affinity.set(instance.group.id, created);
      out.push(created);
    } else {
      out.push({
        members: [instance],
        need: { ...instance.need },
        priority: instance.priority,
        az: instance.az,
        group: instance.group,
      });
    }
  }
  return out.sort(
    (a, b) =>
      a.priority - b.priority ||
      size(b.need) - size(a.need) ||
      (a.members[0]?.id ?? '').localeCompare(b.members[0]?.id ?? ''),
  );
}

export function planTargets(
  instances: PlanInstance[],
  hosts: PlanHost[],
  method: RecoveryMethod,
): TargetPlan {
  const used = new Map(hosts.map((h) => [h.name, { vcpus: 0, ramMb: 0, diskGb: 0 } as Resources]));
  const planned = new Map(hosts.map((h) => [h.name, 0]));
  const groupsOn = new Map(hosts.map((h) => [h.name, new Set(h.groups)]));
  const assigned = new Map<string, string | null>();
  const unplaced: TargetPlan['unplaced'] = [];

  for (const unit of units(instances)) {
    const candidates = hosts.filter((h) => {
      if (unit.az && h.az && unit.az !== h.az) return false;
      const groups = groupsOn.get(h.name) as Set<string>;
      if (unit.group?.policy === 'anti-affinity' && groups.has(unit.group.id)) return false;
      if (unit.group?.policy === 'affinity') {
        // Members still running elsewhere pin the group to their host.
        const pinned = hosts.find((other) => other.groups.includes(unit.group?.id as string));
        if (pinned && pinned.name !== h.name) return false;
      }
      return share(h.free, used.get(h.name) as Resources, unit.need) <= 1;
    });
    const score = (h: PlanHost) => {
      let s = share(h.free, used.get(h.name) as Resources, unit.need);
      if (method === 'reserved' && !h.reserved) s += 10; // reserved hosts are filled first
      if (unit.group?.policy === 'soft-anti-affinity' && groupsOn.get(h.name)?.has(unit.group.id)) s += 1;
      if (unit.group?.policy === 'soft-affinity' && !groupsOn.get(h.name)?.has(unit.group.id)) s += 1;
      return s;
    };
    const best = candidates.sort((a, b) => score(a) - score(b) || a.name.localeCompare(b.name))[0];
    if (!best) {
      const why =
        unit.group?.policy === 'anti-affinity' &&
        hosts.every((h) => groupsOn.get(h.name)?.has(unit.group?.id as string))
          ? `anti-affinity group ${unit.group.id} already has a member on every remaining host`
          : `no remaining host${unit.az ? ` in ${unit.az}` : ''} has room for ${unit.need.vcpus} vCPU / ${unit.need.ramMb} MB${unit.members.length > 1 ? ` (affinity group of ${unit.members.length})` : ''}`;
      for (const m of unit.members) unplaced.push({ id: m.id, name: m.name, reason: why });
      continue;
    }
    used.set(best.name, add(used.get(best.name) as Resources, unit.need));
    planned.set(best.name, (planned.get(best.name) ?? 0) + unit.members.length);
    if (unit.group) groupsOn.get(best.name)?.add(unit.group.id);
    for (const m of unit.members) assigned.set(m.id, method === 'scheduler' ? null : best.name);
  }

  const byPriority = new Map<number, PlannedTarget[]>();
  for (const instance of [...instances].sort((a, b) => a.priority - b.priority)) {
    if (!assigned.has(instance.id)) continue;
    const wave = byPriority.get(instance.priority) ?? [];
    wave.push({ id: instance.id, target: assigned.get(instance.id) ?? null });
    byPriority.set(instance.priority, wave);
  }
  return {
    method,
    waves: [...byPriority.entries()]
      .sort(([a], [b]) => a - b)
      .map(([priority, items]) => ({ priority, items })),
    unplaced,
    basis: hosts.map((h) => {
      const u = used.get(h.name) as Resources;
      return {
        host: h.name,
        az: h.az,
        reserved: h.reserved === true,
        free: h.free,
        planned: planned.get(h.name) ?? 0,
        freeAfter: {
          vcpus: h.free.vcpus - u.vcpus,
          ramMb: h.free.ramMb - u.ramMb,
          diskGb: h.free.diskGb - u.diskGb,
        },
      };
    }),
  };
}
