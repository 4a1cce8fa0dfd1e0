// A "degraded" alert (drain.triggers): the host still runs but is about to fail, so its
// instances are live-migrated off it by the host-drain workflow. Its own gates, decided
// here from one read of Nova and of the running drains and recoveries: pause, fleet, a
// host an operator or freezer-dr already holds, a host already down (that is a recovery,
// started by a down alert, never by a degraded one), at most drain.maxRunning drains at
// once, and never a drain the hosts left cannot hold (the same planner as the workflow,
// reading only): refused drains are reported, once per host within intake.notifyOnceSeconds.

import { parseDisabledReason } from '../disabled-reason.js';
import { type ExecutionsApi, executionName, isExecutionOfHost } from '../executions.js';
import { type NotifyInput, notify } from '../notify.js';
import { planEvacuation } from '../plan-evacuation.js';
import type { AlertSignal, ComputeService } from '../ports.js';
import type { Runtime } from '../runtime.js';
import { selectInstances } from '../select-instances.js';
import { assessService } from '../service-health.js';
import type { NoticeSender } from './refusals.js';
import type { StateStore } from './state-store.js';

export type DrainDecision = 'started' | 'already-handled' | 'skipped' | 'refused' | 'error';

export interface DrainVerdict {
  decision: DrainDecision;
  /** drain-started, paused, not-in-fleet, maintenance, host-down, drained, drains-busy, capacity-short, ... */
  reason: string;
  detail: string;
  incident: string | null;
  executionName: string | null;
}

export interface DrainIntakeContext {
  rt: Runtime;
  drains: ExecutionsApi;
  recoveriesRunning: { name: string }[];
  services: ComputeService[];
  store: StateStore;
  inFleet: (host: string) => boolean;
  paused: string | null;
  receivedAt: string;
  now: number;
  notice?: NoticeSender;
}

const SLOT_BUCKET = 'drain-starts';
/** A start holds its slot this long, until ListExecutions shows the drain running. */
const START_CLAIM_MS = 60_000;

/** One drain per host per incident: "drain-" and the time it was asked for (seconds). */
export const drainIncident = (at: string) => `drain-${at.replace(/[-:]|\.\d+/g, '')}`;

