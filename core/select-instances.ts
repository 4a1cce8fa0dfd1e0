// Step 5: which servers on the failed host are evacuated. Pure policy over Nova's list,
// so the Map receives ids only (a Step Functions state holds at most 256 KiB).
import { matchesGlob } from 'node:path';
import type { SelectionPolicy } from './config.js';
import type { Server } from './ports.js';
import type { Runtime } from './runtime.js';

export interface SelectInput {
  host: string;
  /** drain: the host drain's selection (live-migratable instances; its own concurrency). */
  purpose?: 'recovery' | 'drain';
}
export interface SkippedServer {
  id: string;
  name: string;
  reason: string;
}
export interface SelectResult {
  ids: string[];
  total: number;
  skippedCount: number;
  /** The first skipped servers, for the report (capped to keep the state small). */
  skipped: SkippedServer[];
  maxConcurrency: number;
}

const MAX_SKIPPED_LISTED = 50;
const TRUE_VALUES = new Set(['true', '1', 'yes', 'on']);

/** Why a server is not evacuated under this policy, or null when it is. */
export function skipReason(server: Server, policy: SelectionPolicy): string | null {
  if (policy.skipNames.some((glob) => matchesGlob(server.name, glob))) {
    return 'name matches a skip pattern';
  }
  if (policy.ignoreErrorInstances && server.status === 'ERROR')
    return 'in ERROR and ignoreErrorInstances is set';
  if (server.vmState === 'building' || server.status === 'BUILD') return 'still building';
  if (policy.mode === 'ha-enabled') {
    const value = server.metadata[policy.haEnabledKey];
    if (!value || !TRUE_VALUES.has(value.toLowerCase())) return `metadata ${policy.haEnabledKey} is not True`;
  }
  if (policy.mode === 'tagged') {
    const spec = server.flavor.extraSpecs[policy.tag] ?? server.flavor.extraSpecs[`trait:${policy.tag}`];
    const tagged = (spec && TRUE_VALUES.has(spec.toLowerCase())) || server.tags.includes(policy.tag);
    if (!tagged) return `neither flavor extra spec nor server tag "${policy.tag}"`;
  }
  return null;
}

/** Why the drain leaves a server the policy selects where it is, or null when it moves it. */
export function drainSkipReason(server: Server, coldMigrateStopped: boolean): string | null {
  const stopped = server.vmState === 'stopped' || server.status === 'SHUTOFF';
  if (stopped && !coldMigrateStopped) return 'SHUTOFF and drain.coldMigrateStopped is off: it stays';
  if (server.status === 'ERROR' || server.vmState === 'error') return 'in ERROR: not migrated';
  return null;
}

export async function selectInstances(rt: Runtime, input: SelectInput): Promise<SelectResult> {
  const drain = input.purpose === 'drain';
  const servers = await rt.cloud.listServersOnHost(input.host);
  const ids: string[] = [];
  const skipped: SkippedServer[] = [];
  let skippedCount = 0;
  for (const server of servers) {
    if (server.host && server.host !== input.host) continue;
    const reason =
      skipReason(server, rt.policy.selection) ??
      (drain ? drainSkipReason(server, rt.config.drain.coldMigrateStopped) : null);
    if (reason === null) ids.push(server.id);
    else {
      skippedCount += 1;
      if (skipped.length < MAX_SKIPPED_LISTED) skipped.push({ id: server.id, name: server.name, reason });
    }
  }
  rt.logger.info('instances selected', {
    host: input.host,
    total: servers.length,
    selected: ids.length,
    skippedCount,
  });
  return {
    ids,
    total: servers.length,
    skippedCount,
    skipped,
    maxConcurrency: drain ? rt.config.drain.maxConcurrency : rt.policy.evacuation.maxConcurrency,
  };
}
