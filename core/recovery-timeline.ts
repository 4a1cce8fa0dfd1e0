// What an operator wants from a recovery's history: its stages in order, and one row per
// instance (from, to, state, time). Built from the AWS-shaped history (GetExecutionHistory),
// so the executions page, `executions show` and `watch` read a local run and one on AWS alike.
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { INSTANCE_NOT_SETTLED } from './errors.js';
import { INSTANCE_OUTCOMES } from './ports.js';

/** An instance in one of these states is done; a later Map entry never reopens it. */
const SETTLED = new Set<string>(INSTANCE_OUTCOMES);

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
  /** Where Nova says it landed (VerifyInstance); null until then. */
  to: string | null;
  /** Where the plan sends it (the host asked for); null: the scheduler chooses. */
  target: string | null;
  /** evacuating, rebuilding, recovered, already-recovered, failed, gone, in-progress, already-moved */
  state: string;
  final: string | null;
  seconds: number | null;
  reason: string | null;
  /** EvacuateInstance entered (first time). */
  startedAt: Date | null;
  /** EvacuateInstance exited: the evacuate request is with Nova (or nothing needed sending). */
  evacuatedAt: Date | null;
  /** VerifyInstance (or InstanceFailed) exited: the outcome is known. */
  settledAt: Date | null;
  updatedAt: Date;
}

/** The moments the floor measures a recovery by; null until they happen. */
export interface RecoveryMoments {
  /** The alert (the execution input's requestedAt). */
  alertAt: Date | null;
  /** VerifyPowerOff read the power off (not in RECORD-ONLY mode). */
  powerOffAt: Date | null;
  /** The first EvacuateInstance that sent an evacuate request. */
  firstEvacuateAt: Date | null;
  /** The last VerifyInstance that found its instance back. */
  lastVerifiedAt: Date | null;
}

export interface RecoveryTimeline {
  stages: StageView[];
  instances: InstanceView[];
  redrives: { at: Date; count: number }[];
  moments: RecoveryMoments;
}

/**
 * Where an instance is going: where Nova says it landed once VerifyInstance has read it,
 * until then the host the plan asked for (`planned`), or null (the scheduler chooses).
 */
