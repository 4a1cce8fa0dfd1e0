// State: SummarizeDrain. One verdict for the drain from the Map's per-instance results and
// one more read of Nova: how many instances the degraded host still holds (whatever the
// reason: refused, timed out, skipped by the policy, SHUTOFF, started there meanwhile), and
// whether the host went down (then HandOverToRecovery starts its recovery).
import type { Runtime } from '../runtime.js';
import { flattenResults } from '../summarize.js';
import { readDrainHost } from './host-state.js';

type Result = { id: string; outcome: string; reason?: string | null; error?: string };

export interface SummarizeDrainInput {
  host: string;
  selectedCount: number;
  skippedCount: number;
  results: Array<Result | Result[]>;
}

export interface DrainSummary {
  outcome: 'complete' | 'incomplete' | 'host-down';
  selected: number;
  migrated: number;
  notMigrated: number;
  gone: number;
  skipped: number;
  /** Instances Nova lists on the host now. */
  remaining: number;
  hostDown: boolean;
  hostEvidence: string;
  notMigratedIds: string[];
  message: string;
}

const MAX_LISTED = 50;

export async function summarizeDrain(rt: Runtime, input: SummarizeDrainInput): Promise<DrainSummary> {
  const results = flattenResults(input.results);
  const count = (...outcomes: string[]) => results.filter((r) => outcomes.includes(r.outcome)).length;
  const failed = results.filter(
    (r) => r.outcome !== 'migrated' && r.outcome !== 'already-moved' && r.outcome !== 'gone',
  );
  const [servers, host] = await Promise.all([
    rt.cloud.listServersOnHost(input.host),
    readDrainHost(rt, input.host),
  ]);
  const remaining = servers.filter((s) => !s.host || s.host === input.host).length;
  const migrated = count('migrated', 'already-moved');
  const hostDown = host.health.down;
  const outcome = hostDown ? 'host-down' : remaining > 0 || failed.length > 0 ? 'incomplete' : 'complete';
  const first = failed
    .slice(0, 3)
    .map((r) => `${r.id}: ${r.reason ?? r.error ?? 'not migrated'}`)
    .join('; ');
  const held = `degraded host still holds ${remaining} instance${remaining === 1 ? '' : 's'}`;
  const message =
    outcome === 'complete'
      ? `${input.host}: ${migrated} of ${input.selectedCount} instances live-migrated; the host is empty and disabled`
      : `${input.host}: ${migrated} of ${input.selectedCount} instances migrated; ${held}${hostDown ? `; the host went down (${host.health.evidence}): its recovery takes over` : ''}${first ? `; first: ${first}` : ''}`;
  return {
    outcome,
    selected: input.selectedCount,
    migrated,
    notMigrated: failed.length,
    gone: count('gone'),
    skipped: input.skippedCount,
    remaining,
    hostDown,
    hostEvidence: host.health.evidence,
    notMigratedIds: failed.slice(0, MAX_LISTED).map((r) => r.id),
    message,
  };
}
