// The reconciler's host half: a compute service freezer-dr took down (forced down or
// disabled with its structured reason) while no recovery of that host is running was cut
// short somewhere after MarkHostDown (engine lost, execution stopped or timed out). If
// instances the policy would evacuate are still on it, the recovery is resumed under the
// same incident, but only when the power is read again and reads off: the resumed
// run's FenceHost then sees the host off and powers nothing. Any other reading is
// reported, never acted on.

import { parseDisabledReason } from './disabled-reason.js';
import { type ExecutionsApi, isExecutionOfHost, resumedExecutionName } from './executions.js';
import type { ComputeService, PowerState } from './ports.js';
import type { Runtime } from './runtime.js';
import { selectInstances } from './select-instances.js';
import { nowIso } from './time.js';

export type HostAction =
  /** A recovery execution was started for the same incident. */
  | 'resumed'
  | 'would-resume'
  /** Its recovery is running: nothing to do. */
  | 'in-recovery'
  /** Nothing the policy would evacuate is left on it: it waits for `freezer-dr restore`. */
  | 'awaiting-restore'
  /** Needs a person: the power does not read off, or the one resumed run did not finish it. */
  | 'reported';

export interface HostFinding {
  host: string;
  incident: string;
  action: HostAction;
  /** Instances still on the host that the policy selects. */
  remaining: string[];
  power: PowerState | null;
  executionName: string | null;
  detail: string;
}

export interface HostContext {
  executions: ExecutionsApi;
  running: { name: string }[];
  dryRun: boolean;
}

/** The services freezer-dr marked and has not handed back, with the incident each was marked for. */
export function markedServices(services: ComputeService[]): { service: ComputeService; incident: string }[] {
  return services.flatMap((service) => {
    const reason = parseDisabledReason(service.disabledReason);
    // A drained host was never fenced: it has no cut-short recovery to resume.
    if (!reason || reason.kind === 'drain' || !(service.forcedDown || service.status === 'disabled'))
      return [];
    return [{ service, incident: reason.incident }];
  });
}

async function readPower(rt: Runtime, host: string): Promise<{ power: PowerState; note: string }> {
  if (rt.fencer.recordOnly) {
    return { power: 'unknown', note: `power is not controlled by freezer-dr (fencer ${rt.fencer.kind})` };
  }
  try {
    const power = await rt.fencer.powerStatus(host);
    return { power, note: `${rt.fencer.describe(host)} reads ${power}` };
  } catch (error) {
    return { power: 'unknown', note: `power status of ${host} failed: ${(error as Error).message}` };
  }
}

export async function reconcileHost(
  rt: Runtime,
  service: ComputeService,
  incident: string,
  context: HostContext,
): Promise<HostFinding> {
  const host = service.host;
  const base = { host, incident, remaining: [] as string[], power: null, executionName: null };
  const open = context.running.find((e) => isExecutionOfHost(e.name, host));
  if (open) {
    return {
      ...base,
      action: 'in-recovery',
      executionName: open.name,
      detail: `recovery ${open.name} is running`,
    };
  }
  const { ids } = await selectInstances(rt, { host });
  if (ids.length === 0) {
    return {
      ...base,
      action: 'awaiting-restore',
      detail: `no instance to recover is left on ${host}; bring it back with \`freezer-dr restore ${host}\``,
    };
  }
  const left = `${ids.length} instance${ids.length === 1 ? '' : 's'} still on ${host}, no recovery running`;
  // Read again, never assumed from the marker: someone may have powered it on since.
  const { power, note } = await readPower(rt, host);
  const found = { ...base, remaining: ids, power };
  if (power !== 'off') {
    return {
      ...found,
      action: 'reported',
      detail: `${host} was taken down by freezer-dr (incident ${incident}); ${left}; not resumed because ${note}: check the host, then recover or restore it by hand`,
    };
  }
  const name = resumedExecutionName(host, incident);
  if (context.dryRun) {
    return {
      ...found,
      action: 'would-resume',
      executionName: name,
      detail: `${left}; ${note}: would resume as ${name}`,
    };
  }
  const started = await context.executions.start(
    {
      host,
      incident,
      cause: `reconciler: the recovery of ${host} (incident ${incident}) was cut short: ${left}; ${note}`,
      requestedAt: nowIso(),
    },
    { name },
  );
  if (!started.started) {
    return {
      ...found,
      action: 'reported',
      executionName: name,
      detail: `${left}; the recovery was already resumed once (${name}) and did not finish: evacuate what is left by hand`,
    };
  }
  rt.logger.warn('reconciler resumed an interrupted recovery', { host, incident, execution: name });
  return { ...found, action: 'resumed', executionName: name, detail: `${left}; ${note}: resumed as ${name}` };
}
