// State: DisableHostForDrain. Nothing new is scheduled on the degraded host: its compute
// service is disabled with freezer-dr's drain reason (not forced down: it still runs its
// instances, and a live migration needs its nova-compute). Idempotent: a service already
// disabled for this incident is left as it is.
import { formatDrainReason, parseDisabledReason } from '../disabled-reason.js';
import { CLOUD_REJECTED, WorkflowError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { nowIso } from '../time.js';
import { readDrainHost } from './host-state.js';

export interface DisableForDrainInput {
  host: string;
  incident: string;
  /** Why: the degraded alert, or the operator's words. */
  cause: string;
}
export interface DisableForDrainResult {
  serviceId: string;
  reason: string;
  changed: boolean;
  at: string;
}

/** The reason's free text: the alert's one line, without the "alert:" style prefix noise. */
const REASON_ROOM = 120;

export async function disableHostForDrain(
  rt: Runtime,
  input: DisableForDrainInput,
): Promise<DisableForDrainResult> {
  const { service } = await readDrainHost(rt, input.host);
  const ours = parseDisabledReason(service.disabledReason);
  if (service.status === 'disabled' && ours?.kind === 'drain' && ours.incident === input.incident) {
    return { serviceId: service.id, reason: service.disabledReason ?? '', changed: false, at: nowIso() };
  }
  const reason = formatDrainReason({ incident: input.incident, reason: input.cause.slice(0, REASON_ROOM) });
  const updated = await rt.cloud.updateComputeService(service.id, {
    status: 'disabled',
    disabledReason: reason,
  });
  if (updated.status !== 'disabled') {
    throw new WorkflowError(
      CLOUD_REJECTED,
      `Nova did not disable ${input.host} (it reads ${updated.status})`,
    );
  }
  rt.logger.info('compute service disabled for a drain', { host: input.host, serviceId: service.id });
  return { serviceId: service.id, reason, changed: true, at: nowIso() };
}
