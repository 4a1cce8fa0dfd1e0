// The local Step Functions endpoint through the real @aws-sdk/client-sfn client: the
// operations, their errors, StartExecution idempotency, pagination, the AWS-shaped
// history, StopExecution, and executions that survive a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidArn,
  InvalidName,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  paginateGetExecutionHistory,
  paginateListExecutions,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { ExecutionStore } from '../../engine/execution-store.js';
import { drainStateMachineArn, stateMachineArn } from '../../engine/local-engine.js';
import { executionArn, LocalExecutions } from '../../engine/local-executions.js';
import { handleSfnRequest } from '../../engine/sfn-server.js';
import { drainInput, type Harness, recoveryInput, startHarness } from '../support/harness.js';

interface Stack {
  h: Harness;
  dir: string;
  store: ExecutionStore;
  executions: LocalExecutions;
  server: Server;
  client: SFNClient;
}
const stacks: Stack[] = [];
const TOKEN = 'local-sfn-api-test-token';

async function startStack(options: { dir?: string; h?: Harness; evacuateMs?: number } = {}): Promise<Stack> {
  const h = options.h ?? (await startHarness({ sim: { evacuateMs: options.evacuateMs ?? 50 } }));
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'freezer-dr-sfn-'));
  const store = new ExecutionStore(dir);
  const executions = new LocalExecutions({
    store,
    runtime: async () => h.rt,
    retryIntervalMs: 10,
    onStoreError: () => undefined,
  });
  const server = createServer((req, res) => void handleSfnRequest(executions, req, res, { token: TOKEN }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new SFNClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local', sessionToken: TOKEN },
  });
  const stack = { h, dir, store, executions, server, client };
  stacks.push(stack);
  return stack;
}

async function stopStack(stack: Stack, options: { keep?: boolean } = {}) {
  stacks.splice(stacks.indexOf(stack), 1);
  stack.client.destroy();
  await new Promise<void>((resolve) => stack.server.close(() => resolve()));
  await stack.executions.idle();
  stack.store.close();
  if (!options.keep) {
    await stack.h.close();
    rmSync(stack.dir, { recursive: true, force: true });
  }
}

afterEach(async () => {
  for (const stack of [...stacks]) await stopStack(stack);
});

const failHost = (h: Harness, host = 'compute-1', servers = 3) => {
  const ids = Array.from({ length: servers }, (_, i) => h.sim.state.addServer({ host, name: `vm-${i}` }).id);
  h.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
  return ids;
};

async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  // A safety net: a busy machine is slow, never wrong.
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const describeStatus = (client: SFNClient, arn: string) =>
  client.send(new DescribeExecutionCommand({ executionArn: arn }));