export function destination(instance: InstanceView): { host: string | null; planned: boolean } {
  if (instance.to) return { host: instance.to, planned: false };
  if (!instance.settledAt && instance.target) return { host: instance.target, planned: true };
  return { host: null, planned: false };
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

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What ConfirmHostFailure's last read concluded, in the words the page and the CLI use. */
export function confirmText(confirm: unknown): string | null {
  const status = str(field(confirm, 'status'));
  const evidence = str(field(confirm, 'evidence'));
  if (!status || evidence === null) return evidence;
  const checks = field(confirm, 'checks');
  const reads = plural(typeof checks === 'number' ? checks : 1, 'read');
  switch (status) {
    case 'confirmed':
      return `confirmed after ${reads} of Nova: ${evidence}`;
    case 'waiting':
      // The step's own evidence already opens with "waiting for Nova to agree: ".
      return `waiting for Nova: ${evidence.replace(/^waiting for Nova[^:]*: /, '')}`;
    case 'not-down':
      return `not down after ${reads} of Nova: ${evidence}`;
    default:
      return `${status}: ${evidence}`;
  }
}

/** "4 instances: 3 recovered, 1 failed" from EvacuateInstances' results (one array per wave). */
function evacuationDetail(results: unknown[]): string {
  const waves = results.filter(Array.isArray).length;
  const instances = results.flat();
  const outcomes = new Map<string, number>();
  for (const result of instances) {
    const outcome = str(field(result, 'outcome')) ?? 'unknown';
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  const counts = [...outcomes].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
  return `${plural(instances.length, 'instance')}${waves > 1 ? ` in ${waves} waves` : ''}${counts ? `: ${counts}` : ''}`;
}

const LISTED_UNPLACED = 3;

/** CapacityCheck: does every instance have a host with room, and if not which ones stay down. */
function capacityDetail(plan: Json | undefined): string | null {
  if (!plan) return null;
  const count = typeof plan.unplacedCount === 'number' ? plan.unplacedCount : 0;
  if (count === 0) return 'every selected instance has a host with room';
  const unplaced = Array.isArray(plan.unplaced) ? plan.unplaced : [];
  const listed = unplaced
    .slice(0, LISTED_UNPLACED)
    .map((u) => `${str(field(u, 'name')) ?? str(field(u, 'id'))} (${str(field(u, 'reason')) ?? '?'})`);
  const more = count - listed.length;
  return `shortfall: ${plural(count, 'instance')} without room, the admins are told before evacuating${
    listed.length ? `: ${listed.join(', ')}${more > 0 ? `, +${more} more` : ''}` : ''
  }`;
}

/** One line saying what a top-level stage found or did, from its output. */
function stageDetail(name: string, output: Json): string | null {
  switch (name) {
    case 'ConfirmHostFailure':
      return confirmText(output.confirm);
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
        : `power reads off (${typeof power.polls === 'number' ? plural(power.polls, 'poll') : '? polls'})`;
    }
    case 'MarkHostDown':
      return str(field(output.markDown, 'reason'));
    case 'SelectInstances': {
      const selection = output.selection as Json | undefined;
      if (!selection) return null;
      const ids = Array.isArray(selection.ids) ? selection.ids.length : 0;
      return `${ids} selected, ${String(selection.skippedCount ?? 0)} skipped`;
    }
    case 'PlanTargets': {
      const summary = str(field(output.plan, 'summary'));
      const source = str(field(output.plan, 'capacitySource'));
      return summary && source?.startsWith('unavailable') ? `${summary} (capacity ${source})` : summary;
    }
    case 'CapacityCheck':
      return capacityDetail(output.plan as Json | undefined);
    case 'EvacuateInstances':
      return Array.isArray(output.results) ? evacuationDetail(output.results) : null;
    case 'Summarize':
      return str(field(output.summary, 'message'));
    default:
      if (name.startsWith('Notify')) {
        const notifications = (output.notifications ?? output.shortfallNotice) as Json | undefined;
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
  const moments: RecoveryMoments = {
    alertAt: null,
    powerOffAt: null,
    firstEvacuateAt: null,
    lastVerifiedAt: null,
  };
  let planned: number | null = null;
  let run = 0;

  const row = (id: string, at: Date): InstanceView => {
    let view = instances.get(id);
    if (!view) {
      view = {
        id,
        from: null,
        to: null,
        target: null,
        state: 'evacuating',
        final: null,
        seconds: null,
        reason: null,
        startedAt: null,
        evacuatedAt: null,
        settledAt: null,
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
    if (event.type === 'ExecutionStarted') {
      const alert = Date.parse(str(parse(event.executionStartedEventDetails?.input).requestedAt) ?? '');
      moments.alertAt = Number.isNaN(alert) ? null : new Date(alert);
    } else if (event.type === 'ExecutionRedriven') {
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
      const output = parse(exited.output);
      if (
        stage.name === CONFIRM &&
        stage.status === 'running' &&
        field(output.confirm, 'status') === 'waiting'
      ) {
        // Not done: the execution waits in WaitForNova and reads again; the stage stays open.
        stage.detail = confirmText(output.confirm);
      } else {
        open.delete(exited.name);
        stage.exitedAt = at;
        const failedWith = stage.status === 'caught' ? stage.detail : null;
        stage.status =
          stage.status === 'caught' ? 'failed' : stage.status === 'running' ? 'succeeded' : stage.status;
        stage.detail = stageDetail(stage.name, output) ?? failedWith;
      }
      if (stage.name === 'VerifyPowerOff' && stage.status === 'succeeded') {
        const power = output.power as Json | undefined;
        if (power?.verified === true && !power.recordOnly) moments.powerOffAt ??= at;
      }
      if (stage.name === 'PlanTargets' && Array.isArray(field(output.plan, 'waves'))) {
        planned = (field(output.plan, 'waves') as unknown[])
          .map((wave) => field(wave, 'items'))
          .reduce<number>((sum, items) => sum + (Array.isArray(items) ? items.length : 0), 0);
      }
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
        if (id && event.taskFailedEventDetails?.error === INSTANCE_NOT_SETTLED)
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
        view.target = str(input.target);
        view.startedAt ??= at;
        if (!SETTLED.has(view.state)) view.state = 'evacuating';
      }
    } else if (exited?.name === 'EvacuateInstance') {
      const output = parse(exited.output);
      const id = str(output.id);
      const action = str(field(output.evacuation, 'action'));
      if (id && action) {
        const view = row(id, at);
        view.state = action === 'evacuated' ? 'rebuilding' : action;
        view.evacuatedAt ??= at;
        if (action === 'evacuated') {
          // The host actually asked for: null when Nova refused the planned one (scheduler's choice).
          view.target = str(field(output.evacuation, 'target'));
          if (!moments.firstEvacuateAt || at < moments.firstEvacuateAt) moments.firstEvacuateAt = at;
        }
      }
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
        view.settledAt = at;
        const back = view.state === 'recovered' || view.state === 'already-recovered';
        if (back && (!moments.lastVerifiedAt || at > moments.lastVerifiedAt)) moments.lastVerifiedAt = at;
      }
    }
  }
  const rows = [...instances.values()];
  const evacuating = stages.at(-1);
  if (evacuating?.name === 'EvacuateInstances' && evacuating.status === 'running') {
    const settled = rows.filter((i) => i.settledAt).length;
    evacuating.detail = `${settled} of ${plural(planned ?? rows.length, 'instance')} settled`;
  }
  return { stages, instances: rows, redrives, moments };
}
