// Step 6a (one Map iteration): rebuild one instance elsewhere with Nova's evacuate.
// Idempotent: a retried or re-driven step first reads the server, and does nothing if
// it is already on another host or already rebuilding, so no instance is evacuated twice.
import { parseDisabledReason } from './disabled-reason.js';
import { MOVING_TASK_STATES, migrationInFlight } from './drain/host-state.js';
import { CLOUD_REJECTED, CloudError, INSTANCE_MIGRATING, WorkflowError } from './errors.js';
import type { Runtime } from './runtime.js';
import { serverWatch } from './server-watch.js';
import { nowIso } from './time.js';

export interface EvacuateInput {
  id: string;
  host: string;
  incident: string;
  /** Planned destination (PlanTargets); null or absent lets Nova's scheduler choose. */
  target?: string | null;
}
/** What EvacuateInstance did (the one list; the Task input schema takes its enum from it). */
export const EVACUATE_ACTIONS = ['evacuated', 'in-progress', 'already-moved', 'gone', 'refused'] as const;
export type EvacuateAction = (typeof EVACUATE_ACTIONS)[number];
export interface EvacuateResult {
  /** refused: Nova turned the evacuation down for good (4xx); VerifyInstance reports it failed, with `reason`. */
  action: EvacuateAction;
  /** Status before the failure: what the instance should be again afterwards. */
  prior: string | null;
  lockedByUs: boolean;
  startedAt: string;
  /** The destination asked of Nova; null or absent when the scheduler chose. */
  target?: string | null;
  /** Why Nova refused (action refused), short: it travels in the state for the report. */
  reason?: string | null;
}

const REBUILDING = new Set(['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning']);
const ACTIVE_MIGRATION = new Set(['accepted', 'pre-migrating', 'migrating', 'running', 'post-migrating']);

/** The lock reason freezer-dr sets; recognising it lets a re-driven run unlock what an interrupted run locked. */
export const lockReason = (incident: string) => `freezer-dr evacuation, incident ${incident}`;

/**
 * Migration statuses of a move the (dead, fenced) source had taken but never began to copy
 * the guest for: live `queued` (waiting for the source's migration slot) and `preparing`
 * (the destination being set up); cold `pre-migrating` and `migrating` (a stopped guest's
 * disk). Such a move can never finish once the source is powered off, and the guest never
 * ran anywhere else. `accepted` is not one: the conductor is still asking the source and goes
 * on if it comes back; `running` may have switched the guest over to the destination.
 */
const NEVER_STARTED = new Set(['queued', 'preparing', 'pre-migrating', 'migrating']);

/** Why this instance must not be evacuated yet (its migration may still move it), or null. */
async function migrationBlockingEvacuation(
  rt: Runtime,
  id: string,
  host: string,
  taskState: string,
): Promise<string | null> {
  const inFlight = ((await rt.cloud.listMigrations?.({ instanceId: id })) ?? []).find(
    (m) => m.migrationType !== 'evacuation' && m.sourceCompute === host && migrationInFlight(m.status),
  );
  if (!inFlight)
    return MOVING_TASK_STATES.has(taskState) ? `task ${taskState}, no migration record yet` : null;
  if (!NEVER_STARTED.has(inFlight.status)) return `${inFlight.migrationType} ${inFlight.status}`;
  // Record-only fencing: the source may still run, and its migration go on.
  const service = (await rt.cloud.listComputeServices({ host })).find((s) => s.host === host);
  if (parseDisabledReason(service?.disabledReason ?? null)?.fence === 'noop') {
    return `${inFlight.migrationType} ${inFlight.status}, and ${host} was not powered off by freezer-dr`;
  }
  rt.logger.warn('evacuating an instance whose migration the fenced source never began', {
    id,
    migration: inFlight.migrationType,
    status: inFlight.status,
  });
  return null;
}

function priorStatus(vmState: string | null, status: string): string {
  if (vmState === 'stopped') return 'SHUTOFF';
  if (vmState === 'error') return 'ERROR';
  if (vmState === 'active') return 'ACTIVE';
  return status;
}

