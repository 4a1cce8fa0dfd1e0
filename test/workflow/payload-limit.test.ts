// Step Functions' 256 KiB payload quota on the embedded engine: enforced where AWS enforces
// it (a state's input and output, a Task's parameters and result, Map iterations too),
// terminal (no Retry or Catch takes it), and the real workflow within it for a
// 1000-instance host with 40-character host names.
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterEach, describe, expect, it } from 'vitest';
import { type EngineEvent, LocalEngine } from '../../engine/local-engine.js';
import { checkStatePayload, MAX_PAYLOAD_BYTES, payloadBytes } from '../../engine/payload-limit.js';
import { withStateHooks } from '../../engine/state-hooks.js';
import { type Harness, recoveryInput, startHarness } from '../support/harness.js';

const limited = (options: RunOptions = {}) => withStateHooks(options, { onState: checkStatePayload });
const big = (bytes: number) => 'x'.repeat(bytes);

/** Runs a small definition with the engine's payload check; resolves to its outcome and events. */
async function run(definition: object, input: unknown, options: RunOptions = {}) {
  const execution = new StateMachine(definition as StateMachineDefinition).run(
    input as never,
    limited(options),
  );
  const events: { type: string; state?: { name: string }; Error?: string; Cause?: unknown }[] = [];
  const pump = (async () => {
    for await (const event of execution.eventLogs) events.push(event as never);
  })();
  const outcome = await execution.result.then(
    (output) => ({ status: 'SUCCEEDED', output, error: null as string | null }),
    (error: Error) => ({ status: 'FAILED', output: null, error: (error.cause as Error)?.name ?? error.name }),
  );
  await pump;
  return {
    ...outcome,
    events,
    entered: events.filter((e) => e.type === 'StateEntered').map((e) => e.state?.name),
  };
}

describe('the embedded engine enforces 256 KiB per state', () => {
  it('fails the run with States.DataLimitExceeded at the state whose output is too big, and runs nothing after it', async () => {
    let notified = 0;
    const outcome = await run(
      {
        StartAt: 'Double',
        States: {
          Double: { Type: 'Pass', Parameters: { 'a.$': '$.a', 'b.$': '$.a' }, Next: 'Notify' },
          Notify: { Type: 'Task', Resource: 'arn:aws:lambda:local:000000000000:function:notify', End: true },
        },
      },
      { a: big(140_000) },
      {
        overrides: {
          taskResourceLocalHandlers: {
            Notify: () => {
              notified += 1;
              return { notified };
            },
          },
        },
      },
    );
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('States.DataLimitExceeded');
    const failed = outcome.events.find((e) => e.type === 'ExecutionFailed');
    expect(failed?.Cause).toMatch(/^the output of Double is 280,0\d\d bytes, over the 262,144-byte limit/);
    expect(outcome.entered).toEqual(['Double']);
    expect(notified).toBe(0);
  });

  it('lets a state of exactly 262,144 bytes through', async () => {
    const text = big(MAX_PAYLOAD_BYTES - payloadBytes({ a: '' }));
    const outcome = await run(
      { StartAt: 'Keep', States: { Keep: { Type: 'Pass', End: true } } },
      { a: text },
    );
    expect(payloadBytes(outcome.output)).toBe(MAX_PAYLOAD_BYTES);
    expect(outcome.status).toBe('SUCCEEDED');
  });

  it('is terminal: inside a Map iteration neither Retry nor a States.ALL Catch takes it', async () => {
    const outcome = await run(
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: {
              ProcessorConfig: { Mode: 'INLINE' },
              StartAt: 'Grow',
              States: { Grow: { Type: 'Pass', Parameters: { 'a.$': '$.a', 'b.$': '$.a' }, End: true } },
            },
            Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2, IntervalSeconds: 0 }],
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
            End: true,
          },
          Caught: { Type: 'Succeed' },
        },
      },
      { items: [{ a: big(100) }, { a: big(140_000) }] },
    );
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('States.DataLimitExceeded');
    expect(outcome.entered).not.toContain('Caught');
    expect(outcome.events.filter((e) => e.type === 'StateRetried')).toEqual([]);
  });
});

let h: Harness;
afterEach(async () => h?.close());

/** The largest input or output of any state the run entered or left. */
function largestState(events: readonly EngineEvent[]): { state: string; bytes: number } {
  let largest = { state: '', bytes: 0 };
  for (const event of events) {
    if (event.type !== 'StateEntered' && event.type !== 'StateExited') continue;
    const bytes = payloadBytes(event.type === 'StateEntered' ? event.state.input : event.state.output);
    if (bytes > largest.bytes) largest = { state: event.state.name, bytes };
  }
  return largest;
}

