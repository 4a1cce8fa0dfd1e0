// After a failed host is repaired: power it on, wait until its nova-compute reports again
// and every evacuation from it reads `completed` (the restarted nova-compute deletes the
// evacuated guests' leftovers, and only then), and only then clear forced_down and
// re-enable it. Clearing forced_down earlier would let Nova schedule onto a host that
// still holds stale copies of instances now running elsewhere.

import { parseDisabledReason } from './disabled-reason.js';
import { HOST_UNKNOWN, WorkflowError } from './errors.js';
import type { ComputeService, Migration } from './ports.js';
import type { Runtime } from './runtime.js';
import { sleep } from './time.js';

/** Evacuations the source's nova-compute has not cleaned up yet (or that are still moving). */
const UNSETTLED = new Set(['accepted', 'pre-migrating', 'migrating', 'running', 'post-migrating', 'done']);

export type RestoreStep = 'check' | 'power' | 'compute' | 'migrations' | 'forced-down' | 'enable';

export interface RestoreProgress {
  step: RestoreStep;
  /** done: the step is finished; waiting: still polling; skipped: nothing to do or not ours to do. */
  state: 'done' | 'waiting' | 'skipped';
  message: string;
}

export interface RestoreOptions {
  leaveDisabled: boolean;
  timeoutSeconds: number;
  pollMs: number;
  onProgress: (progress: RestoreProgress) => void;
}

export interface RestoreResult {
  host: string;
  /** The host was found healthy (nothing to power on, clean up, clear or enable): nothing was done. */
  nothingToRestore: boolean;
  poweredOn: boolean;
  migrations: { completed: number; failed: number };
  forcedDownCleared: boolean;
  enabled: boolean;
}

/**
 * Evacuations from the host still to be cleaned up. Nova 26 accepts a second evacuate during
 * a rebuild; one of the two records can then stay `accepted` for ever. An `accepted` record
 * next to a settled one for the same instance is not a rebuild still under way.
 */
function pendingEvacuations(all: Migration[]): Migration[] {
  const settledTwin = (m: Migration) =>
    all.some(
      (o) => o !== m && o.instanceId === m.instanceId && (o.status === 'done' || o.status === 'completed'),
    );
  return all.filter((m) => UNSETTLED.has(m.status) && !(m.status === 'accepted' && settledTwin(m)));
}

/**
 * Why the host needs no restore, or null when it does: powered on, nova-compute up, not
 * forced down, no evacuation left to clean up, and enabled (or disabled by someone else,
 * which restore would leave alone anyway).
 */
async function healthy(rt: Runtime, host: string, service: ComputeService): Promise<string | null> {
  if (service.state !== 'up' || service.forcedDown) return null;
  if (service.status !== 'enabled' && parseDisabledReason(service.disabledReason)) return null;
  if (!rt.fencer.recordOnly && (await rt.fencer.powerStatus(host)) !== 'on') return null;
  if (pendingEvacuations(await rt.cloud.listEvacuations({ sourceCompute: host })).length) return null;
  const status =
    service.status === 'enabled' ? 'enabled' : `disabled by someone else ("${service.disabledReason ?? ''}")`;
  return `nothing to restore: ${host} is powered on, its nova-compute is up (last report ${service.updatedAt ?? 'never'}), it is not forced down, no evacuation from it is left to clean up, and it is ${status}`;
}

async function serviceOf(rt: Runtime, host: string): Promise<ComputeService> {
  const service = (await rt.cloud.listComputeServices({ host })).find((s) => s.host === host);
  if (!service) throw new WorkflowError(HOST_UNKNOWN, `Nova has no nova-compute service on host ${host}`);
  return service;
}

