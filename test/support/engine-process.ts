// Starts test/support/engine-child.ts as a real process (stopped by its PID only) and
// talks to it the way the webhook and the reconciler do: @aws-sdk/client-sfn against its
// local Step Functions endpoint.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DescribeExecutionCommand, type DescribeExecutionOutput, SFNClient } from '@aws-sdk/client-sfn';
import { StepFunctionsExecutions } from '../../core/executions.js';
import { stateMachineArn } from '../../engine/local-engine.js';
import type { EngineChildSpec } from './engine-child.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const alive = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

export interface EngineProcess {
  url: string;
  pid: number;
  /** Executions re-driven at start: name and the state each resumed from. */
  redriven: { name: string; from: string }[];
  executions: StepFunctionsExecutions;
  sfn: SFNClient;
  output(): string;
  /** Resolves when the process has exited (killed by itself, or stopped). */
  exited: Promise<void>;
  describe(name: string): Promise<DescribeExecutionOutput>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startEngineProcess(spec: EngineChildSpec, timeoutMs = 30_000): Promise<EngineProcess> {
  // The local token the child's endpoint wants for StartExecution (not part of the spec: it is a secret).
  const token = randomBytes(24).toString('hex');
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/engine-child.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ENGINE_CHILD_SPEC: JSON.stringify(spec),
      FREEZER_DR_API_TOKEN: token,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  alive.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      alive.delete(child);
      resolve();
    }),
  );
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`engine process not ready in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const check = () => {
      const match = /engine-child ready (\S+) (.*)\n/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout?.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`engine process exited before it was ready:\n${output}`));
    });
  });
  const url = ready[1] as string;
  const sfn = new SFNClient({
    endpoint: url,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local', sessionToken: token },
    maxAttempts: 1,
  });
  return {
    url,
    pid: child.pid as number,
    redriven: JSON.parse(ready[2] as string) as { name: string; from: string }[],
    executions: new StepFunctionsExecutions(sfn, stateMachineArn),
    sfn,
    output: () => output,
    exited,
    describe: (name) =>
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
        }),
      ),
    async stop(signal = 'SIGTERM') {
      sfn.destroy();
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, signal);
      await exited;
    },
  };
}

/** Polls until the execution has ended; returns its description. */
export async function settled(
  engine: EngineProcess,
  name: string,
  timeoutMs = 30_000,
): Promise<DescribeExecutionOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await engine.describe(name);
    if (described.status !== 'RUNNING') return described;
    if (Date.now() > deadline) throw new Error(`${name} still RUNNING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
