// Bad input to any Task handler: a clear error naming the field, and nothing happens.
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { taskFunctions } from '../../functions/catalog.js';
import { type Harness, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => h?.close());

const context = {} as Context;

describe('task handlers validate their input', () => {
  it.each([
    ['FenceHostFunctionArn', { host: 'compute-1; reboot', incident: 'x' }, /host: must be a host name/],
    ['FenceHostFunctionArn', { incident: 'x' }, /host: .*expected string/i],
    [
      'EvacuateInstanceFunctionArn',
      { id: '../etc', host: 'compute-1', incident: 'x' },
      /id: must be a server id/,
    ],
    ['EvacuateInstanceFunctionArn', { id: 'abc', host: 'compute-1' }, /incident/],
    ['MarkHostDownFunctionArn', { host: 'compute-1', incident: 'x' }, /fence/],
    [
      'VerifyInstanceFunctionArn',
      { id: 'abc', host: 'compute-1', evacuation: { action: 'teleported' } },
      /evacuation\.action/,
    ],
    ['NotifyFunctionArn', { kind: 'party', host: 'compute-1' }, /kind/],
  ])('%s rejects %j', async (key, event, message) => {
    h = await startHarness();
    const server = h.sim.state.addServer({ host: 'compute-1' });
    h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const handler = taskFunctions[key]?.create(async () => h.rt);
    const error = (await handler?.(event, context).catch((e) => e)) as Error;
    expect(error.name).toBe('Input.Invalid');
    expect(error.message).toMatch(message);
    expect(h.sim.state.counters.powerOffCalls.size).toBe(0);
    expect(h.sim.state.counters.evacuateAccepted.size).toBe(0);
    expect(server.host).toBe('compute-1');
  });

  it('a valid input runs the step', async () => {
    h = await startHarness();
    h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    const handler = taskFunctions.FenceHostFunctionArn?.create(async () => h.rt);
    const result = (await handler?.({ host: 'compute-1', incident: 'x' }, context)) as {
      offRequested: boolean;
    };
    expect(result.offRequested).toBe(true);
    expect(h.sim.state.host('compute-1').power).toBe('off');
  });
});
