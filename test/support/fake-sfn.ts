// An in-memory Step Functions behind the REAL StepFunctionsExecutions: the fake answers
// the SDK commands the way the service does for a Standard state machine, so tests run
// the production start path, ExecutionAlreadyExists handling included.
//   - names are unique per state machine; a reused name with a different input, or once
//     the first run has closed, is ExecutionAlreadyExists;
//   - the same name with the same input while still running returns the same execution;
//   - names over 80 characters or with forbidden characters are InvalidName.
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidName,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { StepFunctionsExecutions } from '../../core/executions.js';

export interface FakeExecution {
  name: string;
  arn: string;
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  startDate: Date;
}

const ARN = 'arn:aws:states:local:000000000000:stateMachine:freezer-dr-host-recovery';
const FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;

export class FakeStepFunctions {
  readonly executions = new Map<string, FakeExecution>();
  /** StartExecution calls answered, duplicates included. */
  startCalls = 0;
  /** Make the next N StartExecution calls fail as a throttled or unreachable service would. */
  failNextStarts = 0;
  /** Called once per new execution (e.g. to run it on the embedded engine). */
  onStart: ((execution: FakeExecution) => void) | null = null;

  constructor(private readonly latencyMs = 0) {}

  get started(): FakeExecution[] {
    return [...this.executions.values()];
  }

  finish(name: string, status: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED'): void {
    const execution = this.executions.get(name);
    if (execution) execution.status = status;
  }

  /** The only SFNClient method StepFunctionsExecutions uses. */
  async send(command: unknown): Promise<unknown> {
    if (this.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (command instanceof StartExecutionCommand) return this.start(command.input);
    if (command instanceof ListExecutionsCommand) {
      const filter = command.input.statusFilter;
      return {
        executions: this.started
          .filter((e) => !filter || e.status === filter)
          .map((e) => ({ name: e.name, executionArn: e.arn, status: e.status, startDate: e.startDate })),
      };
    }
    if (command instanceof DescribeExecutionCommand) {
      const name = command.input.executionArn?.split(':').at(-1) ?? '';
      const found = this.executions.get(name);
      if (!found)
        throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${name}'`, $metadata: {} });
      return { name: found.name, executionArn: found.arn, status: found.status, startDate: found.startDate };
    }
    throw new Error(`fake Step Functions does not implement ${(command as object).constructor.name}`);
  }

  private start(input: StartExecutionCommand['input']) {
    this.startCalls += 1;
    if (this.failNextStarts > 0) {
      this.failNextStarts -= 1;
      const error = new Error('Rate exceeded');
      error.name = 'ThrottlingException';
      throw error;
    }
    const name = input.name ?? '';
    if (!name || name.length > 80 || FORBIDDEN.test(name)) {
      throw new InvalidName({ message: `Invalid Name: '${name}'`, $metadata: {} });
    }
    const existing = this.executions.get(name);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === (input.input ?? '{}')) {
        return { executionArn: existing.arn, startDate: existing.startDate };
      }
      throw new ExecutionAlreadyExists({
        message: `Execution Already Exists: '${existing.arn}'`,
        $metadata: {},
      });
    }
    const execution: FakeExecution = {
      name,
      arn: `${ARN.replace(':stateMachine:', ':execution:')}:${name}`,
      input: input.input ?? '{}',
      status: 'RUNNING',
      startDate: new Date(),
    };
    this.executions.set(name, execution);
    this.onStart?.(execution);
    return { executionArn: execution.arn, startDate: execution.startDate };
  }
}

export function fakeExecutions(latencyMs = 0): { sfn: FakeStepFunctions; api: StepFunctionsExecutions } {
  const sfn = new FakeStepFunctions(latencyMs);
  return { sfn, api: new StepFunctionsExecutions(sfn as unknown as SFNClient, ARN) };
}
