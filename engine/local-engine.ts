// The embedded engine: statemachine/host-recovery.asl.json (or host-drain.asl.json) runs
// unchanged on aws-local-stepfunctions, and each lambda:invoke Task calls its handler in-process.
// This file is only the adapter (substitutions, invoke mapping, error shape, events);
// the interpreter is the library's.
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { RuntimeProvider } from '../core/runtime.js';
import { taskFunctions } from '../functions/catalog.js';
import type { TaskHandler } from '../functions/lib/task-handler.js';
import { loadDefinition, substitute, WORKFLOWS, type WorkflowKey } from './definition.js';
import { checkPayload, checkStatePayload } from './payload-limit.js';
import { currentRun, type StateHooks, withStateHooks } from './state-hooks.js';

type Json = Parameters<StateMachine['run']>[0];
type EventLog = Awaited<ReturnType<ReturnType<StateMachine['run']>['eventLogs']['next']>>['value'];
/** The library's events; a Task's StateExited also carries its raw result (what AWS records as TaskSucceeded's output). */
export type EngineEvent = NonNullable<EventLog> & { taskResult?: unknown };

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'local';
export const STATE_MACHINE_NAME = WORKFLOWS.recovery.stateMachineName;
export const DRAIN_STATE_MACHINE_NAME = WORKFLOWS.drain.stateMachineName;
export const stateMachineArnOf = (workflow: WorkflowKey) =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${WORKFLOWS[workflow].stateMachineName}`;
export const stateMachineArn = stateMachineArnOf('recovery');
export const drainStateMachineArn = stateMachineArnOf('drain');
export const localFunctionArn = (name: string) =>
  `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:freezer-dr-${name}`;

export interface ExecutionOutcome {
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  output: unknown;
  error: string | null;
  cause: string | null;
}

export interface LocalExecution {
  name: string;
  arn: string;
  events: EngineEvent[];
  done: Promise<ExecutionOutcome>;
  abort(): void;
}

export interface LocalEngineOptions {
  runtime: RuntimeProvider;
  /** Which definition runs: the host recovery (default) or the host drain. */
  workflow?: WorkflowKey;
  /**
   * Handlers to call instead of functions/*.ts built on `runtime`, by substitution key
   * (e.g. FenceHostFunctionArn): the packaged bundles, to run what is deployed.
   */
  handlers?: Record<string, TaskHandler>;
  /** Replace every Retry interval by this many ms (tests); undefined keeps the ASL's. */
  retryIntervalMs?: number;
  /** Replace every Wait state's time by this many ms (tests); undefined keeps the ASL's. */
  waitMs?: number;
  /** Called for each event as it happens (progress output, persistence). */
  onEvent?: (event: EngineEvent, execution: LocalExecution) => void;
}

export function lambdaContext(functionName: string, executionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(functionName),
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/local/${functionName}`,
    logStreamName: executionName,
    getRemainingTimeInMillis: () => 900_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Lambda reports a thrown error as {errorType, errorMessage}; Step Functions uses errorType as the error name. */
function asLambdaError(error: unknown): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const wrapped = new Error(JSON.stringify({ errorType: original.name, errorMessage: original.message }));
  wrapped.name = original.name === 'Error' ? 'Error' : original.name;
  return wrapped;
}

/**
 * Every state of every run: its input and output within Step Functions' payload quota (the
 * run fails with States.DataLimitExceeded where AWS would), and a Task's raw result kept
 * on its StateExited event.
 */
const stateHooks: StateHooks = {
  onState(event, scope) {
    checkStatePayload(event);
    const { name } = event.state;
    if (event.type === 'StateExited' && scope.taskResults.has(name)) {
      event.taskResult = scope.taskResults.get(name);
      scope.taskResults.delete(name);
    }
  },
};

export class LocalEngine {
  readonly definition: StateMachineDefinition;
  readonly workflow: WorkflowKey;
  readonly stateMachineName: string;
  readonly stateMachineArn: string;
  private readonly handlers = new Map<string, { name: string; handler: TaskHandler }>();
  private readonly taskStates: string[] = [];
  private readonly retryStates: string[] = [];
  private readonly waitStates: string[] = [];

  constructor(private readonly options: LocalEngineOptions) {
    this.workflow = options.workflow ?? 'recovery';
    this.stateMachineName = WORKFLOWS[this.workflow].stateMachineName;
    this.stateMachineArn = stateMachineArnOf(this.workflow);
    const substitutions: Record<string, string> = {};
    for (const [key, fn] of Object.entries(taskFunctions)) {
      substitutions[key] = localFunctionArn(fn.name);
      const handler = options.handlers?.[key] ?? fn.create(options.runtime);
      this.handlers.set(localFunctionArn(fn.name), { name: fn.name, handler });
    }
    this.definition = substitute(
      loadDefinition(WORKFLOWS[this.workflow].path),
      substitutions,
    ) as unknown as StateMachineDefinition;
    this.collectStates(this.definition.States as unknown as Record<string, Record<string, unknown>>);
    // Validated once here (it costs a few hundred ms of CPU); every run reuses the verdict.
    new StateMachine(this.definition, { validationOptions: { checkArn: true, checkPaths: true } });
  }

