// The engine's events as the history AWS Step Functions would record for the same run.
// Used for GetExecutionHistory locally and to count history events (Standard workflows
// fail at 25,000). The mapping, per local event:
//   Task   StateEntered  -> TaskStateEntered, TaskScheduled, TaskStarted
//          StateFailed   -> TaskFailed
//          StateRetried  -> TaskScheduled, TaskStarted          (the next attempt)
//          StateExited   -> TaskSucceeded, TaskStateExited
//   Map    StateEntered  -> MapStateEntered, MapStateStarted
//          StateExited   -> MapStateSucceeded, MapStateExited
//          MapIteration{Started,Succeeded,Failed} -> the same, one each
//   Pass/Choice/Succeed/Wait/Parallel  StateEntered/StateExited -> <Type>StateEntered/<Type>StateExited
//   Fail   StateEntered  -> FailStateEntered
//   Execution{Succeeded,Failed,Aborted,Timeout} -> the same; ExecutionStarted is added first.
// A caught error adds no event of its own (the next state's Entered follows TaskFailed).
import type { EngineEvent } from './local-engine.js';

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  type: string;
  timestamp: Date;
  stateName?: string;
  mapIterationIndex?: number;
  input?: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
}

const TITLE: Record<string, string> = {
  Pass: 'PassState',
  Choice: 'ChoiceState',
  Succeed: 'SucceedState',
  Wait: 'WaitState',
  Parallel: 'ParallelState',
};

export function toHistoryEvents(
  events: EngineEvent[],
  executionInput: unknown,
  startedAt: Date,
): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  const push = (type: string, timestamp: number | Date, extra: Partial<HistoryEvent> = {}) => {
    out.push({
      id: out.length + 1,
      previousEventId: out.length,
      type,
      timestamp: new Date(timestamp),
      ...extra,
    });
  };
  push('ExecutionStarted', startedAt, { input: executionInput });
  for (const event of events) {
    const at = event.timestamp;
    switch (event.type) {
      case 'ExecutionStarted':
        break;
      case 'ExecutionSucceeded':
        push('ExecutionSucceeded', at, { output: event.output });
        break;
      case 'ExecutionFailed':
        push('ExecutionFailed', at, { error: event.Error, cause: String(event.Cause ?? '') });
        break;
      case 'ExecutionAborted':
        push('ExecutionAborted', at);
        break;
      case 'ExecutionTimeout':
        push('ExecutionTimedOut', at);
        break;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        push(event.type, at, { stateName: event.parentState.name, mapIterationIndex: event.index });
        break;
      case 'ParallelBranchStarted':
      case 'ParallelBranchSucceeded':
      case 'ParallelBranchFailed':
        push(event.type, at, { stateName: event.parentState.name });
        break;
      case 'StateEntered':
      case 'StateExited':
      case 'StateFailed':
      case 'StateRetried':
      case 'StateCaught': {
        const { name, type, input, output } = event.state;
        const base = {
          stateName: name,
          ...(event.index === undefined ? {} : { mapIterationIndex: event.index }),
        };
        const entered = event.type === 'StateEntered';
        if (type === 'Task') {
          if (entered) {
            push('TaskStateEntered', at, { ...base, input });
            push('TaskScheduled', at, base);
            push('TaskStarted', at, base);
          } else if (event.type === 'StateFailed') {
            push('TaskFailed', at, { ...base, error: event.Error, cause: String(event.Cause ?? '') });
          } else if (event.type === 'StateRetried') {
            push('TaskScheduled', at, base);
            push('TaskStarted', at, base);
          } else if (event.type === 'StateExited') {
            push('TaskSucceeded', at, { ...base, output });
            push('TaskStateExited', at, { ...base, output });
          }
        } else if (type === 'Map') {
          if (entered) {
            push('MapStateEntered', at, { ...base, input });
            push('MapStateStarted', at, base);
          } else if (event.type === 'StateExited') {
            push('MapStateSucceeded', at, base);
            push('MapStateExited', at, { ...base, output });
          } else if (event.type === 'StateFailed') {
            push('MapStateFailed', at, { ...base, error: event.Error, cause: String(event.Cause ?? '') });
          }
        } else if (type === 'Fail') {
          if (entered) push('FailStateEntered', at, { ...base, input });
        } else if (event.type === 'StateEntered' || event.type === 'StateExited') {
          push(`${TITLE[type] ?? `${type}State`}${entered ? 'Entered' : 'Exited'}`, at, {
            ...base,
            ...(entered ? { input } : { output }),
          });
        }
        break;
      }
    }
  }
  return out;
}

/** History events attributable to Map iterations (events carrying an iteration index). */
export function iterationEventCount(history: HistoryEvent[]): number {
  return history.filter((e) => e.mapIterationIndex !== undefined).length;
}
