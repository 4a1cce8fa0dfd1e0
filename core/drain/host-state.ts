// One read of the drained host's compute service, and what it means for the drain: every
// drain step asks it first, so a host that dies mid-drain stops new migrations at once and
// its recovery takes over (the same "down" as the intake and ConfirmHostFailure use).

import { HOST_UNKNOWN, WorkflowError } from '../errors.js';
import type { ComputeService } from '../ports.js';
import type { Runtime } from '../runtime.js';
import { assessService, type ServiceHealth } from '../service-health.js';

export interface DrainHostState {
  service: ComputeService;
  health: ServiceHealth;
  /** Nova's own verdict (state down or forced down), as opposed to silence read by freezer-dr. */
  novaDown: boolean;
}

export async function readDrainHost(rt: Runtime, host: string): Promise<DrainHostState> {
  const service = (await rt.cloud.listComputeServices({ host })).find((s) => s.host === host);
  if (!service) throw new WorkflowError(HOST_UNKNOWN, `Nova has no nova-compute service on host ${host}`);
  const now = rt.cloud.novaNow?.() ?? Date.now();
  const health = assessService(service, rt.policy.confirm.staleAfterSeconds, now);
  return { service, health, novaDown: service.forcedDown || service.state === 'down' };
}

/** Migration statuses after which nothing moves any more; any other status is in flight. */
const FINISHED = new Set([
  'completed',
  'done',
  'confirmed',
  'finished',
  'error',
  'failed',
  'cancelled',
  'reverted',
]);
export const migrationInFlight = (status: string) => !FINISHED.has(status);
/** Task states of a server being moved (live or cold). */
export const MOVING_TASK_STATES = new Set([
  'migrating',
  'resize_prep',
  'resize_migrating',
  'resize_migrated',
  'resize_finish',
]);
