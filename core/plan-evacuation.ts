// Step 5b (PlanTargets): read the candidate hosts' free capacity, the server groups and
// the selected instances' sizes, zones and priorities, and plan where each one lands
// (core/plan-targets.ts). The plan travels in the execution as waves of {id, t}: t indexes
// `targets`, so a host name is in the state once, not once per instance (a state holds at
// most 256 KiB; 1000 instances and 40-character host names took 96 KiB as {id, target}).
// Its one change to the cloud: a reserved (spare) host the plan uses is enabled, since
// Nova's scheduler refuses disabled hosts even as requested destinations; spares that
// get nothing stay disabled in the pool. Enabling an enabled host is a no-op, so a
// retried step is safe.

import {
  DEFAULT_PRIORITY,
  type PlanHost,
  type PlanInstance,
  type PlannedTarget,
  planTargets,
  type RecoveryMethod,
  type TargetPlan,
} from './plan-targets.js';
import type { HypervisorStats, Server, ServerGroup } from './ports.js';
import type { Runtime } from './runtime.js';

export interface PlanEvacuationInput {
  host: string;
  ids: string[];
  /** drain: the waves carry the drain's concurrency (drain.maxConcurrency). */
  purpose?: 'recovery' | 'drain';
}

/** One instance to evacuate: its target is targets[t] (targets[0] is null: Nova's scheduler chooses). */
export interface PlanItem {
  id: string;
  t: number;
}

export interface PlanEvacuationResult {
  method: RecoveryMethod;
  /** The hosts the waves name, by index; index 0 is null: no target. */
  targets: (string | null)[];
  waves: { priority: number; maxConcurrency: number; items: PlanItem[] }[];
  unplacedCount: number;
  /** The first unplaced instances, with why (capped to keep the state small). */
  unplaced: TargetPlan['unplaced'];
  /** Capacity the plan was based on, per host, and how many evacuees each gets. */
  basis: {
    host: string;
    freeRamMb: number;
    freeRamMbAfter: number;
    freeVcpus: number;
    planned: number;
    reserved: boolean;
  }[];
  capacitySource: string;
  /** One line for the timeline, e.g. "spread: compute-2 x5, compute-3 x5". */
  summary: string;
}

const MAX_LISTED = 50;
/** Hosts named in the one-line summary (it is also a line of the report). */
const MAX_SUMMARY_HOSTS = 10;

/** The waves with each target replaced by its index in `targets` (built here, null first). */
export function indexTargets(waves: { priority: number; maxConcurrency: number; items: PlannedTarget[] }[]): {
  targets: (string | null)[];
  waves: PlanEvacuationResult['waves'];
} {
  const targets: (string | null)[] = [null];
  const index = new Map<string | null, number>([[null, 0]]);
  const indexed = waves.map((w) => ({
    ...w,
    items: w.items.map(({ id, target }) => {
      let t = index.get(target);
      if (t === undefined) {
        t = targets.push(target) - 1;
        index.set(target, t);
      }
      return { id, t };
    }),
  }));
  return { targets, waves: indexed };
}

/** "compute-2 x5, compute-3 x5", at most MAX_SUMMARY_HOSTS hosts named. */
function spreadSummary(basis: TargetPlan['basis']): string {
  const used = basis.filter((b) => b.planned);
  const named = used.slice(0, MAX_SUMMARY_HOSTS).map((b) => `${b.host} x${b.planned}`);
  if (used.length > MAX_SUMMARY_HOSTS) named.push(`and ${used.length - MAX_SUMMARY_HOSTS} more hosts`);
  return named.join(', ') || 'nothing to place';
}

function priorityOf(server: Server, key: string): number {
  const value = Number(server.metadata[key]);
  return Number.isFinite(value) ? value : DEFAULT_PRIORITY;
}

