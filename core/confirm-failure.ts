// Step 1: confirm the host is really down before anything is powered off.
// Nova is the independent witness: the compute service is reported down, is already
// forced down (a re-driven recovery), or has not reported for staleAfterSeconds.
import { HOST_NOT_CONFIRMED, WorkflowError } from './errors.js';
import type { Runtime } from './runtime.js';
import { assessService } from './service-health.js';
import { nowIso } from './time.js';

export interface ConfirmInput {
  host: string;
}
export interface ConfirmResult {
  serviceId: string;
  evidence: string;
  at: string;
}

export async function confirmHostFailure(rt: Runtime, input: ConfirmInput): Promise<ConfirmResult> {
  const services = await rt.cloud.listComputeServices({ host: input.host });
  const service = services.find((s) => s.host === input.host);
  if (!service) {
    throw new WorkflowError('Host.Unknown', `Nova has no nova-compute service on host ${input.host}`);
  }
  const health = assessService(service, rt.policy.confirm.staleAfterSeconds);
  if (!health.down) throw new WorkflowError(HOST_NOT_CONFIRMED, health.evidence);
  const evidence = health.evidence;
  rt.logger.info('host failure confirmed', { host: input.host, evidence });
  return { serviceId: service.id, evidence, at: nowIso() };
}
