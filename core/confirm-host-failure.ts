// State: ConfirmHostFailure. A recovery starts at the first down alert, usually while Nova
// still reports the service up (it does for service_down_time after a host hangs). This
// step reads Nova once per call and says what the workflow does next; the waiting itself is
// the ASL's Wait state, durable and visible in the history, never a sleeping function:
//   confirmed  two channels agree: the alert and Nova's silence (stale), or Nova's own
//              `down` (what the nova-services poll starts on), or the service is already
//              forced down (a re-driven run); the fleet gates pass
//   waiting    not yet: wait `waitSeconds` (until the service would turn stale, at most
//              one report interval) and read again
//   not-down   the service reported again (reportsUntilNotDown times) or the window ended:
//              a false alarm, nothing is powered off
//   refused    paused, or too many hosts look down at once (checked again here, just before
//              fencing, because alerts start recoveries before Nova sees anything)
//   skipped    an operator disabled the host meanwhile (maintenance): not ours to touch
// The not-down and refused notices go out once per host (per reason) within
// intake.notifyOnceSeconds, however many alerts repeat the false alarm.
import { matchesGlob } from 'node:path';
import { parseDisabledReason } from './disabled-reason.js';
import { HOST_UNKNOWN, WorkflowError } from './errors.js';
import { fleetPicture } from './intake/gates.js';
import { pausedBy } from './intake/pause.js';
import type { Channel, ComputeService, NotificationKind } from './ports.js';
import type { Runtime } from './runtime.js';
import { assessService } from './service-health.js';
import { parseNovaTime } from './time.js';

export const CONFIRM_STATUSES = ['confirmed', 'waiting', 'not-down', 'refused', 'skipped'] as const;
export type ConfirmStatus = (typeof CONFIRM_STATUSES)[number];

/** What one read concluded; the next read gets it back as `previous`. */
export interface ConfirmRecord {
  status: ConfirmStatus;
  serviceId: string;
  /** One sentence an operator can read: why confirmed, why still waiting, why not. */
  evidence: string;
  /** This read. */
  at: string;
  /** The first read: the confirmation window runs from here. */
  since: string;
  checks: number;
  /** The service's updated_at at this read; a change between reads is a report. */
  lastUpdatedAt: string | null;
  /** Reports seen since the first read. */
  reports: number;
  /** Seconds the workflow waits before the next read (status waiting). */
  waitSeconds: number;
  /** The witnesses that agreed (status confirmed): the recovery's own and Nova's. */
  channels: Channel[];
  /** Whether the workflow sends the notice of this outcome (not-down, refused): once per window. */
  notify: boolean;
  notifyKind: NotificationKind | null;
  /** Whose clock measured the service's silence: Nova's (its Date header) or this function's. */
  clock: 'nova' | 'local';
}