describe('the recovery workflow within 256 KiB', () => {
  it('recovers a 1000-instance host with 40-character host names, every state well under the limit', async () => {
    const hosts = [1, 2, 3, 4].map((i) => `compute-${i}.rack-07.dc-eu-west.example.org`.padEnd(40, 'x'));
    h = await startHarness({
      sim: { hosts, evacuateMs: 5, hostRamMb: 4_000_000, hostVcpus: 10_000, hostDiskGb: 100_000 },
      recovery: { evacuation: { maxConcurrency: 40, verifyPollMs: 10, verifyBudgetSeconds: 5 } },
    });
    const failed = hosts[0] as string;
    expect(failed).toHaveLength(40);
    for (let i = 0; i < 1000; i += 1) h.sim.state.addServer({ host: failed, name: `vm-${i}` });
    h.sim.state.killCompute(failed, { reportedAgoMs: 120_000 });

    const run = h.engine.start(recoveryInput(failed), 'thousand-long-names');
    const outcome = await run.done;

    expect(outcome.error).toBeNull();
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.output).toMatchObject({ summary: { selected: 1000, recovered: 1000, failed: 0 } });
    // 293 KiB before results were made small (147 KiB now); room is left for 1000 failure reasons.
    const largest = largestState(run.events);
    expect(largest.bytes).toBeLessThan(0.8 * MAX_PAYLOAD_BYTES);
    // Where each instance landed is still reported: the report reads it back from Nova.
    const [report] = h.notifier.reports;
    expect(report?.instances).toHaveLength(1000);
    expect(report?.instances.every((i) => i.toHost !== null && i.toHost !== failed)).toBe(true);
  }, 180_000);

  it('still summarizes and reports when all 1000 instances fail with long reasons (the worst case)', async () => {
    const hosts = [1, 2, 3, 4].map((i) => `compute-${i}.rack-07.dc-eu-west.example.org`.padEnd(40, 'x'));
    h = await startHarness({
      sim: { hosts, evacuateMs: 5, hostRamMb: 4_000_000, hostVcpus: 10_000, hostDiskGb: 100_000 },
      recovery: { evacuation: { maxConcurrency: 40, verifyPollMs: 10, verifyBudgetSeconds: 5 } },
    });
    const failed = hosts[0] as string;
    for (let i = 0; i < 1000; i += 1) h.sim.state.addServer({ host: failed, name: `vm-${i}` });
    h.sim.state.killCompute(failed, { reportedAgoMs: 120_000 });
    // Nova refuses every evacuation with a long answer; the reasons are cut in the state.
    const engine = new LocalEngine({
      runtime: async () => h.rt,
      retryIntervalMs: 10,
      waitMs: 20,
      handlers: {
        EvacuateInstanceFunctionArn: async () => ({
          action: 'refused',
          prior: 'ACTIVE',
          lockedByUs: false,
          startedAt: new Date().toISOString(),
          target: null,
          reason: `Nova 400: ${'no valid host was found for this instance on any aggregate; '.repeat(4)}`,
        }),
      },
    });

    const run = engine.start(recoveryInput(failed), 'thousand-refused');
    const outcome = await run.done;

    expect(outcome.error).toBe('Recovery.Incomplete');
    expect(largestState(run.events).bytes).toBeLessThan(MAX_PAYLOAD_BYTES);
    const [report] = h.notifier.reports;
    expect(report?.counts).toMatchObject({ selected: 1000, recovered: 0, failed: 1000 });
    expect(report?.instances[0]?.reason).toMatch(/^Nova 400: no valid host was found.{20,}…$/);
  }, 180_000);

  it('fails with States.DataLimitExceeded where the input first crosses the limit, before any function runs', async () => {
    h = await startHarness();
    h.sim.state.addServer({ host: 'compute-1' });
    h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    // An execution input of 262,100 bytes is accepted; ConfirmHostFailure's Parameters add its name.
    const base = { ...recoveryInput('compute-1'), alert: { note: '' } };
    const input = { ...base, alert: { note: big(262_100 - payloadBytes(base)) } };
    expect(payloadBytes(input)).toBe(262_100);
    const requestsBefore = h.sim.state.counters.requests;

    const outcome = await h.engine.start(input, 'too-big').done;

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('States.DataLimitExceeded');
    expect(outcome.cause).toMatch(/^the input of ConfirmHostFailure after Parameters is 262,\d{3} bytes/);
    expect(h.sim.state.counters.requests).toBe(requestsBefore); // Nova never asked
    expect(h.sim.state.host('compute-1').power).toBe('on');
    expect(h.notifier.reports).toEqual([]);
  });
});