describe('local Step Functions endpoint (AWS JSON 1.0, @aws-sdk/client-sfn)', () => {
  it('runs a recovery and answers Describe, List and an AWS-shaped GetExecutionHistory', async () => {
    const s = await startStack();
    failHost(s.h);
    const input = JSON.stringify(recoveryInput('compute-1'));
    const started = await s.client.send(new StartExecutionCommand({ stateMachineArn, name: 'api-1', input }));
    expect(started.executionArn).toBe(executionArn('api-1'));
    expect(started.startDate).toBeInstanceOf(Date);

    const done = await waitFor(
      () => describeStatus(s.client, executionArn('api-1')),
      (d) => d.status !== 'RUNNING',
    );
    expect(done.status).toBe('SUCCEEDED');
    expect(done.input).toBe(input);
    expect(JSON.parse(done.output ?? '{}').summary.recovered).toBe(3);
    expect(done.stopDate?.getTime()).toBeGreaterThanOrEqual(done.startDate?.getTime() ?? Number.NaN);

    const list = await s.client.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(list.executions?.map((e) => [e.name, e.status])).toEqual([['api-1', 'SUCCEEDED']]);

    const { events = [] } = await s.client.send(
      new GetExecutionHistoryCommand({ executionArn: executionArn('api-1') }),
    );
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    expect(types.slice(1, 6)).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    // Two Maps: the restart-priority waves (one wave here) and the instances inside it.
    for (const type of ['MapStateEntered', 'MapStateStarted', 'MapStateSucceeded', 'MapStateExited']) {
      expect(types.filter((t) => t === type)).toHaveLength(2);
    }
    expect(types.filter((t) => t === 'MapIterationStarted')).toHaveLength(1 + 3);
    expect(types.filter((t) => t === 'MapIterationSucceeded')).toHaveLength(1 + 3);
    expect(types).toContain('ChoiceStateEntered');
    expect(types).toContain('SucceedStateExited');
    const [wavesStarted, waveStarted] = events.filter((e) => e.type === 'MapStateStarted');
    expect(wavesStarted?.mapStateStartedEventDetails?.length).toBe(1);
    expect(waveStarted?.mapStateStartedEventDetails?.length).toBe(3);
    const scheduled = events.find((e) => e.type === 'TaskScheduled');
    expect(scheduled?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
    });
    expect(JSON.parse(scheduled?.taskScheduledEventDetails?.parameters ?? '{}').FunctionName).toMatch(
      /function:freezer-dr-confirmHostFailure$/,
    );
    const firstIteration = events.find((e) => e.type === 'MapIterationStarted');
    expect(firstIteration?.previousEventId).toBe(wavesStarted?.id);
    const entered = events.find((e) => e.type === 'TaskStateEntered');
    expect(JSON.parse(entered?.stateEnteredEventDetails?.input ?? '{}').host).toBe('compute-1');
    expect(events[0]?.timestamp).toBeInstanceOf(Date);

    // Paging the history returns the same list.
    const paged = [];
    for await (const page of paginateGetExecutionHistory(
      { client: s.client, pageSize: 7 },
      { executionArn: executionArn('api-1') },
    )) {
      paged.push(...(page.events ?? []));
    }
    expect(paged.map((e) => e.id)).toEqual(events.map((e) => e.id));
    const reversed = await s.client.send(
      new GetExecutionHistoryCommand({
        executionArn: executionArn('api-1'),
        reverseOrder: true,
        maxResults: 1,
      }),
    );
    expect(reversed.events?.[0]?.type).toBe('ExecutionSucceeded');
    const noData = await s.client.send(
      new GetExecutionHistoryCommand({ executionArn: executionArn('api-1'), includeExecutionData: false }),
    );
    expect(noData.events?.[0]?.executionStartedEventDetails?.input).toBeUndefined();
  });

  it('is idempotent for the same name and input while running, and refuses every other reuse', async () => {
    const s = await startStack({ evacuateMs: 400 });
    failHost(s.h, 'compute-1', 1);
    const input = JSON.stringify(recoveryInput('compute-1', 'same'));
    const first = await s.client.send(new StartExecutionCommand({ stateMachineArn, name: 'dup', input }));
    const again = await s.client.send(new StartExecutionCommand({ stateMachineArn, name: 'dup', input }));
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate?.getTime()).toBe(first.startDate?.getTime());

    const other = JSON.stringify(recoveryInput('compute-1', 'other'));
    const refused = await s.client
      .send(new StartExecutionCommand({ stateMachineArn, name: 'dup', input: other }))
      .catch((e) => e);
    expect(refused).toBeInstanceOf(ExecutionAlreadyExists);
    expect(refused.$metadata.httpStatusCode).toBe(400);
    expect(refused.message).toContain(executionArn('dup'));

    await waitFor(
      () => describeStatus(s.client, executionArn('dup')),
      (d) => d.status !== 'RUNNING',
    );
    const closed = await s.client
      .send(new StartExecutionCommand({ stateMachineArn, name: 'dup', input }))
      .catch((e) => e);
    expect(closed).toBeInstanceOf(ExecutionAlreadyExists);
    expect((await s.client.send(new ListExecutionsCommand({ stateMachineArn }))).executions).toHaveLength(1);
  });

  it('validates names, ARNs and input as Step Functions does', async () => {
    const s = await startStack();
    const start = (name: string, input = '{}', arn = stateMachineArn) =>
      s.client.send(new StartExecutionCommand({ stateMachineArn: arn, name, input })).catch((e) => e);
    for (const bad of ['has space', 'a/b', 'x'.repeat(81), 'semi;colon', 'tab\tname', 'q?', 'ctl\u0001']) {
      expect(await start(bad), bad).toBeInstanceOf(InvalidName);
    }
    expect((await start('x'.repeat(80))).executionArn).toBe(executionArn('x'.repeat(80)));
    expect((await start('bad-json', '{nope')).name).toBe('InvalidExecutionInput');
    expect((await start('big', JSON.stringify({ pad: 'x'.repeat(262_144) }))).name).toBe(
      'ValidationException',
    );
    expect(await start('other-machine', '{}', `${stateMachineArn}-nope`)).toBeInstanceOf(
      StateMachineDoesNotExist,
    );
    const missing = await describeStatus(s.client, executionArn('never')).catch((e) => e);
    expect(missing).toBeInstanceOf(ExecutionDoesNotExist);
    const invalid = await describeStatus(s.client, 'arn:aws:states:us-east-1:1:execution:x:y').catch(
      (e) => e,
    );
    expect(invalid).toBeInstanceOf(InvalidArn);
    const badToken = await s.client
      .send(new ListExecutionsCommand({ stateMachineArn, nextToken: 'garbage' }))
      .catch((e) => e);
    expect(badToken.name).toBe('InvalidToken');
  });

  it('lists newest first with statusFilter, maxResults and nextToken', async () => {
    const s = await startStack();
    // Hosts that are up: each run ends quickly at HostNotDown (SUCCEEDED) after its confirm retries.
    for (const name of ['l-1', 'l-2', 'l-3', 'l-4', 'l-5']) {
      await s.client.send(
        new StartExecutionCommand({
          stateMachineArn,
          name,
          input: JSON.stringify(recoveryInput('compute-2', name)),
        }),
      );
      await new Promise((r) => setTimeout(r, 5));
    }
    await s.executions.idle();
    const names: string[] = [];
    for await (const page of paginateListExecutions({ client: s.client, pageSize: 2 }, { stateMachineArn })) {
      expect(page.executions?.length).toBeLessThanOrEqual(2);
      names.push(...(page.executions ?? []).map((e) => e.name ?? ''));
    }
    expect(names).toEqual(['l-5', 'l-4', 'l-3', 'l-2', 'l-1']);
    const running = await s.client.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING' }),
    );
    expect(running.executions).toEqual([]);
    const succeeded = await s.client.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'SUCCEEDED', maxResults: 3 }),
    );
    expect(succeeded.executions).toHaveLength(3);
    expect(succeeded.nextToken).toBeTruthy();
  });

  it('StopExecution aborts a running recovery and records who stopped it and why', async () => {
    // Rebuilds slow enough that the stop below lands while they run, even on a busy machine.
    const s = await startStack({ evacuateMs: 6000 });
    failHost(s.h, 'compute-1', 2);
    const arn = executionArn('to-stop');
    await s.client.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'to-stop',
        input: JSON.stringify(recoveryInput('compute-1')),
      }),
    );
    await waitFor(
      () => s.client.send(new GetExecutionHistoryCommand({ executionArn: arn })),
      (h) => (h.events ?? []).some((e) => e.type === 'MapIterationStarted'),
    );
    const stopped = await s.client.send(
      new StopExecutionCommand({ executionArn: arn, error: 'Operator.Stop', cause: 'wrong host' }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const described = await waitFor(
      () => describeStatus(s.client, arn),
      (d) => d.status !== 'RUNNING',
    );
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator.Stop', cause: 'wrong host' });
    await s.executions.idle();
    const { events = [] } = await s.client.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    const last = events.at(-1);
    expect(last?.type).toBe('ExecutionAborted');
    expect(last?.executionAbortedEventDetails).toEqual({ error: 'Operator.Stop', cause: 'wrong host' });
    expect(events.map((e) => e.type)).toContain('MapIterationAborted');
    expect(events.map((e) => e.type)).toContain('MapStateAborted');
    const again = await s.client.send(new StopExecutionCommand({ executionArn: arn }));
    expect(again.stopDate?.getTime()).toBe(described.stopDate?.getTime());
  });

  it('re-drives an execution a dead process left RUNNING, without evacuating anything twice', async () => {
    const first = await startStack({ evacuateMs: 1500 });
    const ids = failHost(first.h, 'compute-1', 3);
    const arn = executionArn('crash');
    await first.client.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'crash',
        input: JSON.stringify(recoveryInput('compute-1')),
      }),
    );
    await waitFor(
      async () => ids.filter((id) => first.h.sim.state.counters.evacuateAccepted.has(id)).length,
      (n) => n === 3,
    );
    // The process "dies": its store is closed, so it records nothing more, while its
    // in-flight steps carry on in the cloud. A new process on the same directory finds the
    // execution RUNNING and re-drives it from the start, with the same input.
    first.store.close();
    const second = await startStack({ dir: first.dir, h: first.h });
    expect((await describeStatus(second.client, arn)).status).toBe('RUNNING');
    expect(second.executions.redriveInterrupted()).toEqual([{ name: 'crash', from: 'EvacuateInstances' }]);
    const done = await waitFor(
      () => describeStatus(second.client, arn),
      (d) => d.status !== 'RUNNING',
    );
    expect(done.status).toBe('SUCCEEDED');
    expect(done.redriveCount).toBe(1);
    for (const id of ids) expect(first.h.sim.state.counters.evacuateAccepted.get(id)).toBe(1);
    const { events = [] } = await second.client.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'ExecutionStarted')).toHaveLength(1);
    expect(types.filter((t) => t === 'ExecutionRedriven')).toHaveLength(1);
    expect(
      events.find((e) => e.type === 'ExecutionRedriven')?.executionRedrivenEventDetails?.redriveCount,
    ).toBe(1);
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    await first.executions.idle();
  });
});