export async function restoreHost(
  rt: Runtime,
  host: string,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const { onProgress: say } = options;
  const enable = async (serviceId: string) => {
    await rt.cloud.updateComputeService(serviceId, { status: 'enabled' });
    say({
      step: 'enable',
      state: 'done',
      message: `${host} enabled: the scheduler may place instances on it again`,
    });
  };
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const waitUntil = async <T>(
    step: RestoreStep,
    read: () => Promise<{ done: boolean; value: T; note: string }>,
  ) => {
    let lastNote = '';
    for (;;) {
      const { done, value, note } = await read();
      if (done) return value;
      if (note !== lastNote) say({ step, state: 'waiting', message: note });
      lastNote = note;
      if (Date.now() > deadline) {
        throw new WorkflowError(
          'Restore.TimedOut',
          `${note} after ${options.timeoutSeconds} s; ${host} left forced down and disabled`,
        );
      }
      await sleep(options.pollMs);
    }
  };

  const before = await serviceOf(rt, host);
  // A healthy host: answer now, rather than wait for its next report to prove it is up.
  const nothingToDo = await healthy(rt, host, before);
  if (nothingToDo) {
    say({ step: 'check', state: 'skipped', message: nothingToDo });
    return {
      host,
      nothingToRestore: true,
      poweredOn: false,
      migrations: { completed: 0, failed: 0 },
      forcedDownCleared: false,
      enabled: before.status === 'enabled',
    };
  }

  // A drained host never went down: nothing to power on or clean up, only to enable again.
  if (parseDisabledReason(before.disabledReason)?.kind === 'drain' && !before.forcedDown) {
    say({ step: 'check', state: 'done', message: `${host} was drained by freezer-dr and never went down` });
    if (options.leaveDisabled) {
      say({ step: 'enable', state: 'skipped', message: `${host} left disabled (--leave-disabled)` });
    } else {
      await enable(before.id);
    }
    return {
      host,
      nothingToRestore: false,
      poweredOn: false,
      migrations: { completed: 0, failed: 0 },
      forcedDownCleared: false,
      enabled: !options.leaveDisabled,
    };
  }

  // 1. Power on through the fencer (a host already on is left alone).
  let poweredOn = false;
  if (rt.fencer.recordOnly) {
    say({
      step: 'power',
      state: 'skipped',
      message: `power is not controlled by freezer-dr: power ${host} on yourself`,
    });
  } else {
    const power = await rt.fencer.powerStatus(host);
    if (power === 'on') {
      say({ step: 'power', state: 'skipped', message: `${rt.fencer.describe(host)} already reads on` });
    } else {
      await rt.fencer.powerOn(host);
      poweredOn = true;
      say({
        step: 'power',
        state: 'done',
        message: `power on requested (${rt.fencer.describe(host)}, was ${power})`,
      });
    }
  }

  // 2. nova-compute is back when it reports again: its updated_at moves past the one read before.
  await waitUntil('compute', async () => {
    const service = await serviceOf(rt, host);
    const reported = service.updatedAt !== before.updatedAt;
    return {
      done: reported,
      value: service,
      note: `waiting for nova-compute on ${host} to report (last report ${service.updatedAt ?? 'never'})`,
    };
  });
  say({ step: 'compute', state: 'done', message: `nova-compute on ${host} reports again` });

  // 3. Every evacuation from the host cleaned up by that nova-compute.
  const migrations = await waitUntil<Migration[]>('migrations', async () => {
    const all = await rt.cloud.listEvacuations({ sourceCompute: host });
    const pending = pendingEvacuations(all);
    const counts = [...new Set(pending.map((m) => m.status))]
      .map((status) => `${pending.filter((m) => m.status === status).length} ${status}`)
      .join(', ');
    return {
      done: pending.length === 0,
      value: all,
      note: `waiting for ${pending.length} of ${all.length} evacuations from ${host} to read completed (${counts})`,
    };
  });
  const completed = migrations.filter((m) => m.status === 'completed').length;
  const failed = migrations.filter((m) => m.status === 'error' || m.status === 'failed').length;
  say({
    step: 'migrations',
    state: 'done',
    message: `${completed} evacuation${completed === 1 ? '' : 's'} from ${host} completed${failed ? `, ${failed} failed (instances left where Nova put them)` : ''}`,
  });

  // 4. Only now: clear forced_down, then enable (unless asked not to, or disabled by someone else).
  let service = await serviceOf(rt, host);
  let forcedDownCleared = false;
  if (service.forcedDown) {
    service = await rt.cloud.updateComputeService(service.id, { forcedDown: false });
    forcedDownCleared = true;
    say({ step: 'forced-down', state: 'done', message: `forced_down cleared on ${host}` });
  } else {
    say({ step: 'forced-down', state: 'skipped', message: `${host} was not forced down` });
  }
  let enabled = service.status === 'enabled';
  if (enabled) {
    say({ step: 'enable', state: 'skipped', message: `${host} is already enabled` });
  } else if (options.leaveDisabled) {
    say({ step: 'enable', state: 'skipped', message: `${host} left disabled (--leave-disabled)` });
  } else if (!parseDisabledReason(service.disabledReason)) {
    // An operator's own maintenance reason is theirs to lift.
    say({
      step: 'enable',
      state: 'skipped',
      message: `${host} left disabled: disabled by someone else ("${service.disabledReason ?? ''}")`,
    });
  } else {
    await enable(service.id);
    enabled = true;
  }
  return {
    host,
    nothingToRestore: false,
    poweredOn,
    migrations: { completed, failed },
    forcedDownCleared,
    enabled,
  };
}
