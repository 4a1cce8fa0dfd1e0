// aws-local-stepfunctions reports states only through an asynchronous event stream, which
// a run has already left behind by the time it is read: too late to stop the run where
// Step Functions would (a state's output over 256 KiB), and without the raw Lambda
// response AWS records. This installs, once, a synchronous look at every state a run of
// the library's StateMachine records as entered or exited, Map iterations included (each
// iteration is a run of its own), for runs whose options carry hooks (withStateHooks).
// It wraps the run's private `execute`, so a library upgrade that renames it fails loudly
// here (and test/workflow/payload-limit.test.ts checks the hooks run).
import { AsyncLocalStorage } from 'node:async_hooks';
import { type RunOptions, StateMachine } from 'aws-local-stepfunctions';

/** What one run (the execution, or one Map iteration) keeps while it runs. */
export interface RunScope {
  /** The last raw result of each Task state of this run, set by its local handler. */
  readonly taskResults: Map<string, unknown>;
}

export interface StateEvent {
  type: 'StateEntered' | 'StateExited';
  state: { name: string; type: string; input: unknown; output?: unknown };
  /** The Task's raw result (the Lambda response), added to StateExited by a hook. */
  taskResult?: unknown;
}

export interface StateHooks {
  /** Called before the event is recorded; throwing fails the run at this state, uncaught by Catch. */
  onState(event: StateEvent, scope: RunScope): void;
}

interface EventLogger {
  dispatch(event: { type: string; index?: number }): void;
}
interface ExecuteOptions {
  runOptions?: Record<PropertyKey, unknown>;
  eventLogger: EventLogger;
}
type Execute = (this: unknown, input: unknown, options: ExecuteOptions, cleanup: () => void) => unknown;

const HOOKS = Symbol('freezer-dr state hooks');
const runs = new AsyncLocalStorage<RunScope>();

function install(): void {
  const prototype = StateMachine.prototype as unknown as { execute?: Execute; [HOOKS]?: true };
  if (prototype[HOOKS]) return;
  const execute = prototype.execute;
  if (typeof execute !== 'function') {
    throw new Error(
      'aws-local-stepfunctions has no StateMachine.execute: engine/state-hooks.ts needs updating',
    );
  }
  prototype[HOOKS] = true;
  prototype.execute = function (this: unknown, input, options, cleanup) {
    const hooks = options.runOptions?.[HOOKS] as StateHooks | undefined;
    if (!hooks) return execute.call(this, input, options, cleanup);
    const scope: RunScope = { taskResults: new Map() };
    const logger = options.eventLogger;
    const dispatch = logger.dispatch.bind(logger);
    logger.dispatch = (event) => {
      // This run's own states: a Map iteration's events reach the parent's logger with an index.
      if ((event.type === 'StateEntered' || event.type === 'StateExited') && event.index === undefined) {
        hooks.onState(event as unknown as StateEvent, scope);
      }
      dispatch(event);
    };
    return runs.run(scope, () => execute.call(this, input, options, cleanup));
  };
}

install();

/** Run options whose run, and every Map iteration in it, calls `hooks` (options travel to iterations). */
export function withStateHooks(options: RunOptions, hooks: StateHooks): RunOptions {
  return { ...options, [HOOKS]: hooks } as RunOptions;
}

/** The run (execution or Map iteration) the caller is part of, e.g. inside a Task's local handler. */
export function currentRun(): RunScope | undefined {
  return runs.getStore();
}
