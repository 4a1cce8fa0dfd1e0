// State: CheckDrainHost. A drain live-migrates off a host that still runs; a host that is
// already down is a recovery, not a drain (HandOverAtStart), and one freezer-dr's recovery
// already holds is left to it. Reads only.
import { parseDisabledReason } from '../disabled-reason.js';
import type { Runtime } from '../runtime.js';
import { nowIso } from '../time.js';
import { readDrainHost } from './host-state.js';

export const DRAIN_HOST_STATUSES = ['up', 'down', 'skipped'] as const;

export interface CheckDrainHostResult {
  status: (typeof DRAIN_HOST_STATUSES)[number];
  serviceId: string;
  evidence: string;
  /** The disabled_reason an operator left before the drain (kept in the record), or null. */
  previousReason: string | null;
  at: string;
}

export async function checkDrainHost(rt: Runtime, input: { host: string }): Promise<CheckDrainHostResult> {
  const { service, health } = await readDrainHost(rt, input.host);
  const ours = parseDisabledReason(service.disabledReason);
  const base = {
    serviceId: service.id,
    previousReason: service.disabledReason && !ours ? service.disabledReason : null,
    at: nowIso(),
  };
  if (ours?.kind === 'host-failure') {
    return {
      ...base,
      status: 'skipped',
      evidence: `${input.host} is held by freezer-dr's recovery (incident ${ours.incident}): nothing to drain`,
    };
  }
  if (health.down) return { ...base, status: 'down', evidence: health.evidence };
  return { ...base, status: 'up', evidence: health.evidence };
}
