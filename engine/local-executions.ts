// The executions behind the local Step Functions endpoint: two state machines (the host
// recovery and the host drain), each StartExecution runs the real ASL on the embedded engine, every event is written to the store as it happens,
// and executions a crash left RUNNING are re-driven from the start with the same input.
// Re-driving from the start is safe because every step is idempotent (a host already
// off is not fenced again, an instance already moved is not evacuated again).
import { randomUUID } from 'node:crypto';
import type {
  DescribeExecutionOutput,
  ExecutionListItem,
  GetExecutionHistoryInput,
  GetExecutionHistoryOutput,
  HistoryEvent,
  ListExecutionsInput,
  ListExecutionsOutput,
  StartExecutionInput,
  StartExecutionOutput,
  StopExecutionInput,
  StopExecutionOutput,
} from '@aws-sdk/client-sfn';
import type { ExecutionsApi, RecoveryInput, StartResult } from '../core/executions.js';
import { executionName as recoveryName } from '../core/executions.js';
import type { RuntimeProvider } from '../core/runtime.js';
import { WORKFLOW_KEYS, WORKFLOWS, type WorkflowKey } from './definition.js';
import type { ExecutionRecord, ExecutionStatus, ExecutionStore } from './execution-store.js';
import { type HistoryOptions, indexStates, type StoredEvent, toHistory } from './history.js';
import {
  type EngineEvent,
  type ExecutionOutcome,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  LocalEngine,
  type LocalExecution,
  stateMachineArnOf,
} from './local-engine.js';
import { MAX_PAYLOAD_BYTES } from './payload-limit.js';
import { type ResumePoint, resumePoint } from './resume-point.js';
import { SfnError, validateExecutionName } from './sfn-errors.js';

