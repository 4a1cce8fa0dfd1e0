// State: HandOverAtStart / HandOverToRecovery. The drained host is down: its instances are
// the recovery's now. Starts the host-recovery workflow through the same executions API and
// under the same name as the intake would for this failure (host + the service's last report
// time), so a down alert arriving meanwhile and this hand-over are one recovery, not two.
// Idempotent: a second start of the same name reads as already started (ExecutionAlreadyExists).

import { type ExecutionsApi, executionName, type RecoveryInput } from '../executions.js';
import type { Channel } from '../ports.js';
import type { Runtime } from '../runtime.js';
import { nowIso } from '../time.js';
import { readDrainHost } from './host-state.js';

export interface HandOverInput {
  host: string;
  incident: string;
  /** The drain's execution name, for the record. */
  executionName?: string | null;
}
export interface HandOverResult {
  recovery: string;
  started: boolean;
  evidence: string;
  at: string;
}

export async function handOverToRecovery(
  rt: Runtime,
  input: HandOverInput,
  recoveries: ExecutionsApi,
): Promise<HandOverResult> {
  const { service, health, novaDown } = await readDrainHost(rt, input.host);
  const incident = service.updatedAt ?? 'never-reported';
  const at = nowIso();
  const channel: Channel = {
    channel: novaDown ? 'nova-down' : 'nova-stale',
    source: 'freezer-dr drain',
    at,
    detail: health.evidence.slice(0, 500),
  };
  const recovery: RecoveryInput = {
    host: input.host,
    incident,
    cause: `the host died during drain ${input.executionName ?? input.incident}: ${health.evidence}`.slice(
      0,
      2000,
    ),
    requestedAt: at,
    channels: [channel],
  };
  const started = await recoveries.start(recovery, { name: executionName(input.host, incident) });
  rt.logger.warn('drained host is down: recovery handed over', {
    host: input.host,
    recovery: started.executionName,
    started: started.started,
  });
  return { recovery: started.executionName, started: started.started, evidence: health.evidence, at };
}