describe('both workflows behind one endpoint', () => {
  it("lists and describes the recovery and the drain, runs a drain, and keeps each one's executions apart", async () => {
    const { client, h, executions } = await startStack();
    const { stateMachines = [] } = await client.send(new ListStateMachinesCommand({}));
    expect(stateMachines.map((m) => m.name).sort()).toEqual([
      'freezer-dr-host-drain',
      'freezer-dr-host-recovery',
    ]);
    const described = await client.send(
      new DescribeStateMachineCommand({ stateMachineArn: drainStateMachineArn }),
    );
    expect(JSON.parse(described.definition ?? '{}').StartAt).toBe('CheckDrainHost');

    const server = h.sim.state.addServer({ host: 'compute-2', name: 'moving' });
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: drainStateMachineArn,
        name: 'drain-api-1',
        input: JSON.stringify(drainInput('compute-2')),
      }),
    );
    expect(started.executionArn).toBe(executionArn('drain-api-1', 'drain'));
    await executions.idle();
    const done = await client.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(done.status).toBe('SUCCEEDED');
    expect(done.stateMachineArn).toBe(drainStateMachineArn);
    expect(server.host).not.toBe('compute-2');
    const drains = await client.send(new ListExecutionsCommand({ stateMachineArn: drainStateMachineArn }));
    expect(drains.executions?.map((e) => e.name)).toEqual(['drain-api-1']);
    const recoveries = await client.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(recoveries.executions).toEqual([]);
    // A drain's execution is not found under the recovery's ARN.
    await expect(
      client.send(new DescribeExecutionCommand({ executionArn: executionArn('drain-api-1') })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });
});
