// GetExecutionHistory for the local endpoint: the embedded engine's events, as stored,
// turned into the HistoryEvent list AWS Step Functions returns for the same run, so
// consoles, the CLI and tests read one shape locally and on AWS.
//
// Mapping (engine event -> AWS history events):
//   ExecutionStarted             -> ExecutionStarted (first run only)
//   ExecutionRedriven (ours)     -> ExecutionRedriven   (written when a RUNNING execution is
//                                   re-driven after a restart; the new run's ExecutionStarted is dropped)
//   StateEntered  Task           -> TaskStateEntered, TaskScheduled, TaskStarted
//   StateFailed   Task           -> TaskFailed (TaskTimedOut for States.Timeout)
//   StateRetried  Task           -> TaskScheduled, TaskStarted (the next attempt)
//   StateCaught                  -> nothing; the StateExited that follows is TaskStateExited alone
//   StateExited   Task           -> TaskSucceeded, TaskStateExited
//   StateEntered  Map            -> MapStateEntered, MapStateStarted {length}
//   MapIteration{Started,Succeeded,Failed} -> MapIteration{Started,Succeeded,Failed} {name, index}
//   StateExited   Map            -> MapStateSucceeded, MapStateExited
//   StateFailed   Map            -> MapStateFailed
//   StateEntered/Exited Pass, Choice, Wait, Succeed -> <Type>StateEntered / <Type>StateExited
//   StateEntered  Parallel       -> ParallelStateEntered, ParallelStateStarted (Exited/Failed alike)
//   StateEntered  Fail           -> FailStateEntered (its StateFailed adds nothing: ExecutionFailed follows)
//   ExecutionSucceeded/Failed    -> ExecutionSucceeded/Failed
//   ExecutionAborted             -> <Type>StateAborted / MapIterationAborted for what was open, then ExecutionAborted
//   ExecutionTimeout             -> ExecutionTimedOut
// The engine reports a state's input and output but not the raw Lambda request, so
// TaskScheduled.parameters holds the FunctionName only. TaskSucceeded.output is the raw
// Lambda response ({StatusCode, ExecutedVersion, Payload}) as on AWS, which the adapter
// keeps on the StateExited event (events stored before it did: the state's output after
// ResultSelector/ResultPath). previousEventId chains events of
// the same Map iteration (AWS does the same); top-level events chain to each other.
// The same list counts history events against the 25,000 a Standard execution may have.
import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import { loadDefinition } from './definition.js';
import type { EngineEvent } from './local-engine.js';

/** Written by the execution store when a RUNNING execution is re-driven after a restart. */
export interface RedriveMarker {
  type: 'ExecutionRedriven';
  timestamp: number;
  redriveCount: number;
}

/** An engine event as stored; Cause is always a string, and an abort carries the StopExecution error/cause. */
export type StoredEvent = EngineEvent | RedriveMarker;

export interface StateInfo {
  type: string;
  resource: string | null;
  functionName: string | null;
  timeoutSeconds: number | null;
  itemsPath: string | null;
}

/** Every state of a definition by name, Map/Parallel inner states included. */
export function indexStates(definition: unknown): Map<string, StateInfo> {
  const index = new Map<string, StateInfo>();
  const walk = (states: Record<string, Record<string, unknown>> | undefined) => {
    for (const [name, state] of Object.entries(states ?? {})) {
      const parameters = (state.Parameters ?? {}) as Record<string, unknown>;
      index.set(name, {
        type: String(state.Type),
        resource: typeof state.Resource === 'string' ? state.Resource : null,
        functionName: typeof parameters.FunctionName === 'string' ? parameters.FunctionName : null,
        timeoutSeconds: typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : null,
        itemsPath: typeof state.ItemsPath === 'string' ? state.ItemsPath : null,
      });
      const processor = (state.ItemProcessor ?? state.Iterator) as { States?: never } | undefined;
      walk(processor?.States);
      for (const branch of (state.Branches ?? []) as { States?: never }[]) walk(branch.States);
    }
  };
  walk((definition as { States?: never }).States);
  return index;
}

/** resourceType/resource as AWS reports them: arn:aws:states:::lambda:invoke -> lambda / invoke. */
function taskResource(info: StateInfo | undefined): { resourceType: string; resource: string } {
  const arn = info?.resource ?? '';
  const integration = /^arn:aws:states:::([^:]+):(.+)$/.exec(arn);
  if (integration) return { resourceType: integration[1] as string, resource: integration[2] as string };
  if (arn.startsWith('arn:aws:lambda:')) return { resourceType: 'lambda', resource: 'invoke' };
  return { resourceType: 'unknown', resource: arn };
}

