// Step 1: confirm the host is really down before anything is powered off.
// Nova is the independent witness: the compute service is reported down, is already
// forced down (a re-driven recovery), or has not reported for staleAfterSeconds.
import { HOST_NOT_CONFIRMED, WorkflowError } from './errors.js';
import type { Runtime } from './runtime.js';
import { nowIso, parseNovaTime } from './time.js';

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
  const reported = parseNovaTime(service.updatedAt);
  const ageSeconds = reported === null ? Number.POSITIVE_INFINITY : (Date.now() - reported) / 1000;
  const age = Number.isFinite(ageSeconds) ? `${Math.round(ageSeconds)} s ago` : 'never';
  let evidence: string | null = null;
  if (service.forcedDown) evidence = `nova-compute on ${input.host} is already forced down`;
  else if (service.state === 'down')
    evidence = `Nova reports nova-compute on ${input.host} down (last report ${age})`;
  else if (ageSeconds > rt.policy.confirm.staleAfterSeconds) {
    evidence = `nova-compute on ${input.host} last reported ${age} (stale after ${rt.policy.confirm.staleAfterSeconds} s)`;
  }
  if (!evidence) {
    throw new WorkflowError(
      HOST_NOT_CONFIRMED,
      `nova-compute on ${input.host} is up and reported ${age}; not confirmed down`,
    );
  }
  rt.logger.info('host failure confirmed', { host: input.host, evidence });
  return { serviceId: service.id, evidence, at: nowIso() };
}
