// The campaign's counters, computed from what the cloud and the BMCs saw, never from
// what freezer-dr says it did (the evacuation counters read evacuation records only; a
// drain's live and cold migrations are not evacuations):
//   unverified: evacuations Nova accepted while the source host's power was on, or before
//               any power reading of that host had returned off;
//   double:     instances with more than one evacuation from the same source that Nova
//               acted on (one that ended in `error` found no host and moved nothing);
//   overBudget: hosts powered off beyond the mass-failure budget (maxDownShare of the fleet);
//   migratedAndEvacuated: instances both moved by a drain (a live or cold migration that got
//               as far as moving the guest: not `error`, nor one its source only accepted,
//               queued or prepared, nor a stopped guest's disk still being copied) and evacuated (an evacuation Nova acted on), plus
//               evacuations Nova accepted while the instance's task state read `migrating`;
//   completed:  recoveries that completed (compared with the number expected).

export interface MigrationSeen {
  /** 'evacuation', 'live-migration' or 'migration' (cold); absent: an evacuation. */
  migrationType?: string;
  instanceId: string;
  sourceCompute: string;
  status: string;
  createdAt: string;
}

export interface Evidence {
  migrations: MigrationSeen[];
  /** Evacuations a simulated BMC saw accepted while it read on (0 where real BMCs are the truth). */
  acceptedWhilePowerOn: number;
  /** Evacuations the simulated Nova accepted while the instance was being live-migrated. */
  evacuatedWhileMigrating?: number;
  /** Power readings that returned off: host and when. */
  offReads: { host: string; at: number }[];
  /** Hosts freezer-dr asked to power off. */
  poweredOff: string[];
  fleet: number;
  maxDownShare: number;
}

export interface Counters {
  unverified: number;
  double: number;
  overBudget: number;
  migratedAndEvacuated: number;
}

/** Live or cold migrations that never moved the guest (failed, or its source never began). */
const NOT_MOVED = new Set([
  'error',
  'failed',
  'cancelled',
  'accepted',
  'queued',
  'preparing',
  'pre-migrating',
  'migrating',
]);
const isEvacuation = (m: MigrationSeen) => (m.migrationType ?? 'evacuation') === 'evacuation';

export function countersOf(evidence: Evidence): Counters {
  const firstOff = new Map<string, number>();
  for (const { host, at } of evidence.offReads) firstOff.set(host, Math.min(at, firstOff.get(host) ?? at));
  const evacuations = evidence.migrations.filter(isEvacuation);
  const beforeOff = evacuations.filter((m) => {
    const off = firstOff.get(m.sourceCompute);
    return off === undefined || Date.parse(m.createdAt) < off;
  }).length;
  const acted = new Map<string, number>();
  for (const m of evacuations) {
    if (m.status === 'error') continue;
    const key = `${m.instanceId}@${m.sourceCompute}`;
    acted.set(key, (acted.get(key) ?? 0) + 1);
  }
  const budget = Math.floor(evidence.maxDownShare * evidence.fleet);
  const moved = new Set(
    evidence.migrations.filter((m) => !isEvacuation(m) && !NOT_MOVED.has(m.status)).map((m) => m.instanceId),
  );
  const evacuated = new Set(evacuations.filter((m) => m.status !== 'error').map((m) => m.instanceId));
  return {
    unverified: evidence.acceptedWhilePowerOn + beforeOff,
    double: [...acted.values()].filter((n) => n > 1).length,
    overBudget: Math.max(0, new Set(evidence.poweredOff).size - budget),
    migratedAndEvacuated:
      [...moved].filter((id) => evacuated.has(id)).length + (evidence.evacuatedWhileMigrating ?? 0),
  };
}