export async function evacuateInstance(rt: Runtime, input: EvacuateInput): Promise<EvacuateResult> {
  const startedAt = nowIso();
  // Both reads at once: they decide together whether this instance is already on its way.
  // Made after this call began (never cached), shared with the host's other evacuations.
  const watch = serverWatch(rt.cloud);
  const [server, migrations] = await Promise.all([
    watch.read(input.id, [input.host]),
    watch.evacuationsFrom(input.id, input.host),
  ]);
  if (!server) return { action: 'gone', prior: null, lockedByUs: false, startedAt, target: null };
  const prior = priorStatus(server.vmState, server.status);
  // Locked by this incident's earlier (interrupted) run: ours to unlock once it is back.
  const lockedEarlier = server.locked && server.lockedReason === lockReason(input.incident);
  if (server.host !== input.host) {
    return {
      action: 'already-moved',
      prior: server.status,
      lockedByUs: lockedEarlier,
      startedAt,
      target: null,
    };
  }
  if (server.taskState && REBUILDING.has(server.taskState)) {
    return { action: 'in-progress', prior, lockedByUs: lockedEarlier, startedAt, target: null };
  }
  if (migrations.some((m) => ACTIVE_MIGRATION.has(m.status))) {
    return { action: 'in-progress', prior, lockedByUs: lockedEarlier, startedAt, target: null };
  }
  if (server.taskState) {
    // Never evacuate an instance a drain may still land elsewhere: it could run twice. Wait
    // (the workflow's Retry) while its migration can go on; evacuate once it has ended with
    // the instance still here, or when the fenced source had taken it and never began to move
    // the guest (it can never finish: the source is powered off).
    const moving = await migrationBlockingEvacuation(rt, input.id, input.host, server.taskState);
    if (moving) {
      throw new WorkflowError(
        INSTANCE_MIGRATING,
        `instance ${input.id} is being migrated off ${input.host} (${moving}): not evacuated while it may still land elsewhere`,
      );
    }
    // A task the dead host will never finish (powering-on, ...): clear it as Masakari does.
    rt.logger.warn('resetting stuck task state before evacuation', {
      id: input.id,
      taskState: server.taskState,
    });
    await rt.cloud.resetState(input.id, 'error');
  }
  let target = input.target ?? null;
  try {
    try {
      await rt.cloud.evacuate(input.id, target ? { host: target } : {});
    } catch (error) {
      // Nova refused the planned host (400/409): once more without a target, the scheduler decides.
      if (!target || !(error instanceof CloudError) || (error.httpStatus !== 400 && error.httpStatus !== 409))
        throw error;
      if ((await rt.cloud.getServer(input.id))?.taskState) throw error;
      rt.logger.warn('planned host refused; evacuating without a target', {
        id: input.id,
        target,
        error: error.message,
      });
      target = null;
      await rt.cloud.evacuate(input.id);
    }
  } catch (error) {
    // Deleted between our read and the evacuate request.
    if (error instanceof CloudError && error.httpStatus === 404) {
      return { action: 'gone', prior, lockedByUs: false, startedAt, target: null };
    }
    if (error instanceof CloudError && error.httpStatus === 409) {
      // Someone (a duplicate step) started it between our read and our POST.
      const again = await rt.cloud.getServer(input.id);
      if (again?.taskState && REBUILDING.has(again.taskState)) {
        return { action: 'in-progress', prior, lockedByUs: lockedEarlier, startedAt, target: null };
      }
    }
    if (lockedEarlier) await rt.cloud.unlockServer(input.id).catch(() => undefined);
    if (error instanceof CloudError && error.name === CLOUD_REJECTED) {
      // A result, not an error: Nova's answer reaches the report, while a caught error's
      // cause (a stack trace on AWS) would have to be left out of the state.
      rt.logger.warn('evacuation refused', { id: input.id, error: error.message });
      const answer = error.message.replace(/^.*? failed with HTTP (\d+): /, 'Nova $1: ');
      return { action: 'refused', prior, lockedByUs: false, startedAt, target, reason: answer };
    }
    throw error;
  }
  // Locked once Nova has the rebuild: its running task already refuses users' actions, and
  // locking first would hold the evacuation back by a round trip per instance.
  let lockedByUs = lockedEarlier;
  if (rt.policy.evacuation.lockInstances && !server.locked) {
    try {
      await rt.cloud.lockServer(input.id, lockReason(input.incident));
      lockedByUs = true;
    } catch (error) {
      rt.logger.warn('lock after evacuate failed; the instance stays unlocked', {
        id: input.id,
        error: (error as Error).message,
      });
    }
  }
  rt.logger.info('evacuation requested', { id: input.id, host: input.host, target });
  return { action: 'evacuated', prior, lockedByUs, startedAt, target };
}
