// Human-readable progress of an execution from the engine's events.
import { causeText, confirmText } from '../core/recovery-timeline.js';
import { topLevelStates } from '../engine/definition.js';
import type { EngineEvent, ExecutionOutcome } from '../engine/local-engine.js';

/** The workflow's top-level states: one line each as they complete. */
const TOP_LEVEL = topLevelStates();

/** "Error: message" from an engine error (its Cause is Lambda's {errorType, errorMessage} JSON). */
export function failureText(error: string | undefined, cause: unknown): string {
  const message = causeText(
    typeof cause === 'string' ? cause : cause === undefined ? null : JSON.stringify(cause),
  );
  return [error, message].filter(Boolean).join(': ');
}

/**
 * The last line of a run on the in-process engine (`recover`, `drain`): its summary when it
 * succeeded (`idle` when there was nothing to do), else its status and why. The exit code.
 */
export function printOutcome(outcome: ExecutionOutcome, idle: string, say: (line: string) => void): number {
  const output = outcome.output as { summary?: { message?: string } } | null;
  say('');
  if (outcome.status === 'SUCCEEDED') {
    say(`SUCCEEDED  ${output?.summary?.message ?? idle}`);
    return 0;
  }
  say(
    outcome.error
      ? `${outcome.status}  ${failureText(outcome.error, outcome.cause ?? undefined)}`
      : outcome.status,
  );
  return 1;
}

/** The line that ends an execution: its status, and why when it failed. */
export function executionEndLine(event: EngineEvent): string {
  const status = event.type.replace('Execution', '').toUpperCase();
  return event.type === 'ExecutionFailed' ? `${status}  ${failureText(event.Error, event.Cause)}` : status;
}

export function progressPrinter(write: (line: string) => void, startedAt = Date.now()) {
  const t = () => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s`;
  // A top-level Task's error, from its StateFailed until the state exits: a Catch took it (failed).
  const failures = new Map<string, string>();
  return (event: EngineEvent) => {
    if (event.type === 'StateFailed' && TOP_LEVEL.has(event.state.name)) {
      if (event.state.type === 'Fail') write(`${t()}  ✗ ${event.state.name}  ${event.Error}`);
      else failures.set(event.state.name, failureText(event.Error, event.Cause));
    } else if (event.type === 'StateRetried' && TOP_LEVEL.has(event.state.name)) {
      failures.delete(event.state.name);
    } else if (event.type === 'StateExited' && failures.has(event.state.name)) {
      write(`${t()}  ✗ ${event.state.name} failed: ${failures.get(event.state.name)}`);
      failures.delete(event.state.name);
    } else if (event.type === 'StateExited' && event.state.name === 'ConfirmHostFailure') {
      const confirm = (event.state.output as { confirm?: { status?: string } })?.confirm;
      if (confirm?.status === 'waiting') write(`${t()}  … ${confirmText(confirm)}`);
      else write(`${t()}  ✓ ConfirmHostFailure  ${confirmText(confirm) ?? ''}`);
    } else if (
      event.type === 'StateExited' &&
      (event.state.name === 'NovaVerdict' ||
        event.state.name === 'WaitForNova' ||
        event.state.name === 'PowerVerdict' ||
        event.state.name === 'CountSelection')
    ) {
      // routing or bookkeeping: the confirmation loop is printed above, the power verdict by the state it chose
    } else if (event.type === 'StateExited' && TOP_LEVEL.has(event.state.name)) {
      const output = event.state.output as Record<string, unknown> | undefined;
      const detail =
        event.state.name === 'FenceHost'
          ? (output?.fence as { controller?: string })?.controller
          : event.state.name === 'SelectInstances'
            ? `${(output?.selection as { ids?: unknown[] })?.ids?.length ?? 0} selected`
            : '';
      write(`${t()}  ✓ ${event.state.name}${detail ? `  ${detail}` : ''}`);
    } else if (event.type === 'StateExited' && event.state.name === 'VerifyInstance') {
      // The Lambda's answer names the host; the state keeps only {id, outcome, seconds, reason}.
      const r = ((event.taskResult as { Payload?: unknown } | undefined)?.Payload ?? event.state.output) as {
        id?: string;
        outcome?: string;
        to?: string;
        seconds?: number;
      };
      write(`${t()}    • ${r.id} ${r.outcome} on ${r.to ?? '-'} (${r.seconds ?? '?'} s)`);
    } else if (event.type === 'StateExited' && event.state.name === 'InstanceFailed') {
      const r = event.state.output as { id?: string; error?: string };
      write(`${t()}    ✗ ${r.id} failed: ${r.error}`);
    }
  };
}
