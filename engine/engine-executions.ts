// A workflow's executions on an in-process engine, behind the ExecutionsApi (the drain's
// HandOverToRecovery, `freezer-dr drain` without a server, tests): a name starts once (a repeat reads as already started,
// as Step Functions answers ExecutionAlreadyExists), and every run is kept.
import {
  type ExecutionsApi,
  executionName,
  type RecoveryInput,
  type StartResult,
} from '../core/executions.js';
import type { LocalEngine, LocalExecution } from './local-engine.js';

export class EngineExecutions implements ExecutionsApi {
  readonly runs = new Map<string, LocalExecution>();
  private readonly finished = new Set<string>();

  constructor(private readonly engine: LocalEngine) {}

  async start(input: RecoveryInput, options: { name?: string } = {}): Promise<StartResult> {
    const name = options.name ?? executionName(input.host, input.incident);
    if (this.runs.has(name)) return { executionName: name, started: false, executionArn: null };
    const run = this.engine.start(input as unknown as Record<string, unknown>, name);
    this.runs.set(name, run);
    void run.done.finally(() => this.finished.add(name));
    return { executionName: name, started: true, executionArn: run.arn };
  }

  async listRunning(): Promise<{ name: string; startDate: Date | null }[]> {
    return [...this.runs.keys()]
      .filter((n) => !this.finished.has(n))
      .map((name) => ({ name, startDate: null }));
  }

  async hasEnded(name: string): Promise<boolean> {
    return this.finished.has(name);
  }

  /** Every run started so far, settled. */
  async settled(): Promise<void> {
    await Promise.all([...this.runs.values()].map((r) => r.done));
  }
}