/** apply: false for a dry run (`freezer-dr plan`): nothing is enabled. */
export async function planEvacuation(
  rt: Runtime,
  input: PlanEvacuationInput,
  options: { apply: boolean } = { apply: true },
): Promise<PlanEvacuationResult> {
  const policy = rt.policy.placement;
  const maxConcurrency =
    input.purpose === 'drain' ? rt.config.drain.maxConcurrency : rt.policy.evacuation.maxConcurrency;
  const wanted = new Set(input.ids);
  const servers = (await rt.cloud.listServersOnHost(input.host)).filter((s) => wanted.has(s.id));
  // Selected ids Nova no longer lists on the host (already moved, deleted) are planned
  // without a target: EvacuateInstance sorts them out idempotently.
  const missing = input.ids.filter((id) => !servers.some((s) => s.id === id));
  const services = await rt.cloud.listComputeServices();
  const zoneOf = new Map(services.map((s) => [s.host, s.zone]));
  const reserved = new Set(policy.reservedHosts);
  const eligible = services.filter(
    (s) =>
      s.host !== input.host &&
      ((s.status === 'enabled' && s.state === 'up' && !s.forcedDown) ||
        (policy.method === 'reserved' && reserved.has(s.host) && s.state === 'up' && !s.forcedDown)),
  );

  let stats: HypervisorStats[] = [];
  let capacitySource = 'Nova os-hypervisors (2.53)';
  try {
    stats = (await rt.cloud.listHypervisors?.()) ?? [];
    if (!stats.length) capacitySource = 'unavailable: no hypervisor statistics';
  } catch (error) {
    capacitySource = `unavailable: ${(error as Error).message}`;
  }
  let groups: ServerGroup[] = [];
  try {
    groups = (await rt.cloud.listServerGroups?.()) ?? [];
  } catch (error) {
    rt.logger.warn('server groups unreadable; planning without them', { error: (error as Error).message });
  }
  const groupOf = new Map<string, ServerGroup>();
  for (const g of groups) for (const m of g.members) groupOf.set(m, g);

  // Without capacity numbers there is nothing to spread by: let the scheduler choose.
  const method: RecoveryMethod = stats.length ? policy.method : 'scheduler';
  const hosts: PlanHost[] = eligible.map((s) => {
    const h = stats.find((x) => x.host === s.host);
    const free = h
      ? {
          vcpus: h.vcpus - h.vcpusUsed,
          ramMb: h.memoryMb - h.memoryMbUsed,
          diskGb: h.localGb - h.localGbUsed,
        }
      : { vcpus: 0, ramMb: 0, diskGb: 0 };
    return { name: s.host, az: s.zone, free, groups: [], reserved: reserved.has(s.host) };
  });
  // Which groups already have a member running on each candidate host needs each member's host.
  const otherMembers = [...groupOf.keys()].filter((id) => !wanted.has(id));
  if (otherMembers.length) {
    const located = await Promise.all(
      otherMembers.map((id) => rt.cloud.getServer(id).catch(() => undefined)),
    );
    for (const server of located) {
      if (!server?.host) continue;
      const host = hosts.find((h) => h.name === server.host);
      const group = groupOf.get(server.id);
      if (host && group && !host.groups.includes(group.id)) host.groups.push(group.id);
    }
  }
  const instances: PlanInstance[] = servers.map((s) => {
    const group = groupOf.get(s.id);
    return {
      id: s.id,
      name: s.name,
      need: { vcpus: s.flavor.vcpus ?? 1, ramMb: s.flavor.ramMb ?? 512, diskGb: s.flavor.diskGb ?? 1 },
      az: s.availabilityZone ?? zoneOf.get(input.host) ?? null,
      priority: priorityOf(s, policy.priorityKey),
      group: group ? { id: group.id, policy: group.policy } : null,
    };
  });
  const plan = stats.length
    ? planTargets(instances, hosts, method)
    : planTargets(
        instances,
        hosts.map((h) => ({ ...h, free: { vcpus: 1e9, ramMb: 1e12, diskGb: 1e9 } })),
        'scheduler',
      );
  const planned = plan.waves.map((w) => ({
    priority: w.priority,
    maxConcurrency,
    items: w.items,
  }));
  if (missing.length) {
    const last = planned[planned.length - 1];
    const items = missing.map((id) => ({ id, target: null }));
    if (last) last.items.push(...items);
    else
      planned.push({
        priority: DEFAULT_PRIORITY,
        maxConcurrency,
        items,
      });
  }
  const { targets, waves } = indexTargets(planned);
  for (const b of plan.basis) {
    if (!options.apply || !b.reserved || b.planned === 0) continue;
    const spare = services.find((s) => s.host === b.host);
    if (spare && spare.status === 'disabled') {
      await rt.cloud.updateComputeService(spare.id, { status: 'enabled' });
      rt.logger.info('reserved host enabled for evacuees', { host: b.host, planned: b.planned });
    }
  }
  rt.logger.info('targets planned', {
    host: input.host,
    method,
    waves: waves.length,
    unplaced: plan.unplaced.length,
    spread: plan.basis.map((b) => `${b.host}:${b.planned}`).join(' '),
  });
  return {
    method,
    targets,
    waves,
    unplacedCount: plan.unplaced.length,
    unplaced: plan.unplaced.slice(0, MAX_LISTED),
    basis: plan.basis.map((b) => ({
      host: b.host,
      freeRamMb: b.free.ramMb,
      freeRamMbAfter: b.freeAfter.ramMb,
      freeVcpus: b.free.vcpus,
      planned: b.planned,
      reserved: b.reserved,
    })),
    capacitySource,
    summary: `${method}: ${method === 'scheduler' ? 'targets left to the Nova scheduler' : spreadSummary(plan.basis)}${waves.length > 1 ? `, ${waves.length} waves by priority` : ''}${plan.unplaced.length ? `, ${plan.unplaced.length} without room` : ''}`,
  };
}
