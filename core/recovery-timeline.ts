// What an operator wants from a recovery's history: its stages in order, and one row per
// instance (from, to, state, time). Built from the AWS-shaped history (GetExecutionHistory),
// so the executions page, `executions show` and `watch` read a local run and one on AWS alike.
import type { HistoryEvent } from '@aws-sdk/client-sfn';

/**
 * `caught`: its Task failed and a Retry may run it again; a stage that ends after a caught
 * error (its Catch took the run elsewhere) reads `failed`, with the error and its message.
 */
export type StageStatus = 'running' | 'succeeded' | 'caught' | 'failed' | 'aborted' | 'interrupted';

export interface StageView {
  name: string;
  /** 0 for the first run, n after the n-th re-drive. */
  run: number;
  status: StageStatus;
  enteredAt: Date;
  exitedAt: Date | null;
  /** Task attempts (1 unless Retry ran it again). */
  attempts: number;
  detail: string | null;
  error: string | null;
}

export interface InstanceView {
  id: string;
  from: string | null;
  to: string | null;
  /** evacuating, rebuilding, recovered, already-recovered, failed, gone, in-progress, already-moved */
  state: string;
  final: string | null;
  seconds: number | null;
  reason: string | null;
  startedAt: Date | null;
  updatedAt: Date;
}

export interface RecoveryTimeline {
  stages: StageView[];
  instances: InstanceView[];
  redrives: { at: Date; count: number }[];
}

type Json = Record<string, unknown>;

function parse(text: string | undefined): Json {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Json) : {};
  } catch {
    return {};
  }
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const field = (value: unknown, key: string): unknown =>
  value && typeof value === 'object' ? (value as Json)[key] : undefined;

/** A Lambda error's cause is JSON {errorType, errorMessage}: the message is what a person reads. */
export function causeText(cause: string | undefined | null): string | null {
  if (!cause) return null;
  const message = parse(cause).errorMessage;
  return typeof message === 'string' ? message : cause;
}

/** One line saying what a top-level stage found or did, from its output. */
function stageDetail(name: string, output: Json): string | null {
  switch (name) {
    case 'ConfirmHostFailure': {
      const checks = field(output.confirm, 'checks');
      const evidence = str(field(output.confirm, 'evidence'));
      return typeof checks === 'number' && checks > 1 ? `${evidence} (${checks} reads of Nova)` : evidence;
    }
    case 'FenceHost': {
      const fence = output.fence as Json | undefined;
      if (!fence) return null;
      const before = str(fence.before);
      return `${str(fence.controller) ?? ''}${before === 'off' ? ' (already off)' : ''}${fence.offError ? ` (off request failed: ${String(fence.offError)})` : ''}`;
    }
    case 'VerifyPowerOff': {
      const power = output.power as Json | undefined;
      if (!power) return null;
      return power.recordOnly
        ? 'RECORD-ONLY: power not verified'
        : `power reads off (${String(power.polls)} polls)`;
    }
    case 'MarkHostDown':
      return str(field(output.markDown, 'reason'));
    case 'SelectInstances': {
      const selection = output.selection as Json | undefined;
      if (!selection) return null;
      const ids = Array.isArray(selection.ids) ? selection.ids.length : 0;
      return `${ids} selected, ${String(selection.skippedCount ?? 0)} skipped`;
    }
    case 'EvacuateInstances':
      return Array.isArray(output.results) ? `${output.results.length} instances processed` : null;
    case 'Summarize':
      return str(field(output.summary, 'message'));
    default:
      if (name.startsWith('Notify')) {
        const notifications = output.notifications as Json | undefined;
        if (notifications)
          return `${String(notifications.delivered ?? 0)} delivered, ${String(notifications.failed ?? 0)} failed`;
        return output.notifyError ? 'notification failed' : null;
      }
      return null;
  }
}

/**
 * ConfirmHostFailure reads Nova, the Choice NovaVerdict routes, and the Wait WaitForNova
 * waits before the next read: one stage for the operator, its reads counted as attempts.
 * PowerVerdict only routes VerifyPowerOff's reading (where it went is the next stage), and
 * CountSelection only keeps the state small: neither is a stage of its own.
 */
const CONFIRM = 'ConfirmHostFailure';
const FOLDED = new Set(['NovaVerdict', 'WaitForNova', 'PowerVerdict', 'CountSelection']);