/** Evaluates a plain dotted JSONPath ($.a.b); undefined for anything fancier. */
function dotted(value: unknown, path: string | null): unknown {
  if (!path || !/^\$(\.[A-Za-z0-9_]+)*$/.test(path)) return undefined;
  let current = value;
  for (const key of path.split('.').slice(1)) {
    if (!current || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const json = (value: unknown) => JSON.stringify(value ?? null);
const noTruncation = { truncated: false };

export interface HistoryOptions {
  states: Map<string, StateInfo>;
  region: string;
  roleArn: string;
}

type Details = Omit<HistoryEvent, 'timestamp' | 'type' | 'id' | 'previousEventId'>;

/** An AWS history event plus the Map iteration it belongs to (not sent on the wire). */
export type LocalHistoryEvent = HistoryEvent & { mapIterationIndex?: number };

export function toHistory(events: readonly StoredEvent[], options: HistoryOptions): HistoryEvent[] {
  return convert(events, options).map(({ mapIterationIndex: _index, ...event }) => event);
}

function convert(events: readonly StoredEvent[], options: HistoryOptions): LocalHistoryEvent[] {
  const out: LocalHistoryEvent[] = [];
  const lastInLane = new Map<string, number>();
  const caught = new Set<string>();
  /** States entered and not yet left, per lane, for the *Aborted events of a stop. */
  const open = new Map<string, { name: string; type: string; lane: string }>();
  const iterations = new Map<string, { map: string; index: number }>();
  let mapStartedId = 0;
  let started = false;

  const laneOf = (event: { index?: number }) => (event.index === undefined ? 'top' : `i${event.index}`);
  const push = (type: HistoryEventType, at: number, lane: string, details: Details = {}) => {
    const id = out.length + 1;
    out.push({
      timestamp: new Date(at),
      type,
      id,
      previousEventId: lastInLane.get(lane) ?? lastInLane.get('top') ?? 0,
      ...details,
      ...(lane === 'top' ? {} : { mapIterationIndex: Number(lane.slice(1)) }),
    });
    lastInLane.set(lane, id);
    return id;
  };

  for (const event of events) {
    const at = event.timestamp;
    switch (event.type) {
      case 'ExecutionStarted':
        if (!started) {
          push('ExecutionStarted', at, 'top', {
            executionStartedEventDetails: {
              input: json(event.input),
              inputDetails: noTruncation,
              roleArn: options.roleArn,
            },
          });
        }
        started = true;
        break;
      case 'ExecutionRedriven':
        open.clear();
        iterations.clear();
        caught.clear();
        push('ExecutionRedriven', at, 'top', {
          executionRedrivenEventDetails: { redriveCount: event.redriveCount },
        });
        break;
      case 'StateEntered': {
        const { name, type, input } = event.state;
        const lane = laneOf(event);
        open.set(`${lane}/${name}`, { name, type, lane });
        caught.delete(`${lane}/${name}`);
        const entered = {
          stateEnteredEventDetails: { name, input: json(input), inputDetails: noTruncation },
        };
        if (type === 'Task') {
          const info = options.states.get(name);
          const resource = taskResource(info);
          push('TaskStateEntered', at, lane, entered);
          push('TaskScheduled', at, lane, {
            taskScheduledEventDetails: {
              ...resource,
              region: options.region,
              parameters: json(info?.functionName ? { FunctionName: info.functionName } : {}),
              ...(info?.timeoutSeconds ? { timeoutInSeconds: info.timeoutSeconds } : {}),
            },
          });
          push('TaskStarted', at, lane, { taskStartedEventDetails: resource });
        } else if (type === 'Map') {
          push('MapStateEntered', at, lane, entered);
          const items = dotted(input, options.states.get(name)?.itemsPath ?? '$');
          const length = Array.isArray(items)
            ? items.length
            : events.filter((e) => e.type === 'MapIterationStarted' && e.parentState.name === name).length;
          mapStartedId = push('MapStateStarted', at, lane, { mapStateStartedEventDetails: { length } });
        } else if (type === 'Parallel') {
          push('ParallelStateEntered', at, lane, entered);
          push('ParallelStateStarted', at, lane);
        } else {
          push(`${type}StateEntered` as HistoryEventType, at, lane, entered);
        }
        break;
      }
      case 'StateFailed': {
        const { name, type } = event.state;
        const lane = laneOf(event);
        const cause = typeof event.Cause === 'string' ? event.Cause : json(event.Cause);
        if (type === 'Task') {
          const resource = taskResource(options.states.get(name));
          if (event.Error === 'States.Timeout') {
            push('TaskTimedOut', at, lane, {
              taskTimedOutEventDetails: { ...resource, error: event.Error, cause },
            });
          } else {
            push('TaskFailed', at, lane, {
              taskFailedEventDetails: { ...resource, error: event.Error, cause },
            });
          }
        } else if (type === 'Map' || type === 'Parallel') {
          push(type === 'Map' ? 'MapStateFailed' : 'ParallelStateFailed', at, lane);
        }
        break;
      }
      case 'StateRetried': {
        const { name } = event.state;
        const lane = laneOf(event);
        const resource = taskResource(options.states.get(name));
        push('TaskScheduled', at, lane, {
          taskScheduledEventDetails: {
            ...resource,
            region: options.region,
            parameters: json(
              options.states.get(name)?.functionName
                ? { FunctionName: options.states.get(name)?.functionName }
                : {},
            ),
          },
        });
        push('TaskStarted', at, lane, { taskStartedEventDetails: resource });
        break;
      }
      case 'StateCaught':
        caught.add(`${laneOf(event)}/${event.state.name}`);
        break;
      case 'StateExited': {
        const { name, type, output } = event.state;
        const taskResult = 'taskResult' in event ? event.taskResult : undefined;
        const lane = laneOf(event);
        open.delete(`${lane}/${name}`);
        const exited = {
          stateExitedEventDetails: { name, output: json(output), outputDetails: noTruncation },
        };
        if (type === 'Task') {
          if (!caught.has(`${lane}/${name}`)) {
            push('TaskSucceeded', at, lane, {
              taskSucceededEventDetails: {
                ...taskResource(options.states.get(name)),
                output: json(taskResult === undefined ? output : taskResult),
                outputDetails: noTruncation,
              },
            });
          }
          push('TaskStateExited', at, lane, exited);
        } else if (type === 'Map' || type === 'Parallel') {
          if (!caught.has(`${lane}/${name}`)) {
            push(type === 'Map' ? 'MapStateSucceeded' : 'ParallelStateSucceeded', at, lane);
          }
          push(type === 'Map' ? 'MapStateExited' : 'ParallelStateExited', at, lane, exited);
        } else if (type !== 'Fail') {
          push(`${type}StateExited` as HistoryEventType, at, lane, exited);
        }
        caught.delete(`${lane}/${name}`);
        break;
      }
      case 'MapIterationStarted': {
        const lane = laneOf(event);
        lastInLane.set(lane, mapStartedId);
        iterations.set(lane, { map: event.parentState.name, index: event.index });
        push('MapIterationStarted', at, lane, {
          mapIterationStartedEventDetails: { name: event.parentState.name, index: event.index },
        });
        break;
      }
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const lane = laneOf(event);
        iterations.delete(lane);
        const details = { name: event.parentState.name, index: event.index };
        if (event.type === 'MapIterationSucceeded') {
          push('MapIterationSucceeded', at, lane, { mapIterationSucceededEventDetails: details });
        } else {
          push('MapIterationFailed', at, lane, { mapIterationFailedEventDetails: details });
        }
        break;
      }
      case 'ExecutionSucceeded':
        push('ExecutionSucceeded', at, 'top', {
          executionSucceededEventDetails: { output: json(event.output), outputDetails: noTruncation },
        });
        break;
      case 'ExecutionFailed':
        push('ExecutionFailed', at, 'top', {
          executionFailedEventDetails: {
            error: event.Error,
            cause: typeof event.Cause === 'string' ? event.Cause : json(event.Cause),
          },
        });
        break;
      case 'ExecutionAborted': {
        // Inner states first, then the Map that held them, as AWS lists them.
        for (const state of [...open.values()].reverse()) {
          if (['Task', 'Map', 'Wait', 'Parallel'].includes(state.type)) {
            push(`${state.type}StateAborted` as HistoryEventType, at, state.lane);
          }
          const iteration = iterations.get(state.lane);
          if (iteration) {
            push('MapIterationAborted', at, state.lane, {
              mapIterationAbortedEventDetails: { name: iteration.map, index: iteration.index },
            });
            iterations.delete(state.lane);
          }
        }
        open.clear();
        const stop = event as { Error?: string; Cause?: string };
        push('ExecutionAborted', at, 'top', {
          executionAbortedEventDetails: {
            ...(stop.Error ? { error: stop.Error } : {}),
            ...(stop.Cause ? { cause: stop.Cause } : {}),
          },
        });
        break;
      }
      case 'ExecutionTimeout':
        push('ExecutionTimedOut', at, 'top', {
          executionTimedOutEventDetails: { error: 'States.Timeout', cause: 'execution timed out' },
        });
        break;
      default:
        // ParallelBranch* have no AWS counterpart.
        break;
    }
  }
  return out;
}

/** One run's engine events as history, for counting; the first ExecutionStarted is synthesised if absent. */
export function toHistoryEvents(
  events: readonly EngineEvent[],
  executionInput: unknown,
  startedAt: Date,
): LocalHistoryEvent[] {
  const stored: StoredEvent[] = events.some((e) => e.type === 'ExecutionStarted')
    ? [...events]
    : [
        { type: 'ExecutionStarted', timestamp: startedAt.getTime(), input: executionInput as never },
        ...events,
      ];
  return convert(stored, {
    states: indexStates(loadDefinition()),
    region: 'local',
    roleArn: 'arn:aws:iam::000000000000:role/freezer-dr-local',
  });
}

/** History events attributable to Map iterations. */
export function iterationEventCount(history: readonly LocalHistoryEvent[]): number {
  return history.filter((e) => e.mapIterationIndex !== undefined).length;
}
