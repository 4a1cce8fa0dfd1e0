// A dry run of a host recovery: whether Nova would confirm the failure, what would be
// fenced, which instances the policy would evacuate, and whether the hosts left (enabled,
// up, not forced down) have room for them and where each would land (the same planner as
// the PlanTargets step). Only reads: no power call but a status query, no service update,
// no evacuation.

import { planEvacuation } from './plan-evacuation.js';
import type { ComputeService, PowerState } from './ports.js';
import type { Runtime } from './runtime.js';
import { skipReason } from './select-instances.js';
import { assessService } from './service-health.js';

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
  freeVcpus: number;
  ramMbFree: number;
  /** Free RAM once the planned instances are placed. */
  ramMbFreeAfter: number;
  placed: number;
  reserved: boolean;
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
    /** Restart-priority waves, in order, and the placement method. */
    waves: { priority: number; instances: number }[];
    method: string;
    notes: string[];
  };
}

async function readCapacity(
  rt: Runtime,
  failed: string,
  planned: PlannedInstance[],
): Promise<RecoveryPlan['capacity']> {
  const needed = {
    instances: planned.length,
    vcpus: planned.reduce((sum, i) => sum + (i.vcpus ?? 0), 0),
    ramMb: planned.reduce((sum, i) => sum + (i.ramMb ?? 0), 0),
  };
  // The same planner the workflow's PlanTargets step runs, without its one change (enabling spares).
  const plan = await planEvacuation(rt, { host: failed, ids: planned.map((i) => i.id) }, { apply: false });
  const notes: string[] = [plan.summary];
  if (!plan.basis.length) notes.push('no other compute host is enabled and up: nothing could be evacuated');
  if (planned.some((i) => i.ramMb === null)) {
    notes.push(
      'instance sizes unknown (Nova older than 2.47 does not embed the flavor): 1 vCPU / 512 MB assumed',
    );
  }
  notes.push('RAM and vCPUs are judged without overcommit (allocation ratio 1.0); Placement may allow more');
  const judged = !plan.capacitySource.startsWith('unavailable');
  return {
    source: plan.capacitySource,
    targets: plan.basis.map((b) => ({
      host: b.host,
      freeVcpus: b.freeVcpus,
      ramMbFree: b.freeRamMb,
      ramMbFreeAfter: b.freeRamMbAfter,
      placed: b.planned,
      reserved: b.reserved,
    })),
    needed,
    fits: judged ? plan.unplacedCount === 0 && plan.basis.length > 0 : null,
    unplaced: plan.unplaced.map((u) => u.id),
    waves: plan.waves.map((w) => ({ priority: w.priority, instances: w.items.length })),
    method: plan.method,
    notes,
  };
}

export async function planRecovery(rt: Runtime, host: string): Promise<RecoveryPlan> {
  const services = await rt.cloud.listComputeServices();
  const service = services.find((s) => s.host === host) ?? null;
  // What ConfirmHostFailure would read now (a dry run: no notice is claimed, nothing waits).
  const health = service ? assessService(service, rt.policy.confirm.staleAfterSeconds) : null;
  const confirm = health
    ? { confirmed: health.down, evidence: health.evidence }
    : { confirmed: false, evidence: `Nova has no nova-compute service on host ${host}` };
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
