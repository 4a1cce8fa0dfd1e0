// A dry run of a host recovery: whether Nova would confirm the failure, what would be
// fenced, which instances the policy would evacuate, and whether the hosts left (enabled,
// up, not forced down) have room for them. Only reads: no power call but a status query,
// no service update, no evacuation.
import type { ComputeService, HypervisorStats, PowerState } from '../drivers/types.js';
import { confirmHostFailure } from './confirm-failure.js';
import type { Runtime } from './runtime.js';
import { skipReason } from './select-instances.js';

export interface PlannedInstance {
  id: string;
  name: string;
  status: string;
  evacuate: boolean;
  skipReason: string | null;
  vcpus: number | null;
  ramMb: number | null;
}

export interface TargetHost {
  host: string;
  vcpus: number;
  vcpusUsed: number;
  ramMbFree: number;
  /** Free RAM once the planned instances are placed (first fit, largest first). */
  ramMbFreeAfter: number;
  placed: number;
}

export interface RecoveryPlan {
  host: string;
  service: ComputeService | null;
  /** Whether the workflow's first step would confirm the failure now, and why. */
  confirm: { confirmed: boolean; evidence: string };
  fence: {
    method: string;
    controller: string;
    recordOnly: boolean;
    power: PowerState | null;
    powerError: string | null;
  };
  instances: PlannedInstance[];
  capacity: {
    /** Where the numbers come from, or why there are none. */
    source: string;
    targets: TargetHost[];
    needed: { instances: number; vcpus: number; ramMb: number };
    /** null when capacity could not be read or instance sizes are unknown. */
    fits: boolean | null;
    unplaced: string[];
    notes: string[];
  };
}

async function readCapacity(
  rt: Runtime,
  failed: string,
  services: ComputeService[],
  planned: PlannedInstance[],
): Promise<RecoveryPlan['capacity']> {
  const needed = {
    instances: planned.length,
    vcpus: planned.reduce((sum, i) => sum + (i.vcpus ?? 0), 0),
    ramMb: planned.reduce((sum, i) => sum + (i.ramMb ?? 0), 0),
  };
  const notes: string[] = [];
  const usable = new Set(
    services
      .filter((s) => s.host !== failed && s.status === 'enabled' && s.state === 'up' && !s.forcedDown)
      .map((s) => s.host),
  );
  if (!rt.cloud.listHypervisors) {
    return {
      source: `not available from the ${rt.cloud.kind} driver`,
      targets: [],
      needed,
      fits: null,
      unplaced: [],
      notes,
    };
  }
  const stats: HypervisorStats[] = await rt.cloud.listHypervisors();
  const targets: TargetHost[] = stats
    .filter((h) => usable.has(h.host))
    .map((h) => {
      const free = h.memoryMb - h.memoryMbUsed;
      return {
        host: h.host,
        vcpus: h.vcpus,
        vcpusUsed: h.vcpusUsed,
        ramMbFree: free,
        ramMbFreeAfter: free,
        placed: 0,
      };
    });
  const source = 'Nova hypervisor statistics (os-hypervisors/detail at microversion 2.53)';
  if (!targets.length) {
    notes.push('no other compute host is enabled and up: nothing could be evacuated');
    return { source, targets, needed, fits: planned.length === 0, unplaced: planned.map((i) => i.id), notes };
  }
  if (planned.some((i) => i.ramMb === null)) {
    notes.push(
      'instance sizes unknown (Nova older than 2.47 does not embed the flavor): capacity not judged',
    );
    return { source, targets, needed, fits: null, unplaced: [], notes };
  }
  // The scheduler's real choice depends on its filters and weights; first fit by RAM,
  // largest first, is a fair check of whether the room exists at all.
  const unplaced: string[] = [];
  for (const instance of [...planned].sort((a, b) => (b.ramMb ?? 0) - (a.ramMb ?? 0))) {
    const target = targets
      .filter((t) => t.ramMbFreeAfter >= (instance.ramMb ?? 0))
      .sort((a, b) => b.ramMbFreeAfter - a.ramMbFreeAfter)[0];
    if (!target) {
      unplaced.push(instance.id);
      continue;
    }
    target.ramMbFreeAfter -= instance.ramMb ?? 0;
    target.placed += 1;
  }
  const vcpuFree = targets.reduce((sum, t) => sum + (t.vcpus - t.vcpusUsed), 0);
  if (needed.vcpus > vcpuFree) {
    notes.push(
      `needs ${needed.vcpus} vCPUs, ${vcpuFree} physical vCPUs free: fits only with Placement's cpu_allocation_ratio above 1`,
    );
  }
  notes.push('RAM is judged without overcommit (ram_allocation_ratio 1.0); Placement may allow more');
  return { source, targets, needed, fits: unplaced.length === 0, unplaced, notes };
}

export async function planRecovery(rt: Runtime, host: string): Promise<RecoveryPlan> {
  const services = await rt.cloud.listComputeServices();
  const service = services.find((s) => s.host === host) ?? null;
  const confirm = await confirmHostFailure(rt, { host }).then(
    (result) => ({ confirmed: true, evidence: result.evidence }),
    (error: Error) => ({ confirmed: false, evidence: error.message }),
  );
  let power: PowerState | null = null;
  let powerError: string | null = null;
  if (!rt.fencer.recordOnly) {
    try {
      power = await rt.fencer.powerStatus(host);
    } catch (error) {
      powerError = (error as Error).message;
    }
  }
  const servers = service ? await rt.cloud.listServersOnHost(host) : [];
  const instances: PlannedInstance[] = servers
    .filter((s) => !s.host || s.host === host)
    .map((server) => {
      const reason = skipReason(server, rt.policy.selection);
      return {
        id: server.id,
        name: server.name,
        status: server.status,
        evacuate: reason === null,
        skipReason: reason,
        vcpus: server.flavor.vcpus ?? null,
        ramMb: server.flavor.ramMb ?? null,
      };
    });
  const capacity = await readCapacity(
    rt,
    host,
    services,
    instances.filter((i) => i.evacuate),
  );
  return {
    host,
    service,
    confirm,
    fence: {
      method: rt.fencer.kind,
      controller: rt.fencer.describe(host),
      recordOnly: rt.fencer.recordOnly,
      power,
      powerError,
    },
    instances,
    capacity,
  };
}