/** Starts a drain for a degraded signal, or says why not. Never throws. */
export async function decideDegraded(signal: AlertSignal, ctx: DrainIntakeContext): Promise<DrainVerdict> {
  const { host } = signal;
  const none = { incident: null, executionName: null };
  const skip = (reason: string, detail: string): DrainVerdict => ({
    decision: 'skipped',
    reason,
    detail,
    ...none,
  });
  const service = ctx.services.find((s) => s.host === host);
  if (!service) return skip('unknown-host', `Nova has no nova-compute service on ${host}`);
  if (!ctx.inFleet(host)) return skip('not-in-fleet', `${host} is not in intake.fleet`);
  const health = assessService(service, ctx.rt.policy.confirm.staleAfterSeconds, ctx.now);
  if (health.down) return skip('host-down', `${health.evidence}: a down host is recovered, not drained`);
  const ours = parseDisabledReason(service.disabledReason);
  const running = await ctx.drains.listRunning();
  const drainOfHost = running.find((e) => isExecutionOfHost(e.name, host));
  if (drainOfHost) {
    return {
      decision: 'already-handled',
      reason: 'already-handled',
      detail: `drain ${drainOfHost.name} is running`,
      incident: null,
      executionName: drainOfHost.name,
    };
  }
  if (ours?.kind === 'drain')
    return skip('drained', `${host} was drained (incident ${ours.incident}); restore it first`);
  if (ours) return skip('awaiting-restore', `${host} was taken down by freezer-dr and has not been restored`);
  if (service.status === 'disabled')
    return skip(
      'maintenance',
      `${host} is disabled by an operator (${service.disabledReason ?? 'no reason given'})`,
    );
  const recovery = ctx.recoveriesRunning.find((e) => isExecutionOfHost(e.name, host));
  if (recovery) return skip('running-recovery', `recovery ${recovery.name} is running`);

  const incident = drainIncident(ctx.receivedAt);
  const name = executionName(host, incident);
  const refuse = async (reason: string, detail: string): Promise<DrainVerdict> => {
    await tellOnce(ctx, host, incident, reason, `${signal.reason}. Not drained: ${detail}`);
    return { decision: 'refused', reason, detail, incident, executionName: null };
  };
  if (ctx.paused) return refuse('paused', `recoveries and drains are paused (${ctx.paused})`);
  let slot: string | null = null;
  const release = async () => {
    if (slot !== null) await ctx.store.releaseSlot(SLOT_BUCKET, slot);
    await ctx.store.unclaim(`drain-start:${host}`);
  };
  try {
    // One start per host at a time across containers, and at most maxRunning drains: both
    // taken before the plan is read, so a storm of degraded hosts costs Nova one plan per slot.
    if (!(await ctx.store.claimOnce(`drain-start:${host}`, START_CLAIM_MS, name))) {
      return {
        decision: 'already-handled',
        reason: 'already-handled',
        detail: 'started moments ago',
        incident,
        executionName: name,
      };
    }
    const { maxRunning } = ctx.rt.config.drain;
    slot = await ctx.store.takeSlot(SLOT_BUCKET, maxRunning, START_CLAIM_MS, running.length);
    if (slot === null) {
      await release();
      return refuse(
        'drains-busy',
        `${maxRunning} drain${maxRunning === 1 ? ' is' : 's are'} running already (drain.maxRunning)`,
      );
    }
    // The workflow's own selection and planner, reading only: the same verdict it would reach.
    const selection = await selectInstances(ctx.rt, { host, purpose: 'drain' });
    const plan = await planEvacuation(
      ctx.rt,
      { host, ids: selection.ids, purpose: 'drain' },
      { apply: false },
    );
    if (plan.unplacedCount > 0) {
      await release();
      return refuse(
        'capacity-short',
        `the hosts left cannot hold ${plan.unplacedCount} of ${selection.ids.length} instances (${plan.summary})`,
      );
    }
    const started = await ctx.drains.start(
      {
        host,
        incident,
        cause: signal.reason,
        requestedAt: ctx.receivedAt,
        channels: [
          {
            channel: signal.channel ?? 'alert',
            source: signal.source,
            at: ctx.receivedAt,
            detail: signal.reason,
          },
        ],
        alert: {
          source: signal.source,
          fingerprint: signal.fingerprint,
          reason: signal.reason,
          receivedAt: ctx.receivedAt,
        },
      },
      { name },
    );
    if (!started.started) await ctx.store.releaseSlot(SLOT_BUCKET, slot);
    return started.started
      ? {
          decision: 'started',
          reason: 'drain-started',
          detail: `${selection.ids.length} instances to live-migrate (${plan.summary})`,
          incident,
          executionName: name,
        }
      : {
          decision: 'already-handled',
          reason: 'already-handled',
          detail: 'execution already exists',
          incident,
          executionName: name,
        };
  } catch (error) {
    await release().catch(() => undefined);
    return {
      decision: 'error',
      reason: 'start-failed',
      detail: (error as Error).message,
      incident,
      executionName: null,
    };
  }
}

/** A refused drain is reported once per host within intake.notifyOnceSeconds (an alert repeats). */
async function tellOnce(
  ctx: DrainIntakeContext,
  host: string,
  incident: string,
  reason: string,
  cause: string,
) {
  const key = `drain-notice:${host}`;
  const onceMs = ctx.rt.config.intake.notifyOnceSeconds * 1000;
  if (!(await ctx.store.claimOnce(key, onceMs))) return;
  const notice: NotifyInput = {
    kind: 'drain-refused',
    host,
    incident,
    cause: `Drain refused (${reason}): ${cause}`.slice(0, 8000),
    requestedAt: ctx.receivedAt,
    error: { Error: `Drain.${reason}`, Cause: cause.slice(0, 2000) },
  };
  try {
    const sent = await (ctx.notice ?? notify)(ctx.rt, notice);
    if (sent.delivered === 0 && sent.failed > 0) await ctx.store.unclaim(key);
  } catch (error) {
    ctx.rt.logger.warn('drain refusal notice failed', { host, error: (error as Error).message });
    await ctx.store.unclaim(key);
  }
}