export function recoveryTimeline(
  history: readonly HistoryEvent[],
  topLevel: ReadonlySet<string>,
): RecoveryTimeline {
  const byId = new Map<number, HistoryEvent>();
  for (const event of history) byId.set(event.id ?? 0, event);
  // Which state an event belongs to: follow previousEventId back to the StateEntered event.
  const owner = new Map<number, HistoryEvent | null>();
  const enteredOf = (event: HistoryEvent): HistoryEvent | null => {
    const id = event.id ?? 0;
    if (owner.has(id)) return owner.get(id) ?? null;
    let found: HistoryEvent | null = null;
    if (event.stateEnteredEventDetails) found = event;
    else if (!event.type?.startsWith('Execution') && !event.type?.startsWith('MapIteration')) {
      const previous = byId.get(event.previousEventId ?? 0);
      found = previous && previous !== event ? enteredOf(previous) : null;
    }
    owner.set(id, found);
    return found;
  };

  const stages: StageView[] = [];
  const open = new Map<string, StageView>();
  const instances = new Map<string, InstanceView>();
  const redrives: RecoveryTimeline['redrives'] = [];
  let run = 0;

  const row = (id: string, at: Date): InstanceView => {
    let view = instances.get(id);
    if (!view) {
      view = {
        id,
        from: null,
        to: null,
        state: 'evacuating',
        final: null,
        seconds: null,
        reason: null,
        startedAt: null,
        updatedAt: at,
      };
      instances.set(id, view);
    }
    view.updatedAt = at;
    return view;
  };

  for (const event of history) {
    const at = event.timestamp ?? new Date(0);
    const entered = event.stateEnteredEventDetails;
    const exited = event.stateExitedEventDetails;
    if (event.type === 'ExecutionRedriven') {
      for (const stage of open.values()) stage.status = 'interrupted';
      open.clear();
      run += 1;
      redrives.push({ at, count: event.executionRedrivenEventDetails?.redriveCount ?? run });
    } else if (event.type === 'ExecutionFailed') {
      const failed = [...stages].reverse().find((stage) => stage.status === 'failed');
      if (failed) {
        failed.error = event.executionFailedEventDetails?.error ?? null;
        failed.detail = causeText(event.executionFailedEventDetails?.cause);
      }
    } else if (event.type === 'ExecutionAborted' || event.type === 'ExecutionTimedOut') {
      for (const stage of open.values()) stage.status = 'aborted';
      open.clear();
    } else if (entered?.name && FOLDED.has(entered.name)) {
      // The confirmation loop's Choice and Wait are part of ConfirmHostFailure's stage.
    } else if (entered?.name === CONFIRM && stages.at(-1)?.name === CONFIRM && stages.at(-1)?.run === run) {
      const again = stages.at(-1) as StageView;
      again.status = 'running';
      again.exitedAt = null;
      open.set(CONFIRM, again);
    } else if (entered?.name && topLevel.has(entered.name)) {
      const stage: StageView = {
        name: entered.name,
        run,
        status: event.type === 'FailStateEntered' ? 'failed' : 'running',
        enteredAt: at,
        exitedAt: event.type === 'FailStateEntered' ? at : null,
        attempts: 0,
        detail: null,
        error: null,
      };
      stages.push(stage);
      if (stage.status === 'running') open.set(stage.name, stage);
    } else if (exited?.name && open.has(exited.name)) {
      const stage = open.get(exited.name) as StageView;
      open.delete(exited.name);
      stage.exitedAt = at;
      const failedWith = stage.status === 'caught' ? stage.detail : null;
      stage.status =
        stage.status === 'caught' ? 'failed' : stage.status === 'running' ? 'succeeded' : stage.status;
      stage.detail = stageDetail(stage.name, parse(exited.output)) ?? failedWith;
    } else if (
      event.type === 'TaskScheduled' ||
      event.type === 'TaskFailed' ||
      event.type === 'TaskTimedOut' ||
      event.type === 'TaskSucceeded'
    ) {
      const state = enteredOf(event)?.stateEnteredEventDetails?.name;
      const stage = state ? open.get(state) : undefined;
      if (stage && event.type === 'TaskScheduled') {
        stage.attempts += 1;
        stage.status = 'running';
      }
      if (stage && (event.type === 'TaskFailed' || event.type === 'TaskTimedOut')) {
        const details = event.taskFailedEventDetails ?? event.taskTimedOutEventDetails;
        stage.status = 'caught';
        stage.error = details?.error ?? null;
        // Kept as the stage's detail if this error ends it (what a person reads: the message).
        stage.detail = causeText(details?.cause);
      }
      if (stage && event.type === 'TaskSucceeded') {
        stage.error = null;
        stage.detail = null;
      }
      if (state === 'VerifyInstance' && event.type === 'TaskFailed') {
        const input = parse(enteredOf(event)?.stateEnteredEventDetails?.input);
        const id = str(input.id);
        if (id && event.taskFailedEventDetails?.error === 'Instance.NotSettled')
          row(id, at).state = 'rebuilding';
      }
    }

    // Instance rows, from the Map iteration's states.
    if (entered?.name === 'EvacuateInstance') {
      const input = parse(entered.input);
      const id = str(input.id);
      if (id) {
        const view = row(id, at);
        view.from = str(input.host);
        view.startedAt ??= at;
        if (!['recovered', 'already-recovered', 'failed', 'gone'].includes(view.state))
          view.state = 'evacuating';
      }
    } else if (exited?.name === 'EvacuateInstance') {
      const output = parse(exited.output);
      const id = str(output.id);
      const action = str(field(output.evacuation, 'action'));
      if (id && action) row(id, at).state = action === 'evacuated' ? 'rebuilding' : action;
    } else if (exited?.name === 'VerifyInstance' || exited?.name === 'InstanceFailed') {
      const output = parse(exited.output);
      const id = str(output.id);
      if (id) {
        const view = row(id, at);
        // Where it landed and its status are in the Lambda's answer (TaskSucceeded, just
        // before), which the workflow state leaves out to stay small.
        const succeeded = byId.get(event.previousEventId ?? 0);
        const answer =
          succeeded?.type === 'TaskSucceeded'
            ? field(parse(succeeded.taskSucceededEventDetails?.output), 'Payload')
            : undefined;
        view.state = str(output.outcome) ?? 'failed';
        view.to = str(output.to) ?? str(field(answer, 'to'));
        view.final = str(output.final) ?? str(field(answer, 'final'));
        view.seconds = typeof output.seconds === 'number' ? output.seconds : null;
        view.reason = str(output.reason) ?? str(output.error);
      }
    }
  }
  return { stages, instances: [...instances.values()], redrives };
}