const executionPrefix = (workflow: WorkflowKey) =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${WORKFLOWS[workflow].stateMachineName}:`;
const STATUSES = new Set<ExecutionStatus>(['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT']);

/** An execution's ARN; the recovery's unless `workflow` says otherwise. */
export const executionArn = (name: string, workflow: WorkflowKey = 'recovery') =>
  `${executionPrefix(workflow)}${name}`;
const CREATED = new Date(0);

export interface LocalExecutionsOptions {
  store: ExecutionStore;
  runtime: RuntimeProvider;
  /** Replace every Retry interval by this many ms (tests, demos). */
  retryIntervalMs?: number;
  /** Replace every Wait state's time by this many ms (tests). */
  waitMs?: number;
  /** Every engine event as it happens, after it is stored (progress output). */
  onEvent?: (execution: string, event: EngineEvent) => void;
  /** A failed write to the store (disk full, store closed); default: one line on stderr. */
  onStoreError?: (error: Error, execution: string) => void;
}

/** Pagination tokens are opaque to clients: base64 of the last item's (startMs, name). */
const encodeToken = (record: ExecutionRecord) =>
  Buffer.from(JSON.stringify([record.startMs, record.name])).toString('base64url');

function decodeToken(token: string): { startMs: number; name: string } {
  try {
    const [startMs, name] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [number, string];
    if (typeof startMs === 'number' && typeof name === 'string') return { startMs, name };
  } catch {
    // fall through
  }
  throw new SfnError('InvalidToken', `Invalid Token: '${token}'`);
}

function pageSize(value: number | undefined, fallback: number): number {
  if (value === undefined || value === 0) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 1000) {
    throw new SfnError('ValidationException', 'maxResults must be between 0 and 1000');
  }
  return value;
}

export class LocalExecutions {
  /** The host recovery's state machine (the default one). */
  readonly stateMachineArn = stateMachineArnOf('recovery');
  readonly drainStateMachineArn = stateMachineArnOf('drain');
  private readonly engines = new Map<
    string,
    { workflow: WorkflowKey; engine: LocalEngine; history: HistoryOptions }
  >();
  private readonly running = new Map<string, { run: LocalExecution; settled: Promise<void> }>();
  private readonly stops = new Map<string, { error?: string; cause?: string }>();

  constructor(private readonly options: LocalExecutionsOptions) {
    for (const workflow of WORKFLOW_KEYS) {
      const engine = new LocalEngine({
        runtime: options.runtime,
        workflow,
        ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
        ...(options.waitMs === undefined ? {} : { waitMs: options.waitMs }),
        onEvent: (event, execution) => this.record(execution.name, event),
      });
      this.engines.set(engine.stateMachineArn, {
        workflow,
        engine,
        history: {
          states: indexStates(engine.definition),
          region: LOCAL_REGION,
          roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/freezer-dr-local`,
        },
      });
    }
  }

  private machine(arn: string) {
    const machine = this.engines.get(arn);
    if (!machine) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  /** ListStateMachines: both workflows. */
  listStateMachines(): {
    stateMachines: { stateMachineArn: string; name: string; type: string; creationDate: Date }[];
  } {
    return {
      stateMachines: [...this.engines.values()].map(({ engine }) => ({
        stateMachineArn: engine.stateMachineArn,
        name: engine.stateMachineName,
        type: 'STANDARD',
        creationDate: CREATED,
      })),
    };
  }

  /** DescribeStateMachine: its definition as the engine runs it (substitutions applied). */
  describeStateMachine(request: { stateMachineArn?: string }): Record<string, unknown> {
    const { engine } = this.machine(request.stateMachineArn ?? '');
    return {
      stateMachineArn: engine.stateMachineArn,
      name: engine.stateMachineName,
      status: 'ACTIVE',
      type: 'STANDARD',
      definition: JSON.stringify(engine.definition),
      roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/freezer-dr-local`,
      creationDate: CREATED,
    };
  }

  /** The in-process ExecutionsApi of one workflow (a drain's hand-over, the intake's drains). */
  api(workflow: WorkflowKey): ExecutionsApi {
    const stateMachineArn = stateMachineArnOf(workflow);
    return {
      start: async (input: RecoveryInput, options: { name?: string } = {}): Promise<StartResult> => {
        const name = options.name ?? recoveryName(input.host, input.incident);
        try {
          const out = this.start({ stateMachineArn, name, input: JSON.stringify(input) });
          return { executionName: name, started: true, executionArn: out.executionArn ?? null };
        } catch (error) {
          if (error instanceof SfnError && error.type === 'ExecutionAlreadyExists')
            return { executionName: name, started: false, executionArn: null };
          throw error;
        }
      },
      listRunning: async () =>
        (this.list({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000 }).executions ?? []).map(
          (e) => ({
            name: e.name ?? '',
            startDate: e.startDate ?? null,
          }),
        ),
      hasEnded: async (name: string) => {
        try {
          return this.describe({ executionArn: executionArn(name, workflow) }).status !== 'RUNNING';
        } catch (error) {
          if (error instanceof SfnError && error.type === 'ExecutionDoesNotExist') return false;
          throw error;
        }
      },
    };
  }

  private get store(): ExecutionStore {
    return this.options.store;
  }

  private record(name: string, event: EngineEvent): void {
    // Never throw into the engine's event pump: the run goes on, the store is what failed.
    try {
      this.write(name, event);
      this.options.onEvent?.(name, event);
    } catch (error) {
      const report =
        this.options.onStoreError ??
        ((e: Error, execution: string) =>
          process.stderr.write(`freezer-dr: cannot record an event of ${execution}: ${e.message}\n`));
      report(error as Error, name);
    }
  }

  private write(name: string, event: EngineEvent): void {
    const stored = { ...event } as Record<string, unknown>;
    if ('Cause' in stored && typeof stored.Cause !== 'string')
      stored.Cause = JSON.stringify(stored.Cause ?? null);
    if (event.type === 'ExecutionAborted') Object.assign(stored, this.stopDetails(name));
    // The first run's ExecutionStarted is written by start(); a re-drive writes its own marker.
    if (event.type === 'ExecutionStarted') return;
    this.store.appendEvent(name, stored as unknown as StoredEvent);
  }

  private stopDetails(name: string): { Error?: string; Cause?: string } {
    const stop = this.stops.get(name);
    return { ...(stop?.error ? { Error: stop.error } : {}), ...(stop?.cause ? { Cause: stop.cause } : {}) };
  }

  private launch(record: ExecutionRecord, resume?: ResumePoint): void {
    const input = JSON.parse(record.input) as Record<string, unknown>;
    const run = this.machine(record.stateMachineArn).engine.start(input, record.name, resume);
    const settled = run.done
      .then((outcome) => this.settle(record.name, outcome))
      .catch(() => undefined)
      .finally(() => this.running.delete(record.name));
    this.running.set(record.name, { run, settled });
  }

  private settle(name: string, outcome: ExecutionOutcome): void {
    if (!this.running.has(name)) return;
    this.store.finish(name, {
      status: outcome.status,
      stopMs: Date.now(),
      output: outcome.status === 'SUCCEEDED' ? JSON.stringify(outcome.output ?? null) : null,
      error: outcome.error,
      cause: outcome.cause,
    });
  }

  private byArn(arn: string | undefined): ExecutionRecord {
    if (!arn) throw new SfnError('ValidationException', 'executionArn is required');
    const workflow = WORKFLOW_KEYS.find((w) => arn.startsWith(executionPrefix(w)));
    if (!workflow) throw new SfnError('InvalidArn', `Invalid Arn: '${arn}'`);
    const record = this.store.get(arn.slice(executionPrefix(workflow).length));
    if (!record || record.stateMachineArn !== stateMachineArnOf(workflow))
      throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return record;
  }

  private checkStateMachine(arn: string | undefined): void {
    this.machine(arn ?? '');
  }

  /** Names are one namespace in the local store: a drain never takes a recovery's name (see core/executions.ts). */
  start(request: StartExecutionInput): StartExecutionOutput {
    this.checkStateMachine(request.stateMachineArn);
    const { workflow } = this.machine(request.stateMachineArn ?? '');
    const name = request.name ?? randomUUID();
    validateExecutionName(name);
    const input = request.input ?? '{}';
    if (Buffer.byteLength(input, 'utf8') > MAX_PAYLOAD_BYTES) {
      throw new SfnError('ValidationException', `input is larger than ${MAX_PAYLOAD_BYTES} bytes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new SfnError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: '${input.slice(0, 200)}'`,
      );
    }
    const existing = this.store.get(name);
    if (existing) {
      // Standard workflows: the same name and input while the first is open is the same start.
      if (
        existing.status === 'RUNNING' &&
        existing.input === input &&
        existing.stateMachineArn === request.stateMachineArn
      ) {
        return { executionArn: existing.arn, startDate: new Date(existing.startMs) };
      }
      throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
    }
    const record: ExecutionRecord = {
      name,
      arn: executionArn(name, workflow),
      stateMachineArn: stateMachineArnOf(workflow),
      input,
      status: 'RUNNING',
      startMs: Date.now(),
      stopMs: null,
      output: null,
      error: null,
      cause: null,
      redriveCount: 0,
      redriveMs: null,
    };
    this.store.create(record);
    this.store.appendEvent(name, {
      type: 'ExecutionStarted',
      timestamp: record.startMs,
      input: parsed as never,
    });
    this.launch(record);
    return { executionArn: record.arn, startDate: new Date(record.startMs) };
  }

  /**
   * Re-drives every execution the store holds as RUNNING but this process is not running:
   * from the top-level state it was in, with that state's recorded input.
   */
  redriveInterrupted(): { name: string; from: string }[] {
    const redriven: { name: string; from: string }[] = [];
    for (const record of this.store.running()) {
      if (this.running.has(record.name)) continue;
      const { engine } = this.machine(record.stateMachineArn);
      const resume = resumePoint(this.store.events(record.name), engine.definition) ?? undefined;
      const at = Date.now();
      const redriveCount = this.store.markRedriven(record.name, at);
      this.store.appendEvent(record.name, { type: 'ExecutionRedriven', timestamp: at, redriveCount });
      this.launch(record, resume);
      redriven.push({ name: record.name, from: resume?.state ?? String(engine.definition.StartAt) });
    }
    return redriven;
  }

  describe(request: { executionArn?: string }): DescribeExecutionOutput {
    const record = this.byArn(request.executionArn);
    return {
      executionArn: record.arn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: new Date(record.startMs),
      ...(record.stopMs === null ? {} : { stopDate: new Date(record.stopMs) }),
      input: record.input,
      inputDetails: { included: true },
      ...(record.output === null ? {} : { output: record.output, outputDetails: { included: true } }),
      ...(record.error === null ? {} : { error: record.error }),
      ...(record.cause === null ? {} : { cause: record.cause }),
      redriveCount: record.redriveCount,
      ...(record.redriveMs === null ? {} : { redriveDate: new Date(record.redriveMs) }),
    };
  }

  list(request: ListExecutionsInput): ListExecutionsOutput {
    this.checkStateMachine(request.stateMachineArn);
    const status = request.statusFilter as ExecutionStatus | undefined;
    if (status !== undefined && !STATUSES.has(status)) {
      throw new SfnError('ValidationException', `statusFilter '${String(status)}' is not a valid status`);
    }
    const limit = pageSize(request.maxResults, 100);
    const rows = this.store.list({
      stateMachineArn: request.stateMachineArn as string,
      ...(status ? { status } : {}),
      ...(request.nextToken ? { after: decodeToken(request.nextToken) } : {}),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const executions: ExecutionListItem[] = page.map((record) => ({
      executionArn: record.arn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: new Date(record.startMs),
      ...(record.stopMs === null ? {} : { stopDate: new Date(record.stopMs) }),
      redriveCount: record.redriveCount,
      ...(record.redriveMs === null ? {} : { redriveDate: new Date(record.redriveMs) }),
    }));
    const last = page[page.length - 1];
    return { executions, ...(rows.length > limit && last ? { nextToken: encodeToken(last) } : {}) };
  }

  /** The stored events of one execution (the page reads them directly). */
  events(name: string): StoredEvent[] {
    return this.store.events(name);
  }

  /** The whole history of one execution, unpaged (the page). */
  fullHistory(name: string): HistoryEvent[] {
    const record = this.store.get(name);
    return toHistory(
      this.store.events(name),
      this.historyOf(record?.stateMachineArn ?? this.stateMachineArn),
    );
  }

  private historyOf(stateMachineArn: string): HistoryOptions {
    return this.machine(stateMachineArn).history;
  }

  history(request: GetExecutionHistoryInput): GetExecutionHistoryOutput {
    const record = this.byArn(request.executionArn);
    const all = toHistory(this.store.events(record.name), this.historyOf(record.stateMachineArn));
    const events = request.reverseOrder ? all.reverse() : all;
    const limit = pageSize(request.maxResults, 1000);
    let start = 0;
    if (request.nextToken) {
      start = Number(Buffer.from(request.nextToken, 'base64url').toString('utf8'));
      if (!Number.isInteger(start) || start < 0) {
        throw new SfnError('InvalidToken', `Invalid Token: '${request.nextToken}'`);
      }
    }
    const page = events.slice(start, start + limit);
    const withoutData = (event: (typeof page)[number]) => {
      if (request.includeExecutionData !== false) return event;
      // AWS drops input/output (keeping the *Details) when includeExecutionData is false.
      return JSON.parse(
        JSON.stringify(event, (key, value) => (key === 'input' || key === 'output' ? undefined : value)),
        (key, value) => (key === 'timestamp' ? new Date(value) : value),
      );
    };
    return {
      events: page.map(withoutData),
      ...(start + limit < events.length
        ? { nextToken: Buffer.from(String(start + limit)).toString('base64url') }
        : {}),
    };
  }

  stop(request: StopExecutionInput): StopExecutionOutput {
    const record = this.byArn(request.executionArn);
    if ((request.error?.length ?? 0) > 256 || (request.cause?.length ?? 0) > 32_768) {
      throw new SfnError('ValidationException', 'error is limited to 256 characters and cause to 32768');
    }
    if (record.status !== 'RUNNING') return { stopDate: new Date(record.stopMs ?? record.startMs) };
    const stopMs = Date.now();
    this.stops.set(record.name, {
      ...(request.error ? { error: request.error } : {}),
      ...(request.cause ? { cause: request.cause } : {}),
    });
    // The stop is recorded first: the engine's own abort report must not overwrite it.
    this.store.finish(record.name, {
      status: 'ABORTED',
      stopMs,
      output: null,
      error: request.error ?? null,
      cause: request.cause ?? null,
    });
    const active = this.running.get(record.name);
    if (active) active.run.abort();
    else
      this.store.appendEvent(record.name, {
        type: 'ExecutionAborted',
        timestamp: stopMs,
        ...this.stopDetails(record.name),
      } as StoredEvent);
    return { stopDate: new Date(stopMs) };
  }

  /** Names of executions running in this process. */
  active(): string[] {
    return [...this.running.keys()];
  }

  /** Resolves when every execution running now has ended (tests, graceful shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.settled));
  }
}
