// Step 4: tell Nova the host is gone: forced_down lets evacuation start at once instead
// of after service_down_time, disabled keeps the scheduler away. Idempotent: a service
// already forced down and disabled by this incident is left as it is.
import { formatDisabledReason, parseDisabledReason } from './disabled-reason.js';
import { CLOUD_REJECTED, HOST_UNKNOWN, WorkflowError } from './errors.js';
import type { Runtime } from './runtime.js';
import { nowIso } from './time.js';

export interface MarkDownInput {
  host: string;
  incident: string;
  fence: string;
}
export interface MarkDownResult {
  serviceId: string;
  reason: string;
  previousReason: string | null;
  changed: boolean;
  at: string;
}

export async function markHostDown(rt: Runtime, input: MarkDownInput): Promise<MarkDownResult> {
  const [service] = (await rt.cloud.listComputeServices({ host: input.host })).filter(
    (s) => s.host === input.host,
  );
  if (!service)
    throw new WorkflowError(HOST_UNKNOWN, `Nova has no nova-compute service on host ${input.host}`);
  const ours = parseDisabledReason(service.disabledReason);
  if (
    service.forcedDown &&
    service.status === 'disabled' &&
    ours?.kind === 'host-failure' &&
    ours.incident === input.incident
  ) {
    return {
      serviceId: service.id,
      reason: service.disabledReason ?? '',
      previousReason: null,
      changed: false,
      at: nowIso(),
    };
  }
  const reason = formatDisabledReason({ incident: input.incident, fence: input.fence, fencedAt: nowIso() });
  const updated = await rt.cloud.updateComputeService(service.id, {
    status: 'disabled',
    disabledReason: reason,
    forcedDown: true,
  });
  if (!updated.forcedDown || updated.status !== 'disabled') {
    throw new WorkflowError(
      CLOUD_REJECTED,
      `Nova did not force ${input.host} down (it reads ${updated.status}/${updated.state})`,
    );
  }
  rt.logger.info('compute service forced down and disabled', { host: input.host, serviceId: service.id });
  return {
    serviceId: service.id,
    reason,
    previousReason: service.disabledReason && !ours ? service.disabledReason : null,
    changed: true,
    at: nowIso(),
  };
}
