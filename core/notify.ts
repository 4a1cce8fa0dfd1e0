// Step 8: tell the admins and the affected projects. Builds one RecoveryReport (with
// instance names and projects read back from Nova) and hands it to every notifier.
// Never throws: a notifier failing is reported in the execution, never fails the recovery.

import { deliverReport } from './deliver-report.js';
import { mapLimit } from './map-limit.js';
import { countMetric, secondsMetric } from './metrics.js';
import type {
  InstanceOutcomeKind,
  InstanceReport,
  NotificationKind,
  NotifierResult,
  RecoveryReport,
  Server,
  StageReport,
} from './ports.js';
import { INSTANCE_OUTCOMES } from './ports.js';
import type { Runtime } from './runtime.js';
import { flattenResults } from './summarize.js';
import { nowIso } from './time.js';

export interface NotifyInput {
  kind: NotificationKind;
  host: string;
  incident: string;
  cause: string;
  requestedAt: string;
  executionName?: string | null;
  /** Why the run stopped early ({Error, Cause} as Step Functions gives a caught error). */
  error?: { Error?: string; Cause?: string } | null;
  fence?: {
    method: string;
    controller: string;
    recordOnly: boolean;
    offError?: string | null;
    at: string;
  } | null;
  power?: { verified: boolean; at: string } | null;
  stages?: StageReport[];
  /** Per-instance results; one array per restart-priority wave, or flat. */
  results?: Array<NotifyInstanceResult | NotifyInstanceResult[]>;
  /** Selected instances the plan found no room for. */
  unplaced?: Array<{ id: string; name: string; reason: string }>;
  skippedCount?: number;
}
export interface NotifyInstanceResult {
  id: string;
  outcome: string;
  to?: string | null;
  final?: string | null;
  seconds?: number | null;
  reason?: string | null;
  error?: string;
  cause?: string;
}
export interface NotifyResult {
  delivered: number;
  failed: number;
  results: NotifierResult[];
}

/** Step Functions wraps a Lambda error's Cause as JSON {errorType, errorMessage}; show the message. */
export function describeError(error: { Error?: string; Cause?: string } | null | undefined): string {
  if (!error) return 'unknown error';
  let cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed.errorMessage) cause = parsed.errorMessage;
  } catch {
    // plain text cause
  }
  return `${error.Error ?? 'Error'}: ${cause}`;
}

/** An instance's error as the state keeps it: its name, and its cause only from executions before causes were dropped. */
const errorReason = (error: string, cause: string | undefined) =>
  cause ? describeError({ Error: error, Cause: cause }) : `${error} (the cause is in the execution history)`;

const OUTCOMES = new Set<InstanceOutcomeKind>(INSTANCE_OUTCOMES);
/** A drain's already-moved instance reads as moved; its results speak the drain's outcomes. */
const DRAIN_OUTCOME: Record<string, InstanceOutcomeKind> = { 'already-moved': 'migrated' };

const STOPPED_KINDS = new Set<NotificationKind>(['fencing-failed', 'recovery-failed', 'drain-failed']);

/**
 * When a recovery stops before evacuating, the instances still on the host are the
 * ones whose owners must hear about it: listed as not recovered, with the reason. The
 * list already names each one and its project, so the report reads none of them again.
 */
async function strandedInstances(
  rt: Runtime,
  input: NotifyInput,
): Promise<{ results: NonNullable<NotifyInput['results']>; servers: Server[] }> {
  if (!STOPPED_KINDS.has(input.kind)) return { results: [], servers: [] };
  try {
    const servers = await rt.cloud.listServersOnHost(input.host);
    const drain = input.kind === 'drain-failed';
    const reason = drain
      ? 'not moved: the drain stopped; it still runs here'
      : `not evacuated: ${input.kind === 'fencing-failed' ? 'the host could not be fenced safely' : 'the recovery stopped'}`;
    const outcome = drain ? 'not-migrated' : 'failed';
    return {
      results: servers.map((s) => ({ id: s.id, outcome, to: null, final: s.status, reason })),
      servers,
    };
  } catch (error) {
    rt.logger.warn('could not list the instances left on the host', {
      host: input.host,
      error: (error as Error).message,
    });
    return { results: [], servers: [] };
  }
}