  private collectStates(states: Record<string, Record<string, unknown>>): void {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') this.taskStates.push(name);
      if (state.Retry) this.retryStates.push(name);
      if (state.Type === 'Wait') this.waitStates.push(name);
      const processor = (state.ItemProcessor ?? state.Iterator) as
        | { States?: Record<string, Record<string, unknown>> }
        | undefined;
      if (processor?.States) this.collectStates(processor.States);
    }
  }

  private invoke(executionName: string, state: string) {
    return async (input: unknown) => {
      const { FunctionName, Payload } = input as { FunctionName: string; Payload: unknown };
      const target = this.handlers.get(FunctionName);
      if (!target) throw new Error(`no local handler for ${FunctionName}`);
      const run = currentRun();
      run?.taskResults.delete(state);
      checkPayload(`the input of ${state} after Parameters`, input);
      let response: { StatusCode: number; ExecutedVersion: string; Payload: unknown };
      try {
        // JSON round trip: the handler sees exactly what a Lambda would receive.
        const event = JSON.parse(JSON.stringify(Payload ?? null));
        const result = await target.handler(event, lambdaContext(target.name, executionName));
        response = {
          StatusCode: 200,
          ExecutedVersion: '$LATEST',
          Payload: JSON.parse(JSON.stringify(result ?? null)),
        };
      } catch (error) {
        throw asLambdaError(error);
      }
      checkPayload(`the result of ${state}`, response);
      run?.taskResults.set(state, response);
      return response;
    };
  }

  /**
   * Runs the workflow with `input`; with `resume`, from that top-level state with the input
   * it had (a re-drive after a crash), while $$.Execution keeps the original input.
   */
  start(
    input: Record<string, unknown>,
    name: string = randomUUID(),
    resume?: { state: string; input: unknown },
  ): LocalExecution {
    const definition = resume ? { ...this.definition, StartAt: resume.state } : this.definition;
    // The definition was validated by the constructor; a resumed copy only starts elsewhere.
    const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
    const arn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${this.stateMachineName}:${name}`;
    const overrides: NonNullable<RunOptions['overrides']> = {
      taskResourceLocalHandlers: Object.fromEntries(
        this.taskStates.map((state) => [state, this.invoke(name, state)]),
      ) as never,
    };
    if (this.options.retryIntervalMs !== undefined) {
      overrides.retryIntervalOverrides = Object.fromEntries(
        this.retryStates.map((s) => [s, this.options.retryIntervalMs as number]),
      );
    }
    if (this.options.waitMs !== undefined) {
      overrides.waitTimeOverrides = Object.fromEntries(
        this.waitStates.map((s) => [s, this.options.waitMs as number]),
      );
    }
    const run = machine.run(
      (resume ? resume.input : input) as Json,
      withStateHooks(
        {
          overrides,
          noThrowOnAbort: true,
          context: {
            Execution: {
              Id: arn,
              Name: name,
              Input: input as Json,
              StartTime: new Date().toISOString(),
              RoleArn: 'local',
            },
            StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineName },
          },
        },
        stateHooks,
      ),
    );
    const execution: LocalExecution = {
      name,
      arn,
      events: [],
      done: Promise.resolve(null as never),
      abort: run.abort,
    };
    const pump = (async () => {
      for await (const event of run.eventLogs) {
        execution.events.push(event as EngineEvent);
        this.options.onEvent?.(event as EngineEvent, execution);
      }
    })();
    execution.done = (async (): Promise<ExecutionOutcome> => {
      let output: unknown = null;
      let status: ExecutionOutcome['status'] = 'SUCCEEDED';
      try {
        output = await run.result;
        if (output === null) status = 'ABORTED';
      } catch (error) {
        status = (error as Error).name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'FAILED';
      }
      await pump;
      const failed = execution.events.find((e) => e.type === 'ExecutionFailed') as
        | { Error?: string; Cause?: unknown }
        | undefined;
      return {
        status,
        output,
        error: failed?.Error ?? null,
        cause:
          failed?.Cause === undefined
            ? null
            : typeof failed.Cause === 'string'
              ? failed.Cause
              : JSON.stringify(failed.Cause),
      };
    })();
    return execution;
  }
}
