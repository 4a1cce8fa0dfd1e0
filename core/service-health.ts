// What "down" means for a nova-compute service, in one place: the workflow's confirm
// step and the alert intake must never disagree about whether a host failed.
import type { ComputeService } from './ports.js';
import { parseNovaTime } from './time.js';

export interface ServiceHealth {
  down: boolean;
  /** Seconds since the service last reported; Infinity when it never did. */
  ageSeconds: number;
  /** One sentence an operator can read: why it counts as down, or why not. */
  evidence: string;
}

/** Down when forced down, reported down by Nova, or silent for longer than staleAfterSeconds. */
export function assessService(
  service: ComputeService,
  staleAfterSeconds: number,
  now: number = Date.now(),
): ServiceHealth {
  const reported = parseNovaTime(service.updatedAt);
  const ageSeconds = reported === null ? Number.POSITIVE_INFINITY : (now - reported) / 1000;
  const age = Number.isFinite(ageSeconds) ? `${Math.round(ageSeconds)} s ago` : 'never';
  const host = service.host;
  if (service.forcedDown) {
    return { down: true, ageSeconds, evidence: `nova-compute on ${host} is already forced down` };
  }
  if (service.state === 'down') {
    return {
      down: true,
      ageSeconds,
      evidence: `Nova reports nova-compute on ${host} down (last report ${age})`,
    };
  }
  if (ageSeconds > staleAfterSeconds) {
    return {
      down: true,
      ageSeconds,
      evidence: `nova-compute on ${host} last reported ${age} (stale after ${staleAfterSeconds} s)`,
    };
  }
  return {
    down: false,
    ageSeconds,
    evidence: `nova-compute on ${host} is up and reported ${age}; not confirmed down`,
  };
}