/** `known`: servers already read (by id), so only the others are asked of Nova. */
export async function buildReport(
  rt: Runtime,
  input: NotifyInput,
  known: readonly Server[] = [],
): Promise<RecoveryReport> {
  const drain = input.kind === 'drain' || input.kind === 'drain-refused' || input.kind === 'drain-failed';
  const results: NotifyInstanceResult[] = [
    ...flattenResults(input.results ?? []),
    ...(input.unplaced ?? []).map((u) => ({
      id: u.id,
      outcome: drain ? 'not-migrated' : 'failed',
      to: null,
      reason: `${drain ? 'not moved' : 'not evacuated'}: ${u.reason}`,
    })),
  ];
  const byId = new Map(known.map((s) => [s.id, s]));
  const details = await mapLimit(
    results,
    16,
    async (r) =>
      byId.get(r.id) ?? (await rt.cloud.getServer(r.id).catch((): Server | undefined => undefined)),
  );
  const instances: InstanceReport[] = results.map((r, i) => {
    const server = details[i];
    const outcome =
      DRAIN_OUTCOME[r.outcome] ??
      (OUTCOMES.has(r.outcome as InstanceOutcomeKind) ? (r.outcome as InstanceOutcomeKind) : 'failed');
    // The state keeps per-instance results small: where an instance is now, and its status, come from Nova.
    const moved = server?.host && server.host !== input.host ? server : undefined;
    return {
      id: r.id,
      name: server?.name ?? r.id,
      projectId: server?.projectId ?? null,
      outcome,
      fromHost: input.host,
      toHost: r.to ?? moved?.host ?? null,
      priorStatus: null,
      finalStatus: r.final ?? moved?.status ?? null,
      seconds: r.seconds ?? null,
      reason: r.reason ?? (r.error ? errorReason(r.error, r.cause) : null),
    };
  });
  const count = (...kinds: InstanceOutcomeKind[]) =>
    instances.filter((i) => kinds.includes(i.outcome)).length;
  const template = rt.policy.executionUrlTemplate;
  const fence = input.fence
    ? {
        method: input.fence.method,
        controller: input.fence.controller,
        verified: input.power?.verified === true,
        detail: input.fence.recordOnly
          ? 'RECORD-ONLY: freezer-dr did not control power'
          : input.power?.verified
            ? `power verified off at ${input.power.at}`
            : input.error
              ? describeError(input.error)
              : 'not verified',
      }
    : null;
  return {
    kind: input.kind,
    host: input.host,
    incident: input.incident,
    executionName: input.executionName ?? null,
    executionUrl:
      template && input.executionName ? template.replace('{execution}', input.executionName) : null,
    cause:
      input.error && input.kind !== 'recovery' && input.kind !== 'drain'
        ? describeError(input.error)
        : input.cause,
    fence,
    timeline: input.stages ?? [],
    instances,
    counts: {
      selected: results.length,
      recovered: count('recovered', 'already-recovered', 'migrated'),
      failed: count('failed', 'not-migrated'),
      skipped: input.skippedCount ?? 0,
    },
    startedAt: input.requestedAt,
    finishedAt: nowIso(),
  };
}

export async function notify(rt: Runtime, input: NotifyInput): Promise<NotifyResult> {
  if (input.kind === 'fencing-failed') countMetric('FencingFailed');
  if (input.kind === 'recovery')
    secondsMetric('RecoveryDuration', (Date.now() - Date.parse(input.requestedAt)) / 1000);
  let report: RecoveryReport;
  try {
    const stranded = input.results ? null : await strandedInstances(rt, input);
    report = await buildReport(
      rt,
      { ...input, results: input.results ?? stranded?.results ?? [] },
      stranded?.servers,
    );
  } catch (error) {
    rt.logger.error('could not build the recovery report', { error: (error as Error).message });
    return { delivered: 0, failed: rt.notifiers.length, results: [] };
  }
  const results = await deliverReport(rt.notifiers, report, { logger: rt.logger });
  return {
    delivered: results.filter((r) => r.ok).length,
    failed: results.filter((r) => !r.ok).length,
    results,
  };
}
