// The decision rules, as pure functions of one fleet snapshot. Per host: is it ours to
// recover, is it really down. For the fleet: does the picture look like a mass failure
// or a blind observer, in which case nothing starts (fail closed), as InstanceHA's gates
// do: the down share counts hosts already forced down, so a slow cascade still trips it.
import { parseDisabledReason } from '../disabled-reason.js';
import { executionName } from '../executions.js';
import { assessService } from '../service-health.js';
import type { IntakeConfig } from './config.js';
import type { FleetSnapshot } from './snapshot.js';

export type SkipReason =
  | 'unknown-host'
  | 'not-in-fleet'
  | 'forced-down'
  | 'awaiting-restore'
  | 'maintenance'
  | 'running-recovery'
  | 'not-confirmed';

export type Eligibility =
  | { eligible: false; reason: SkipReason; detail: string }
  | {
      eligible: true;
      incident: string;
      /** The execution name of this host incident. */
      name: string;
      evidence: string;
      /** This very incident's execution is already running. */
      running: boolean;
    };

/** Whether one host, named by a down alert, may be recovered now, and under which incident key. */
export function hostEligibility(
  host: string,
  snapshot: FleetSnapshot,
  inFleet: (host: string) => boolean,
  staleAfterSeconds: number,
  now: number,
): Eligibility {
  const service = snapshot.byHost.get(host);
  if (!service) {
    return { eligible: false, reason: 'unknown-host', detail: `Nova has no nova-compute service on ${host}` };
  }
  if (!inFleet(host)) {
    return { eligible: false, reason: 'not-in-fleet', detail: `${host} is not in intake.fleet` };
  }
  if (service.forcedDown) {
    return {
      eligible: false,
      reason: 'forced-down',
      detail: `nova-compute on ${host} is already forced down`,
    };
  }
  if (service.status === 'disabled') {
    return parseDisabledReason(service.disabledReason)
      ? {
          eligible: false,
          reason: 'awaiting-restore',
          detail: `${host} was taken down by freezer-dr and has not been restored`,
        }
      : {
          eligible: false,
          reason: 'maintenance',
          detail: `${host} is disabled by an operator (${service.disabledReason ?? 'no reason given'})`,
        };
  }
  // The last report time identifies the incident: every repeat of the alert, from any
  // monitor, maps to the same execution name until the service reports again.
  const incident = service.updatedAt ?? 'never-reported';
  const name = executionName(host, incident);
  // executionName(host, '') is the prefix every execution name of this host starts with.
  const prefix = executionName(host, '');
  const running = snapshot.running.find((e) => e.name.startsWith(prefix));
  if (running && running.name !== name) {
    return { eligible: false, reason: 'running-recovery', detail: `recovery ${running.name} is running` };
  }
  const health = assessService(service, staleAfterSeconds, now);
  if (!health.down) return { eligible: false, reason: 'not-confirmed', detail: health.evidence };
  return { eligible: true, incident, name, evidence: health.evidence, running: running !== undefined };
}

export interface FleetPicture {
  total: number;
  down: number;
  forcedDown: number;
  /** Set when no automatic recovery may start: the refusal reason and its explanation. */
  refusal: { reason: 'all-stale' | 'mass-failure'; detail: string } | null;
}

export function fleetPicture(
  snapshot: FleetSnapshot,
  inFleet: (host: string) => boolean,
  staleAfterSeconds: number,
  protection: IntakeConfig['protection'],
  now: number,
): FleetPicture {
  const scope = [...snapshot.byHost.values()].filter((s) => inFleet(s.host));
  const down = scope.filter((s) => assessService(s, staleAfterSeconds, now).down);
  const forcedDown = scope.filter((s) => s.forcedDown).length;
  const picture: FleetPicture = { total: scope.length, down: down.length, forcedDown, refusal: null };
  const share = scope.length ? down.length / scope.length : 1;
  const counts = `${down.length} of ${scope.length} fleet hosts down (${Math.round(share * 100)}%, ${forcedDown} already forced down)`;
  if (scope.length >= protection.allStaleMinHosts && down.length === scope.length) {
    picture.refusal = {
      reason: 'all-stale',
      detail: `every compute service looks down or stale at once (${counts}): Nova or the monitoring path is more likely broken than every host`,
    };
  } else if (share > protection.maxDownShare) {
    picture.refusal = {
      reason: 'mass-failure',
      detail: `${counts}, more than the ${Math.round(protection.maxDownShare * 100)}% limit`,
    };
  }
  return picture;
}

/** Running executions that started within the window: starts other containers made. */
export function runningSince(snapshot: FleetSnapshot, sinceMs: number): number {
  return snapshot.running.filter((e) => e.startDate && e.startDate.getTime() >= sinceMs).length;
}