export interface ConfirmInput {
  host: string;
  incident: string;
  /** The witnesses that started the recovery (an alert, the nova-services poll, an operator). */
  channels?: Channel[] | undefined;
  /** Started by an operator: pause, maintenance and fleet gates do not apply. */
  operator?: boolean | undefined;
  /** Owner of the notice claims, so a retried read gets its own claim back. */
  executionName?: string | null | undefined;
  previous?: ConfirmRecord | null | undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function confirmHostFailure(rt: Runtime, input: ConfirmInput): Promise<ConfirmRecord> {
  const { host } = input;
  const policy = rt.policy.confirm;
  // The whole fleet in one call (the same cost as one host): the fleet gates need it.
  const services = await rt.cloud.listComputeServices();
  const service = services.find((s) => s.host === host);
  if (!service) throw new WorkflowError(HOST_UNKNOWN, `Nova has no nova-compute service on host ${host}`);
  const novaNow = rt.cloud.novaNow?.() ?? null;
  const now = novaNow ?? Date.now();
  const previous = input.previous ?? null;
  const reported = previous !== null && service.updatedAt !== previous.lastUpdatedAt;
  const started: Channel[] = input.channels ?? [];
  const operator = input.operator === true || started.some((c) => c.channel === 'operator');
  const record: ConfirmRecord = {
    status: 'waiting',
    serviceId: service.id,
    evidence: '',
    at: iso(now),
    since: previous?.since ?? iso(now),
    checks: (previous?.checks ?? 0) + 1,
    lastUpdatedAt: service.updatedAt,
    reports: (previous?.reports ?? 0) + (reported ? 1 : 0),
    waitSeconds: 0,
    channels: started,
    notify: false,
    notifyKind: null,
    clock: novaNow === null ? 'local' : 'nova',
  };
  const clock = novaNow === null ? "this function's clock (Nova sent no Date header)" : "Nova's clock";
  const ours = parseDisabledReason(service.disabledReason);
  const owner = input.executionName ?? undefined;

  if (service.forcedDown && (ours || operator)) {
    // A re-driven run (MarkHostDown already done) or a host an operator forced down.
    return confirmed(record, 'nova-down', `nova-compute on ${host} is already forced down`);
  }
  // A host freezer-dr drained is disabled but still ours: its failure is recovered.
  if (!operator && service.status === 'disabled' && ours?.kind !== 'drain') {
    return {
      ...record,
      status: 'skipped',
      evidence: ours
        ? `${host} was taken down by freezer-dr before and has not been restored; nothing done`
        : `${host} was disabled by an operator meanwhile (${service.disabledReason ?? 'no reason given'}); nothing done`,
    };
  }

  const health = assessService(service, policy.staleAfterSeconds, now);
  // The poll alone is one witness, Nova; it counts on Nova's own verdict, never on silence.
  const pollOnly = started.length > 0 && started.every((c) => c.channel === 'nova-down');
  const novaAgrees = service.forcedDown || service.state === 'down' || (!pollOnly && health.down);
  if (novaAgrees) {
    if (!operator) {
      const refusal = await gates(rt, services, host, now);
      if (refusal) {
        const notify = await rt.state.claimOnce(
          `refusal:${refusal.reason}`,
          rt.config.intake.notifyOnceSeconds * 1000,
          owner,
        );
        return {
          ...record,
          status: 'refused',
          evidence: `${health.evidence}, but ${refusal.detail}`,
          notify,
          notifyKind: refusal.reason === 'paused' ? 'paused' : 'mass-failure',
        };
      }
    }
    const channel = service.state === 'down' || service.forcedDown ? 'nova-down' : 'nova-stale';
    return confirmed(record, channel, `${health.evidence}, by ${clock}`);
  }

  const windowEnds = (parseNovaTime(record.since) ?? now) + policy.windowSeconds * 1000;
  const notDown = (why: string): Promise<ConfirmRecord> =>
    rt.state
      .claimOnce(`not-down:${host}`, rt.config.intake.notifyOnceSeconds * 1000, owner)
      .then((notify) => ({
        ...record,
        status: 'not-down',
        evidence: why,
        notify,
        notifyKind: 'not-confirmed',
      }));
  if (record.reports >= policy.reportsUntilNotDown) {
    return notDown(
      `nova-compute on ${host} reported ${record.reports} times after the alert (last ${service.updatedAt}): it is running, not down`,
    );
  }
  if (now >= windowEnds) {
    return notDown(
      `Nova did not see nova-compute on ${host} down within ${policy.windowSeconds} s (${health.evidence})`,
    );
  }
  // Read again when the service would turn stale, at most one report interval away (a
  // service that keeps reporting ends the wait soon); Wait states count whole seconds.
  const interval = policy.reportIntervalSeconds;
  const last = parseNovaTime(service.updatedAt);
  const untilStale =
    pollOnly || last === null ? interval : (last + policy.staleAfterSeconds * 1000 - now) / 1000;
  const untilWindow = (windowEnds - now) / 1000;
  return {
    ...record,
    evidence: `waiting for Nova to agree: ${health.evidence}`,
    waitSeconds: Math.max(1, Math.ceil(Math.min(untilStale, interval, untilWindow))),
  };
}

function confirmed(
  record: ConfirmRecord,
  channel: 'nova-down' | 'nova-stale',
  evidence: string,
): ConfirmRecord {
  return {
    ...record,
    status: 'confirmed',
    evidence,
    channels: [...record.channels, { channel, source: 'nova', at: record.at, detail: evidence }],
  };
}

/**
 * Pause and the fleet gates, just before anything is powered off. Hosts that failed together
 * stop reporting together but turn stale up to one report interval apart, so here a host
 * counts as down once it missed a report (silent for 1.5 report intervals).
 */
async function gates(
  rt: Runtime,
  services: ComputeService[],
  host: string,
  now: number,
): Promise<{ reason: 'paused' | 'all-stale' | 'mass-failure'; detail: string } | null> {
  const intake = rt.config.intake;
  const paused = pausedBy(intake.pause, process.env);
  if (paused) return { reason: 'paused', detail: `recoveries are paused (${paused})` };
  const fleet = intake.fleet;
  const inFleet = (name: string) => !fleet.length || fleet.some((glob) => matchesGlob(name, glob));
  const suspectAfter = rt.policy.confirm.reportIntervalSeconds * 1.5;
  const picture = fleetPicture(
    services,
    inFleet,
    (s) => s.host === host || s.forcedDown || s.state === 'down' || assessService(s, suspectAfter, now).down,
    intake.protection,
  );
  return picture.refusal;
}
