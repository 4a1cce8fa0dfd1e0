// The reconciler's instance half: instances an interrupted recovery left behind. Locked
// with freezer-dr's lock reason (it names the incident) and settled, with no recovery of
// that incident running: unlocked, as VerifyInstance would have done. Rebuilding from an
// evacuation freezer-dr started, for longer than evacuation.timeoutSeconds, with nothing
// running to watch it: reported (resetting a rebuild that may still finish is a person's
// call). Instances whose recovery is running, or still on a host whose recovery is being
// resumed or reported, are left alone.

import { lockReason } from './evacuate-instance.js';
import { isExecutionOfHost, namesIncident } from './executions.js';
import type { Server } from './ports.js';
import type { Runtime } from './runtime.js';
import { parseNovaTime } from './time.js';

export type InstanceAction = 'unlocked' | 'would-unlock' | 'in-recovery' | 'reported';

export interface InstanceFinding {
  id: string;
  name: string;
  host: string | null;
  incident: string | null;
  problem: 'locked' | 'stuck';
  action: InstanceAction;
  detail: string;
}

export interface InstanceContext {
  running: { name: string }[];
  /** Hosts freezer-dr took down, with their incident. */
  marked: Map<string, string>;
  /** Marked hosts whose remaining instances are the host finding's business (resumed or reported). */
  held: Set<string>;
  dryRun: boolean;
  now: number;
}

const LOCK_PREFIX = lockReason('');
const REBUILDING = new Set(['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning']);
const HOSTS_AT_ONCE = 4;

/** The incident named by freezer-dr's lock reason, or null for any other lock. */
export function lockIncident(reason: string | null | undefined): string | null {
  return reason?.startsWith(LOCK_PREFIX) ? reason.slice(LOCK_PREFIX.length) || null : null;
}

async function examine(
  rt: Runtime,
  server: Server,
  context: InstanceContext,
): Promise<InstanceFinding | null> {
  const incident = server.locked ? lockIncident(server.lockedReason) : null;
  const host = server.host;
  const markedIncident = host ? (context.marked.get(host) ?? null) : null;
  const rebuilding = server.taskState !== null && REBUILDING.has(server.taskState);
  if (!incident && !(rebuilding && markedIncident)) return null;
  const ofIncident = incident ?? markedIncident;
  const base = { id: server.id, name: server.name, host, incident: ofIncident };
  const open = context.running.find(
    (e) => (ofIncident && namesIncident(e.name, ofIncident)) || (host && isExecutionOfHost(e.name, host)),
  );
  if (open) {
    return {
      ...base,
      problem: rebuilding ? 'stuck' : 'locked',
      action: 'in-recovery',
      detail: `recovery ${open.name} is running`,
    };
  }
  if (rebuilding) {
    const migrations = await rt.cloud.listEvacuations({ instanceId: server.id });
    const started = Math.max(0, ...migrations.map((m) => parseNovaTime(m.createdAt) ?? 0));
    const seconds = Math.round((context.now - started) / 1000);
    if (seconds <= rt.policy.evacuation.timeoutSeconds) return null; // may still land: look again next time
    return {
      ...base,
      problem: 'stuck',
      action: 'reported',
      detail: `${server.taskState} for ${seconds} s after an evacuation freezer-dr started, and nothing is watching it: check nova-compute on the destination, then reset its state and evacuate it again`,
    };
  }
  if (host && context.held.has(host)) return null;
  if (context.dryRun) {
    return {
      ...base,
      problem: 'locked',
      action: 'would-unlock',
      detail: `locked by freezer-dr (incident ${incident}), ${server.status} on ${host ?? '?'}`,
    };
  }
  try {
    await rt.cloud.unlockServer(server.id);
  } catch (error) {
    return {
      ...base,
      problem: 'locked',
      action: 'reported',
      detail: `still locked by freezer-dr: unlock failed: ${(error as Error).message}`,
    };
  }
  rt.logger.warn('reconciler unlocked an instance an interrupted recovery had locked', {
    id: server.id,
    incident,
  });
  return {
    ...base,
    problem: 'locked',
    action: 'unlocked',
    detail: `${server.status} on ${host ?? '?'}; the lock of incident ${incident} was left behind`,
  };
}

/** Every server on every listed host, a few hosts at a time. */
export async function reconcileInstances(
  rt: Runtime,
  hosts: string[],
  context: InstanceContext,
): Promise<InstanceFinding[]> {
  const findings: InstanceFinding[] = [];
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const host = hosts[next++] as string;
      for (const server of await rt.cloud.listServersOnHost(host)) {
        const finding = await examine(rt, server, context);
        if (finding) findings.push(finding);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(HOSTS_AT_ONCE, hosts.length) }, worker));
  return findings.sort((a, b) => (a.host ?? '').localeCompare(b.host ?? '') || a.id.localeCompare(b.id));
}
