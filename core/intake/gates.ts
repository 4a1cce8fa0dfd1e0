// The decision rules, as pure functions of one fleet snapshot. Per host: is it ours to
// recover, and under which incident. For the fleet: does the picture look like a mass
// failure or a blind observer, in which case nothing starts (fail closed), as InstanceHA's
// gates do: the down share counts hosts already forced down, so a slow cascade trips it.

import { parseDisabledReason } from '../disabled-reason.js';
import { executionName } from '../executions.js';
import type { ComputeService } from '../ports.js';
import { assessService, type ServiceHealth } from '../service-health.js';
import type { IntakeConfig } from './config.js';
import { type FleetSnapshot, runningOf } from './snapshot.js';

export type SkipReason =
  | 'unknown-host'
  | 'not-in-fleet'
  | 'forced-down'
  | 'awaiting-restore'
  | 'maintenance'
  | 'running-recovery';

export type Eligibility =
  | { eligible: false; reason: SkipReason; detail: string }
  | {
      eligible: true;
      incident: string;
      /** The execution name of this host incident. */
      name: string;
      /** Nova's reading of the service now: down or stale (it agrees already), or still up. */
      nova: ServiceHealth;
      /** Nova's own verdict (state down), as opposed to silence read by freezer-dr. */
      novaDown: boolean;
      /** This very incident's execution is already running. */
      running: boolean;
    };

/**
 * Whether one host, named by a down signal, may be recovered, and under which incident key.
 * Nova need not agree yet: the recovery starts at once and its ConfirmHostFailure waits,
 * durably, for Nova's staleness or verdict before anything is powered off.
 */
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
  const ours = parseDisabledReason(service.disabledReason);
  // A host being (or having been) drained still runs what could not move: its failure is recovered.
  if (service.status === 'disabled' && ours?.kind !== 'drain') {
    return ours
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
  // monitor or the nova-services poll, maps to the same execution name until the service
  // reports again (a hung host's updated_at stays where its last report left it).
  const incident = service.updatedAt ?? 'never-reported';
  const name = executionName(host, incident);
  const running = runningOf(snapshot, host);
  if (running && running.name !== name) {
    return { eligible: false, reason: 'running-recovery', detail: `recovery ${running.name} is running` };
  }
  return {
    eligible: true,
    incident,
    name,
    nova: assessService(service, staleAfterSeconds, now),
    novaDown: service.state === 'down',
    running: running !== undefined,
  };
}

export interface FleetPicture {
  total: number;
  down: number;
  forcedDown: number;
  /** Set when no automatic recovery may start: the refusal reason and its explanation. */
  refusal: { reason: 'all-stale' | 'mass-failure'; detail: string } | null;
}

/**
 * The fleet-wide gates over Nova's services in scope. `lookingDown` says which hosts count
 * as down: the intake counts Nova's verdict (down, stale, forced down); ConfirmHostFailure,
 * just before fencing, also counts hosts that missed one report (hosts that failed together
 * go stale a few seconds apart).
 */
export function fleetPicture(
  services: Iterable<ComputeService>,
  inFleet: (host: string) => boolean,
  lookingDown: (service: ComputeService) => boolean,
  protection: IntakeConfig['protection'],
): FleetPicture {
  const scope = [...services].filter((s) => inFleet(s.host));
  const down = scope.filter(lookingDown);
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
